"""Photo bytes to the model's input: a centre crop, EXIF orientation honoured.

Only JPEG, PNG and WebP are read (what the app's camera and the upload
function produce). Every way a photo can be refused is a :class:`ImageError`
with the HTTP status the route should answer:

- :class:`UnsupportedImage` (415): not an image, or a format we do not read;
- :class:`CorruptImage` (422): a truncated or damaged file of a format we read;
- :class:`TooManyPixels` (422): more pixels than the limit (a decompression
  bomb); checked from the header, before any pixel is decoded.

Memory: a JPEG is decoded in draft mode (below): +17 MB of peak RSS for a
40 MP one. PNG and WebP have no such mode and are decoded at full size, which
Pillow does with copies (measured: +320 MB for a 40 MP RGBA PNG, +640 MB for a
40 MP WebP). They therefore have a lower pixel limit of their own
(``max_full_pixels``, 16 MP by default: +138 MB for an RGBA PNG, +275 MB for a
WebP; a phone camera's photo is a JPEG), and one process decodes at most one
of them above 4 MP at a time, so that eight threads cannot multiply the peak.

Speed: a 12-megapixel JPEG is decoded in draft mode, at 1/2, 1/4 or 1/8 scale
by libjpeg's DCT scaling, never at full size; the crop and the resize to the
model's input are one ``resize(box=...)``; the EXIF orientation is applied to
the 224×224 result instead of the full photo (a centre-square crop is the same
square whichever way the photo is turned).
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    import numpy as np

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 40_000_000
MAX_FULL_PIXELS = 16_000_000  # PNG and WebP: decoded at full size
LARGE_FULL_DECODE = 4_000_000  # above this, full-size decodes take turns
_full_size = threading.Lock()
# Modes that resize as they are (and convert to RGB afterwards, on 224×224
# pixels instead of the full image); others convert first ("P" and "1" would
# resize with nearest neighbour, "CMYK" and "I;16" not at all).
_RESIZABLE = frozenset({"RGB", "RGBA", "L", "LA"})
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


Box = tuple[float, float, float, float]


def _render(data: bytes, *, draft: int, layout: Callable[[int, int], tuple[tuple[int, int], Box]],
            max_pixels: int, max_full_pixels: int) -> tuple[Image.Image, str, int, int, int]:
    """Open, check, decode (in draft mode down to ``draft`` pixels on the
    short side for a JPEG), crop and resize as ``layout(w, h)`` says (the output
    size and the source box), then turn upright: (image, format, stored width,
    stored height, orientation applied)."""
    image = open_image(data, max_pixels=max_pixels)
    width, height = image.size
    fmt = image.format or "?"
    full = fmt != "JPEG"
    if full and width * height > max_full_pixels:
        image.close()
        raise TooManyPixels(
            f"a {fmt} image is decoded at full size: at most {max_full_pixels:,} pixels (send a JPEG)"
        )
    turn = _full_size if full and width * height > LARGE_FULL_DECODE else contextlib.nullcontext()
    try:
        with turn:
            orientation = int(image.getexif().get(_ORIENTATION, 1) or 1)
            if fmt == "JPEG":
                image.draft("RGB", (draft, draft))
            if image.mode not in _RESIZABLE:
                image = image.convert("RGB")
            out_size, box = layout(*image.size)  # the size after draft
            small = image.resize(out_size, Image.Resampling.BILINEAR, box=box, reducing_gap=3.0)
        if small.mode != "RGB":
            small = small.convert("RGB")
        if orientation not in _TRANSPOSE:
            return small, fmt, width, height, 1
        return small.transpose(_TRANSPOSE[orientation]), fmt, width, height, orientation
    except Exception as exc:  # noqa: BLE001 - see _corrupt
        raise _corrupt(exc) from None
    finally:
        image.close()


def decode(data: bytes, *, size: int = 224, crop: float = 0.875, max_pixels: int = MAX_PIXELS,
           max_full_pixels: int = MAX_FULL_PIXELS) -> Decoded:
    """The model's input for ``data``: the centre square of side ``crop`` × the
    short side, resized to ``size`` × ``size``, upright. Raises :class:`ImageError`."""
    import numpy as np

    def centre(w: int, h: int) -> tuple[tuple[int, int], Box]:
        edge = min(w, h) * crop
        return (size, size), ((w - edge) / 2, (h - edge) / 2, (w + edge) / 2, (h + edge) / 2)

    # Draft: the smallest DCT scale whose short side still covers the crop.
    small, fmt, width, height, orientation = _render(
        data, draft=math.ceil(size / crop), layout=centre, max_pixels=max_pixels,
        max_full_pixels=max_full_pixels,
    )
    return Decoded(np.asarray(small, dtype=np.uint8)[np.newaxis], fmt, width, height, orientation)


def preview(data: bytes, *, max_side: int = 768, max_pixels: int = MAX_PIXELS,
            max_full_pixels: int = MAX_FULL_PIXELS) -> bytes:
    """A JPEG of at most ``max_side`` on the long side, upright: what is sent
    to a vision model instead of the full photo. Raises :class:`ImageError`."""

    def whole(w: int, h: int) -> tuple[tuple[int, int], Box]:
        scale = min(1.0, max_side / max(w, h))
        return (max(1, round(w * scale)), max(1, round(h * scale))), (0, 0, w, h)

    small, *_ = _render(data, draft=max_side, layout=whole, max_pixels=max_pixels,
                        max_full_pixels=max_full_pixels)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return out.getvalue()


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

