"""Photo re-encoding: any image Pillow reads becomes a JPEG that fits the attachment limit.

InfraManager drops attachments over 2 MB by default, so every photo is re-encoded (EXIF rotation
applied, colours converted to sRGB, then every piece of metadata dropped: EXIF (GPS, device), XMP,
ICC, JPEG COM and GIF comments; transparency flattened on white), scaled down to a longest
side, and compressed in quality steps; if it still does not fit it is scaled down further.
Decompression bombs are refused from the header alone, before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from helpdesk_gateway.errors import PhotoRejectedError
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

QUALITY_STEPS = (85, 75, 65, 55, 45)
SHRINK_FACTOR = 0.75
MIN_SIDE = 320
JPEG = "image/jpeg"

# The reasons double as locale keys (`photo-<reason>`), so the user reads why.
NOT_AN_IMAGE = "not-an-image"
CORRUPTED = "corrupted"
TOO_MANY_PIXELS = "too-many-pixels"
CANNOT_FIT = "cannot-fit"
TOO_LARGE = "too-large"


@dataclass(frozen=True, slots=True)
class EncodedPhoto:
    data: bytes
    width: int
    height: int
    sha256: str
    content_type: str = JPEG

    @property
    def size(self) -> int:
        return len(self.data)


def reencode_jpeg(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int) -> EncodedPhoto:
    """Re-encode an image to a JPEG of at most `max_bytes`; raises PhotoRejectedError."""
    image = _open(data, max_pixels=max_pixels, max_side=max_side)
    try:
        image = _normalise(image, max_side=max_side)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PhotoRejectedError(CORRUPTED) from exc
    while True:
        for quality in QUALITY_STEPS:
            encoded = _encode(image, quality)
            if len(encoded) <= max_bytes:
                return EncodedPhoto(
                    data=encoded,
                    width=image.width,
                    height=image.height,
                    sha256=hashlib.sha256(encoded).hexdigest(),
                )
        if min(image.size) * SHRINK_FACTOR < MIN_SIDE:
            raise PhotoRejectedError(CANNOT_FIT)
        image = image.resize(
            (int(image.width * SHRINK_FACTOR), int(image.height * SHRINK_FACTOR)),
            Image.Resampling.LANCZOS,
        )


def _open(data: bytes, *, max_pixels: int, max_side: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse either way.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise PhotoRejectedError(TOO_MANY_PIXELS)
            if image.format == "JPEG":
                # Let libjpeg decode at a reduced scale (never below max_side): a 48 MP photo
                # does not have to be decoded in full only to be scaled down.
                image.draft("RGB", (max_side, max_side))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejectedError(TOO_MANY_PIXELS) from exc
    except UnidentifiedImageError as exc:
        raise PhotoRejectedError(NOT_AN_IMAGE) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PhotoRejectedError(CORRUPTED) from exc
    return image


def _normalise(image: Image.Image, *, max_side: int) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image = _srgb_without_metadata(image)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


_SRGB = ImageCms.createProfile("sRGB")


def _srgb_without_metadata(image: Image.Image) -> Image.Image:
    """A copy with the colours of its ICC profile in sRGB and an empty `info`.

    Pillow's JPEG writer takes a comment (JPEG COM, GIF comment) and XMP from `info`, so those
    survived a plain re-encode. The ICC profile goes too: converted to sRGB first, so a
    wide-gamut phone photo keeps its colours; a profile that cannot be read is just dropped.
    """
    icc = image.info.get("icc_profile")
    clean = image.copy()
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(clean, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None
        if isinstance(converted, Image.Image):
            clean = converted
    clean.info = {}
    return clean


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # No exif/icc passed on: the copy carries no location or device metadata.
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
