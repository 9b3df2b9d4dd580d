"""Album photos arriving as separate updates are handed over once, together."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram.types import Chat, Message, PhotoSize
from helpdesk_gateway.bot.albums import AlbumCollector


def photo(message_id: int, group: str | None = "g1") -> Message:
    return Message(
        message_id=message_id,
        date=datetime.now(UTC),
        chat=Chat(id=7, type="private"),
        media_group_id=group,
        photo=[
            PhotoSize(file_id=f"f{message_id}", file_unique_id=f"u{message_id}", width=1, height=1)
        ],
    )


async def test_the_first_message_carries_the_whole_album_in_order() -> None:
    collector = AlbumCollector(quiet_seconds=0.05)

    async def later(message: Message, delay: float) -> list[Message] | None:
        await asyncio.sleep(delay)
        return await collector.collect(message)

    results = await asyncio.gather(
        collector.collect(photo(10)), later(photo(12), 0.02), later(photo(11), 0.04)
    )
    first, *others = results
    assert others == [None, None]
    assert first is not None
    assert [m.message_id for m in first] == [10, 11, 12]


async def test_separate_albums_stay_separate() -> None:
    collector = AlbumCollector(quiet_seconds=0.02)
    one, two = await asyncio.gather(
        collector.collect(photo(1, "a")), collector.collect(photo(2, "b"))
    )
    assert [m.message_id for m in one or []] == [1]
    assert [m.message_id for m in two or []] == [2]
