"""A ticket draft and its photos expire together: never sent without the photos the janitor
removed, always with a clear message (issue 15)."""

from __future__ import annotations

import pytest
from helpdesk_contracts.ticket.v1 import TicketSubmitted

from tests.integration.gateway.conftest import World, new_user
from tests.integration.gateway.images import jpeg
from tests.integration.gateway.test_wizard_input import at_photo_step

pytestmark = pytest.mark.integration


async def test_a_draft_older_than_its_max_age_is_dropped_with_its_photos_and_a_message(
    world: World,
) -> None:
    tg, user = world.tg, new_user()
    photos = await at_photo_step(world, user)
    await tg.send_photo(user, jpeg(11))
    saved = await world.reply(user)
    assert saved.visible_text.startswith("Сохранено фото: 1.")
    stored = [doc async for doc in world.db["attachments.files"].find({})]
    assert len(stored) == 1
    # The photo carries its draft's end, so the janitor keeps it at least that long.
    expires = stored[0]["metadata"]["draft_expires_at"]
    assert expires is not None

    world.clock.advance(world.settings.draft_max_age_seconds)
    await world.press(user, saved, "Готово")
    await world.reply_text(
        user,
        "Черновик заявки, начатый больше 24 ч назад, так и не был отправлен, поэтому удалён "
        "вместе с фото. Создайте новую заявку из меню.",
    )
    assert await world.db["attachments.files"].count_documents({}) == 0
    # The old buttons lead nowhere now, and nothing was submitted.
    await world.press(user, photos, "Без фото")
    await world.settle()
    assert world.bus.all(TicketSubmitted) == []

    # A new ticket starts cleanly.
    question = await world.start_ticket(user)
    assert question.visible_text == "Новая заявка. Выберите категорию:"


async def test_a_draft_within_its_max_age_is_kept(world: World) -> None:
    tg, user = world.tg, new_user()
    await at_photo_step(world, user)
    world.clock.advance(world.settings.draft_max_age_seconds - 60)
    await tg.send_photo(user, jpeg(12))
    saved = await world.reply(user)
    assert saved.visible_text.startswith("Сохранено фото: 1.")
    assert await world.db["attachments.files"].count_documents({}) == 1


async def test_a_draft_nobody_comes_back_to_is_forgotten_with_its_photos(world: World) -> None:
    tg, user = world.tg, new_user()
    await at_photo_step(world, user)
    await tg.send_photo(user, jpeg(13))
    await world.reply(user)
    fsm = world.db["gateway_fsm"]
    assert await fsm.count_documents({"data.draft": {"$exists": True}}) == 1

    # A week after it expired, it is still there to be explained to its owner...
    world.clock.advance(world.settings.draft_max_age_seconds + 7 * 86_400 - 60)
    await world.g.scheduler.personal_data()
    assert await fsm.count_documents({"data.draft": {"$exists": True}}) == 1
    # ...then its text and photos go.
    world.clock.advance(120)
    await world.g.scheduler.personal_data()
    assert await fsm.count_documents({"data.draft": {"$exists": True}}) == 0
    assert await fsm.count_documents({"state": {"$regex": "^NewTicket:"}}) == 0
    assert await world.db["attachments.files"].count_documents({}) == 0
