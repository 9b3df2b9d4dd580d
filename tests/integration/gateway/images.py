"""Pictures for the tests, made on the spot."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def jpeg(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small distinct JPEG (each seed another colour, so another digest)."""
    colour = ((seed * 97) % 256, (seed * 57) % 256, (seed * 31) % 256)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header claims a huge picture."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
