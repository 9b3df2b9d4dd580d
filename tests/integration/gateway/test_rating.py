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
from helpdesk_harness.fake_telegram.models import ChatMessage, User

from tests.integration.gateway.conftest import World, button, new_user

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


async def test_an_old_no_comment_button_repeats_nothing(world: World) -> None:
    user = new_user()
    submitted, question = await resolved_ticket(world, user)
    await world.press(user, question, "4 ⭐")
    ask = await world.reply(user, lambda m: m.visible_text.startswith("Спасибо! Хотите"))
    await world.tg.send_text(user, "Быстро и вежливо")
    await world.reply_text(user, "Спасибо за оценку!")
    # The question is answered: the bot takes its button away itself.
    await world.edited(user, ask, lambda m: not m.inline_keyboard)
    # A client still showing it (a press racing the edit) gets a toast and nothing else.
    press = await world.tg.press_button(
        user, ask.message_id, button(ask, "Без комментария"), check_button=False
    )
    answer = await world.answer_of(press.callback_query_id)
    assert answer["text"] == "Эта кнопка уже не действует."
    await world.tg.assert_no_bot_message(user.id, within=1.0)
    await world.settle()
    (rated,) = world.bus.all(TicketRated)
    assert (rated.ticket_id, rated.rating, rated.comment) == (
        submitted.ticket_id,
        4,
        "Быстро и вежливо",
    )


async def test_text_while_the_stars_wait_points_at_them(world: World) -> None:
    user = new_user()
    submitted, _ = await resolved_ticket(world, user)
    await world.tg.send_text(user, "5")
    pointer = await world.reply(user)
    assert pointer.visible_text == (
        f"Оцените, пожалуйста, заявку {submitted.reference} (№4242) кнопкой со звёздами — "
        "от 1 до 5:"
    )
    assert pointer.button_texts == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    await world.press(user, pointer, "5 ⭐")
    await world.reply(user, lambda m: m.visible_text.startswith("Спасибо! Хотите"))
