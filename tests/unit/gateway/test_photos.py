"""Photo re-encoding: fits the limit, stays a sane size, refuses bombs and broken files."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from helpdesk_gateway.domain.photos import (
    CANNOT_FIT,
    CORRUPTED,
    NOT_AN_IMAGE,
    TOO_MANY_PIXELS,
    reencode_jpeg,
)
from helpdesk_gateway.errors import PhotoRejectedError
from PIL import Image

MB = 1024 * 1024


def noisy_jpeg(width: int, height: int, quality: int = 95) -> bytes:
    """Random pixels compress badly: the worst case for the size limit."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def encode(data: bytes, **overrides: int) -> tuple[int, int, int]:
    limits = {"max_bytes": 2 * MB, "max_pixels": 40_000_000, "max_side": 2560, **overrides}
    photo = reencode_jpeg(data, **limits)
    with Image.open(io.BytesIO(photo.data)) as decoded:
        assert decoded.format == "JPEG"
        assert decoded.size == (photo.width, photo.height)
    return photo.size, photo.width, photo.height


def test_a_large_noisy_photo_is_scaled_and_compressed_under_the_limit() -> None:
    data = noisy_jpeg(3000, 2000)
    assert len(data) > 2 * MB
    size, width, height = encode(data, max_side=2560)
    assert size <= 2 * MB
    assert max(width, height) <= 2560
    assert abs(width / height - 1.5) < 0.01


def test_a_tight_limit_is_met_by_shrinking_further() -> None:
    size, width, _ = encode(noisy_jpeg(1600, 1200), max_bytes=200_000)
    assert size <= 200_000
    assert width < 1600


def test_transparency_becomes_white_and_the_result_is_rgb() -> None:
    image = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    photo = reencode_jpeg(out.getvalue(), max_bytes=MB, max_pixels=10**6, max_side=2560)
    with Image.open(io.BytesIO(photo.data)) as decoded:
        assert decoded.mode == "RGB"
        red, green, blue = decoded.getpixel((20, 15))  # type: ignore[misc]
        assert min(red, green, blue) > 240


def test_exif_rotation_is_applied_and_metadata_dropped() -> None:
    image = Image.new("RGB", (60, 20), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    photo = reencode_jpeg(out.getvalue(), max_bytes=MB, max_pixels=10**6, max_side=2560)
    assert (photo.width, photo.height) == (20, 60)
    with Image.open(io.BytesIO(photo.data)) as decoded:
        assert not decoded.getexif()


def test_the_same_picture_gives_the_same_digest() -> None:
    data = noisy_jpeg(200, 100)
    first = reencode_jpeg(data, max_bytes=MB, max_pixels=10**6, max_side=2560)
    second = reencode_jpeg(data, max_bytes=MB, max_pixels=10**6, max_side=2560)
    assert first.sha256 == second.sha256
    assert len(first.sha256) == 64


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: a decompression bomb as far as the header goes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(20_000, 20_000), (100_000, 100_000)])
def test_decompression_bombs_are_refused_from_the_header(size: tuple[int, int]) -> None:
    with pytest.raises(PhotoRejectedError) as caught:
        reencode_jpeg(png_header_only(*size), max_bytes=MB, max_pixels=40_000_000, max_side=2560)
    assert caught.value.reason == TOO_MANY_PIXELS


def test_a_truncated_jpeg_is_reported_as_corrupted() -> None:
    data = noisy_jpeg(400, 300)
    with pytest.raises(PhotoRejectedError) as caught:
        reencode_jpeg(data[: len(data) // 3], max_bytes=MB, max_pixels=10**6, max_side=2560)
    assert caught.value.reason == CORRUPTED


@pytest.mark.parametrize("data", [b"%PDF-1.7 not a picture", b"", os.urandom(2048)])
def test_other_files_are_not_images(data: bytes) -> None:
    with pytest.raises(PhotoRejectedError) as caught:
        reencode_jpeg(data, max_bytes=MB, max_pixels=10**6, max_side=2560)
    assert caught.value.reason == NOT_AN_IMAGE


def test_a_limit_no_photo_can_meet_is_refused() -> None:
    with pytest.raises(PhotoRejectedError) as caught:
        reencode_jpeg(noisy_jpeg(1000, 1000), max_bytes=1000, max_pixels=10**7, max_side=2560)
    assert caught.value.reason == CANNOT_FIT
