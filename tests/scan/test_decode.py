"""Decoding photos: formats, EXIF orientation, and every way a photo is refused."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from eco2.scan import decode as d

from .images import encode, noise, photo, quadrants, stored_with_orientation


def corner_colours(pixels: np.ndarray) -> list[tuple[int, ...]]:
    """The colour near each corner of a decoded image: TL, TR, BL, BR."""
    img = pixels[0]
    n = img.shape[0]
    at = (n // 6, n - 1 - n // 6)
    return [tuple(int(round(v / 255)) * 255 for v in img[y, x]) for y in at for x in at]


UPRIGHT = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_each_format_decodes_to_the_model_input(fmt: str) -> None:
    out = d.decode(encode(quadrants(), fmt))
    assert out.pixels.shape == (1, 224, 224, 3) and out.pixels.dtype == np.uint8
    assert out.format == fmt and (out.width, out.height) == (400, 300)
    assert corner_colours(out.pixels) == UPRIGHT


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_honoured(orientation: int, fmt: str) -> None:
    """A photo stored turned, with the tag that turns it back, decodes upright."""
    out = d.decode(stored_with_orientation(quadrants(), orientation, fmt))
    assert out.orientation == orientation
    assert corner_colours(out.pixels) == UPRIGHT


def test_a_real_photo_turned_by_exif_decodes_like_the_upright_one() -> None:
    upright = Image.open(io.BytesIO(photo("coffee.png"))).convert("RGB")
    a = d.decode(encode(upright, "JPEG", quality=95)).pixels.astype(int)
    b = d.decode(stored_with_orientation(upright, 6)).pixels.astype(int)
    assert np.abs(a - b).mean() < 4  # the same picture, up to JPEG's loss


def test_large_jpeg_is_decoded_in_draft_mode() -> None:
    """12 MP in: libjpeg scales by 1/8 while decoding (the draft), so the
    image resized is 500x375, not 4000x3000."""
    data = encode(noise((4000, 3000)), "JPEG", quality=80)
    image = d.open_image(data)
    image.draft("RGB", (256, 256))
    assert image.size == (500, 375)
    assert d.decode(data).pixels.shape == (1, 224, 224, 3)


def test_palette_alpha_and_greyscale_images_decode() -> None:
    for mode in ("P", "RGBA", "L", "LA", "1", "CMYK"):
        img = quadrants().convert(mode)
        fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
        assert d.decode(encode(img, fmt)).pixels.shape == (1, 224, 224, 3), mode


# --- refusals --------------------------------------------------------------------------

def gif() -> bytes:
    return encode(quadrants(), "GIF")


@pytest.mark.parametrize("data", [
    b"", b"hello, this is text", b'{"image_url": "x"}', b"\x00" * 1000, b"%PDF-1.7\n",
], ids=["empty", "text", "json", "zeros", "pdf"])
def test_not_an_image_is_unsupported(data: bytes) -> None:
    with pytest.raises(d.UnsupportedImage) as info:
        d.decode(data)
    assert info.value.status == 415


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_formats_we_do_not_read_are_unsupported(fmt: str) -> None:
    with pytest.raises(d.UnsupportedImage):
        d.decode(encode(quadrants((64, 48)), fmt))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_image_is_corrupt(fmt: str) -> None:
    data = encode(noise((600, 400)), fmt)
    with pytest.raises(d.CorruptImage) as info:
        d.decode(data[: len(data) // 2])
    assert info.value.status == 422


def test_damaged_png_is_corrupt() -> None:
    data = bytearray(encode(noise((200, 150)), "PNG"))
    data[200:260] = b"\xff" * 60  # inside the first IDAT: a bad CRC and bad zlib data
    with pytest.raises(d.CorruptImage):
        d.decode(bytes(data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with one tiny (wrong) IDAT:
    a decompression bomb's header without the bomb."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(8000, 5001), (10000, 10000), (100000, 100000)])
def test_too_many_pixels_is_refused_from_the_header(size: tuple[int, int]) -> None:
    """Over 40 MP (Pillow would only warn up to 80 MP, and raise above)."""
    with pytest.raises(d.TooManyPixels) as info:
        d.decode(png_header_only(*size))
    assert info.value.status == 422


def test_exactly_the_limit_is_accepted_as_far_as_pixels_go() -> None:
    # 40 MP exactly passes the pixel check (the fake IDAT then fails as corrupt).
    with pytest.raises(d.CorruptImage):
        d.decode(png_header_only(8000, 5000), max_full_pixels=d.MAX_PIXELS)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_full_size_formats_have_a_lower_limit(fmt: str) -> None:
    """PNG and WebP cannot be decoded at reduced scale: above 16 MP, refused."""
    big = encode(Image.new("RGB", (5000, 3300), (200, 30, 30)), fmt)
    with pytest.raises(d.TooManyPixels, match="send a JPEG"):
        d.decode(big)
    assert d.decode(big, max_full_pixels=17_000_000).pixels.shape == (1, 224, 224, 3)
    jpeg = encode(Image.new("RGB", (5000, 3300), (200, 30, 30)), "JPEG")
    assert d.decode(jpeg).pixels.shape == (1, 224, 224, 3)  # a JPEG that size is fine


def test_a_real_bomb_is_refused_before_any_pixel_is_decoded() -> None:
    """A 1-bit 50 MP PNG compresses to a few kB."""
    data = encode(Image.new("1", (10000, 5000)), "PNG")
    assert len(data) < 100_000
    with pytest.raises(d.TooManyPixels):
        d.decode(data)


def test_pillow_warnings_raised_as_errors_still_give_a_domain_error() -> None:
    """Where warnings are errors (as under `python -W error`), Pillow's bomb
    warning and its EXIF warnings must not escape as anything but ImageError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(d.TooManyPixels):
            d.decode(png_header_only(8000, 6000), max_pixels=100_000_000)
        jpeg = bytearray(encode(quadrants(), "JPEG", orientation=6))
        start = jpeg.find(b"Exif\x00\x00")
        jpeg[start + 6: start + 14] = b"XX\x00\x00\xff\xff\xff\xff"  # a broken TIFF header
        try:
            d.decode(bytes(jpeg))
        except d.ImageError:
            pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_bytes_never_raise_anything_but_image_error(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(SAMPLES))
    cuts = data.draw(st.lists(st.tuples(st.integers(0, len(base) - 1), st.binary(min_size=1, max_size=8)),
                              max_size=6))
    damaged = bytearray(base)
    for at, patch in cuts:
        damaged[at: at + len(patch)] = patch
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    try:
        out = d.decode(bytes(damaged))
    except d.ImageError:
        return
    assert out.pixels.shape == (1, 224, 224, 3)


SAMPLES = [encode(quadrants((120, 90)), fmt) for fmt in ("JPEG", "PNG", "WEBP")] + [
    encode(quadrants((120, 90)), "JPEG", orientation=6)
]
