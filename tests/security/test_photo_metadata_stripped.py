"""Threat: a photo leaks what the employee did not mean to send (where it was taken, the device,
a comment), or carries a payload for InfraManager's viewer, through its metadata.

Every photo is re-encoded; the copy stored in GridFS (and later emailed) must carry no JPEG COM,
GIF comment, EXIF, XMP or ICC profile.
"""

from __future__ import annotations

import io

import pytest
from gridfs import AsyncGridFSBucket
from helpdesk_gateway.domain.photos import reencode_jpeg
from PIL import Image, ImageCms, PngImagePlugin

from tests.integration.gateway.conftest import World, new_user
from tests.integration.gateway.test_wizard_input import at_photo_step

MARK = b"LEAK-7f3a"
"""Put in every metadata field; must not occur anywhere in the stored bytes."""


def jpeg_full_of_metadata() -> bytes:
    image = Image.new("RGB", (640, 480), (30, 120, 200))
    exif = image.getexif()
    exif[0x010F] = MARK.decode()  # Make
    exif[0x9286] = MARK.decode()  # UserComment
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (55.0, 45.0, 21.0)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    out = io.BytesIO()
    image.save(
        out,
        "JPEG",
        comment=MARK + b" <script>alert(1)</script>",
        exif=exif,
        icc_profile=profile.tobytes(),
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + MARK + b"</x:xmpmeta>",
    )
    return out.getvalue()


def gif_with_comment() -> bytes:
    out = io.BytesIO()
    Image.new("P", (320, 320), 3).save(out, "GIF", comment=MARK)
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARK.decode())
    info.add_itxt("XML:com.adobe.xmp", MARK.decode())
    out = io.BytesIO()
    Image.new("RGB", (320, 320), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


SAMPLES = {"jpeg": jpeg_full_of_metadata, "gif": gif_with_comment, "png": png_with_text}


def assert_clean(data: bytes) -> None:
    assert MARK not in data
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif()
    for key in ("comment", "exif", "xmp", "icc_profile", "photoshop"):
        assert key not in image.info, key
    assert b"Exif\x00" not in data and b"ICC_PROFILE" not in data and b"xmpmeta" not in data


@pytest.mark.parametrize("kind", SAMPLES)
def test_reencoded_photo_has_no_metadata(kind: str) -> None:
    original = SAMPLES[kind]()
    assert MARK in original
    encoded = reencode_jpeg(original, max_bytes=2 * 1024 * 1024, max_pixels=10**8, max_side=2560)
    assert_clean(encoded.data)


@pytest.mark.integration
async def test_photos_stored_for_a_ticket_carry_no_metadata(world: World) -> None:
    """Sent as files through the Bot API (as a document, so Telegram does not recompress)."""
    user = new_user()
    await at_photo_step(world, user)
    for index, (kind, make) in enumerate(SAMPLES.items(), start=1):
        await world.tg.send_document(user, make(), f"photo.{kind}", f"image/{kind}")
        saved = await world.reply(user)
        assert saved.visible_text.startswith(f"Сохранено фото: 1. Всего приложено {index} из 10.")
    bucket = AsyncGridFSBucket(world.db, bucket_name="attachments")
    stored = [doc async for doc in world.db["attachments.files"].find({})]
    assert len(stored) == len(SAMPLES)
    for doc in stored:
        out = io.BytesIO()
        await bucket.download_to_stream(doc["_id"], out)
        assert_clean(out.getvalue())
