"""Image facts the Bot API reports (sizes, a thumbnail), computed with Pillow."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

THUMBNAIL_SIDE = 90


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height), or None when the bytes are not an image Pillow can read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def thumbnail(data: bytes) -> tuple[bytes, int, int] | None:
    """A small JPEG like the one Telegram puts first in `Message.photo`, or None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            small = image.convert("RGB")
            small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            out = io.BytesIO()
            small.save(out, format="JPEG", quality=70)
            return out.getvalue(), small.width, small.height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
