"""Rating: one reminder after 24 h, a rating without comment, ratings left half-done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpdesk_contracts.ticket.v1 import (
    TicketRated,
    TicketStatus,
    TicketStatusChanged,
    TicketSubmitted,
)

from tests.integration.gateway.conftest import World, new_user
from tests.support.fake_telegram.models import ChatMessage, User

pytestmark = pytest.mark.integration

DAY = 24 * 3600


async def resolved_ticket(world: World, user: User) -> tuple[TicketSubmitted, ChatMessage]:
    await world.sign_in(user)
    preview = await world.ticket_to_preview(user)
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(TicketSubmitted, lambda m: m.chat_id == user.id)
    await world.reply(user, lambda m: m.visible_text.startswith("Заявка"))
    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=TicketStatus.RESOLVED,
            itsm_number="4242",
            changed_at=world.clock(),
        )
    )
    solved = await world.reply(user, lambda m: m.visible_text.endswith("Проблема решена?"))
    await world.press(user, solved, "Да")
    question = await world.reply(user, lambda m: "⭐" in " ".join(m.button_texts))
    return submitted, question


async def test_one_reminder_after_a_day_then_silence(world: World) -> None:
    user = new_user()
    submitted, _ = await resolved_ticket(world, user)
    world.clock.advance(DAY - 120)
    await world.tg.assert_no_bot_message(user.id, within=1.0)
    world.clock.advance(240)
    reminder = await world.reply(user)
    assert reminder.visible_text == (
        "Напоминаю: оцените, пожалуйста, работу по заявке "
        f"{submitted.reference} (№4242) — от 1 до 5:"
    )
    assert reminder.button_texts == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    world.clock.advance(3 * DAY)
    await world.tg.assert_no_bot_message(user.id, within=1.0)

    await world.press(user, reminder, "5 ⭐")
    ask = await world.reply(user, lambda m: m.visible_text.startswith("Спасибо! Хотите"))
    await world.press(user, ask, "Без комментария")
    await world.reply_text(user, "Спасибо за оценку!")
    rated = await world.bus.wait_for(TicketRated, lambda m: m.ticket_id == submitted.ticket_id)
    assert (rated.rating, rated.comment, rated.itsm_number) == (5, None, "4242")


async def test_a_rating_whose_comment_never_comes_is_sent_without_it(world: World) -> None:
    user = new_user()
    submitted, question = await resolved_ticket(world, user)
    await world.press(user, question, "2 ⭐")
    await world.reply(user, lambda m: m.visible_text.startswith("Спасибо! Хотите"))
    await world.settle()
    assert world.bus.all(TicketRated) == []
    world.clock.advance(timedelta(minutes=16).total_seconds())
    rated = await world.bus.wait_for(TicketRated, lambda m: m.ticket_id == submitted.ticket_id)
    assert (rated.rating, rated.comment) == (2, None)
    # A comment that arrives afterwards is thanked for; nothing is published twice.
    await world.tg.send_text(user, "Долго, но сделали")
    await world.reply_text(user, "Спасибо за оценку!")
    await world.settle()
    assert len(world.bus.all(TicketRated)) == 1
