"""Images the scan tests make: Pillow-drawn, and scikit-image's real photos."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

import skimage

PHOTOS = Path(skimage.__file__).parent / "data"  # shipped in the wheel: no download


def photo(name: str) -> bytes:
    """A real photo of scikit-image's (coffee.png: a cup of coffee; chelsea.png: a cat)."""
    return (PHOTOS / name).read_bytes()


def encode(image: Image.Image, fmt: str = "JPEG", orientation: int | None = None, **options) -> bytes:
    out = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    image.save(out, fmt, **options)
    return out.getvalue()


def quadrants(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Four solid colours: red top-left, green top-right, blue bottom-left,
    white bottom-right, so any turn or flip shows."""
    w, h = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, w // 2, h // 2), fill=(255, 0, 0))
    draw.rectangle((w // 2, 0, w, h // 2), fill=(0, 255, 0))
    draw.rectangle((0, h // 2, w // 2, h), fill=(0, 0, 255))
    draw.rectangle((w // 2, h // 2, w, h), fill=(255, 255, 255))
    return image


# The transpose that stores an upright image so that EXIF ``orientation``
# turns it back (the inverse of what a viewer applies).
STORE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def stored_with_orientation(upright: Image.Image, orientation: int, fmt: str = "JPEG") -> bytes:
    """``upright`` stored turned, with the EXIF tag that shows it upright again."""
    stored = upright.transpose(STORE[orientation]) if orientation in STORE else upright
    return encode(stored, fmt, orientation=orientation, **({"quality": 95} if fmt == "JPEG" else {}))


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Incompressible pixels (a large JPEG of realistic weight)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
