"""Photo bytes to the model's input: a centre crop, EXIF orientation honoured.

Only JPEG, PNG and WebP are read (what the app's camera and the upload
function produce). Every way a photo can be refused is a :class:`ImageError`
with the HTTP status the route should answer:

- :class:`UnsupportedImage` (415): not an image, or a format we do not read;
- :class:`CorruptImage` (422): a truncated or damaged file of a format we read;
- :class:`TooManyPixels` (422): more pixels than the limit (a decompression
  bomb); checked from the header, before any pixel is decoded.

Speed: a 12-megapixel JPEG is decoded in draft mode, at 1/2, 1/4 or 1/8 scale
by libjpeg's DCT scaling, never at full size; the crop and the resize to the
model's input are one ``resize(box=...)``; the EXIF orientation is applied to
the 224×224 result instead of the full photo (a centre-square crop is the same
square whichever way the photo is turned).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    import numpy as np

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 40_000_000
# Pillow's own bomb check, in Image.open, warns above MAX_IMAGE_PIXELS and
# raises above twice that. Set explicitly to our limit; open_image refuses
# anything above it from the header, whether Pillow warned (the warning is a
# log line, or an exception where warnings are errors: both end as
# TooManyPixels), raised, or, for a lower max_pixels, said nothing.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# EXIF orientation tag -> the transpose that shows the photo upright, as
# ImageOps.exif_transpose does; ours runs on the small crop (see above), where
# exif_transpose would have to turn the full-size image.
_ORIENTATION = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageError(ValueError):
    """A photo that cannot be classified; ``status`` is the HTTP answer."""

    status = 422
    code = "invalid-image"


class UnsupportedImage(ImageError):
    status = 415
    code = "unsupported-image"


class CorruptImage(ImageError):
    status = 422
    code = "corrupt-image"


class TooManyPixels(ImageError):
    status = 422
    code = "too-many-pixels"


@dataclass(frozen=True)
class Decoded:
    pixels: "np.ndarray"  # uint8, [1, size, size, 3], RGB, upright
    format: str  # JPEG, PNG or WEBP
    width: int  # of the photo as stored (before orientation)
    height: int
    orientation: int  # the EXIF orientation applied (1: none)


def open_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The photo opened (header read, pixels not yet decoded) and checked:
    format and pixel count. Raises :class:`ImageError`."""
    if not data:
        raise UnsupportedImage("the body is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise UnsupportedImage("not a JPEG, PNG or WebP image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels(f"more than {max_pixels:,} pixels") from None
    except Exception as exc:  # noqa: BLE001 - see _corrupt
        raise _corrupt(exc) from None
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptImage("the image has no pixels")
    if width * height > max_pixels:
        raise TooManyPixels(f"{width}×{height} is more than {max_pixels:,} pixels")
    return image


def decode(data: bytes, *, size: int = 224, crop: float = 0.875, max_pixels: int = MAX_PIXELS) -> Decoded:
    """The model's input for ``data``: the centre square of side ``crop`` × the
    short side, resized to ``size`` × ``size``, upright. Raises :class:`ImageError`."""
    import numpy as np

    image = open_image(data, max_pixels=max_pixels)
    width, height = image.size
    fmt = image.format or "?"
    try:
        orientation = int(image.getexif().get(_ORIENTATION, 1) or 1)
        # Draft: the smallest DCT scale whose short side still covers the crop.
        side = math.ceil(size / crop)
        if fmt == "JPEG":
            image.draft("RGB", (side, side))
        if image.mode != "RGB":
            image = image.convert("RGB")
        w, h = image.size  # after draft
        edge = min(w, h) * crop
        box = ((w - edge) / 2, (h - edge) / 2, (w + edge) / 2, (h + edge) / 2)
        small = image.resize((size, size), Image.Resampling.BILINEAR, box=box, reducing_gap=3.0)
        if orientation in _TRANSPOSE:
            small = small.transpose(_TRANSPOSE[orientation])
        pixels = np.asarray(small, dtype=np.uint8)[np.newaxis]
    except Exception as exc:  # noqa: BLE001 - see _corrupt
        raise _corrupt(exc) from None
    finally:
        image.close()
    return Decoded(pixels, fmt, width, height, orientation if orientation in _TRANSPOSE else 1)


def _corrupt(exc: Exception) -> ImageError:
    """Pillow's format parsers raise many exception types on damaged input
    (OSError for truncation, SyntaxError, ValueError, struct.error, EOFError,
    IndexError, and a warning turned into an error where warnings are errors);
    for a file that passed the format check, each of them means it is damaged."""
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return TooManyPixels("too many pixels")
    if isinstance(exc, OSError) and "truncated" in str(exc):
        return CorruptImage("the image is truncated")
    return CorruptImage(f"the image could not be decoded ({type(exc).__name__})")


def preview(data: bytes, *, max_side: int = 768, max_pixels: int = MAX_PIXELS) -> bytes:
    """A JPEG of at most ``max_side`` on the long side, upright: what is sent
    to a vision model instead of the full photo. Raises :class:`ImageError`."""
    image = open_image(data, max_pixels=max_pixels)
    try:
        orientation = int(image.getexif().get(_ORIENTATION, 1) or 1)
        if image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))
        small = image.convert("RGB")
        small.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=3.0)
        if orientation in _TRANSPOSE:
            small = small.transpose(_TRANSPOSE[orientation])
        out = io.BytesIO()
        small.save(out, "JPEG", quality=85)
        return out.getvalue()
    except Exception as exc:  # noqa: BLE001 - see _corrupt
        raise _corrupt(exc) from None
    finally:
        image.close()
