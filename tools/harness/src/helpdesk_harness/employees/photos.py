"""Photos the scripted employees attach."""

from __future__ import annotations

import io

from PIL import Image


def small_photo(seed: int) -> bytes:
    """A small JPEG, different per person (the gateway refuses the same photo twice)."""
    out = io.BytesIO()
    Image.new("RGB", (96, 64), (seed * 37 % 256, seed * 91 % 256, 128)).save(out, "JPEG")
    return out.getvalue()
