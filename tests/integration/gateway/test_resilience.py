"""Restarts, redeliveries, old buttons, Telegram's 429 and 403, events for unknown tickets."""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import uuid4

import pytest
from helpdesk_contracts import topology
from helpdesk_contracts.auth.v1 import RevokeReason, UserRevoked
from helpdesk_contracts.ticket.v1 import (
    TicketEmailed,
    TicketStatus,
    TicketStatusChanged,
    TicketSubmitted,
)
from helpdesk_gateway.callbacks import WizardAction, WizardCb
from helpdesk_harness.fake_telegram.models import User

from tests.integration.gateway.conftest import WAIT, World, new_user
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def text_update(user: User, update_id: int, message_id: int, text: str) -> dict[str, object]:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text)}] if text[0] == "/" else []
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.to_api(),
            "text": text,
            "entities": entities,
        },
    }


async def test_a_restart_in_the_middle_of_the_wizard_keeps_the_draft(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    question = await world.start_ticket(user)
    await world.press(user, question, "Сеть и интернет")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_text(user, "Не открываются сайты ❗")
    await world.reply(user, lambda m: m.visible_text.startswith("Где"))

    await world.stop()
    await world.start()

    await tg.send_text(user, "переговорная «Байкал»")
    photos = await world.reply(user, lambda m: m.visible_text.startswith("Приложите"))
    await world.press(user, photos, "Без фото")
    preview = await world.reply(user)
    assert "Описание: Не открываются сайты ❗\nМесто: переговорная «Байкал»\n" in (
        preview.visible_text
    )
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(TicketSubmitted, lambda m: m.chat_id == user.id)
    assert submitted.location == "переговорная «Байкал»"


async def test_the_same_update_delivered_twice_has_one_effect(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    update = text_update(user, 900_001, 500, "/new")
    await tg.inject_update(update)
    await world.reply_text(user, "Новая заявка. Выберите категорию:")
    await world.settle()
    await tg.inject_update(update)  # Telegram delivers it again (e.g. not confirmed in time)
    await tg.assert_no_bot_message(user.id, within=1.5)


async def test_a_revoked_user_is_blocked_at_once_even_on_old_buttons(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    question = await world.start_ticket(user)
    await world.bus.publish(
        UserRevoked(telegram_user_id=user.id, reason=RevokeReason.DIRECTORY_DISABLED)
    )
    told = await world.reply(user)
    assert told.visible_text == (
        "Доступ к боту закрыт. Если это ошибка, обратитесь в ИТ-поддержку."
    )
    assert told.reply_markup == {"remove_keyboard": True}
    press = await world.press(user, question, "Сеть и интернет")
    answer = await world.answer_of(press)
    assert answer["text"] == "Сначала войдите: отправьте /start"
    assert answer["show_alert"] is True
    await tg.send_text(user, "📝 Новая заявка")
    await world.reply_text(user, "Сначала нужно войти: отправьте /start.")
    state = await world.db["gateway_fsm"].find_one({"_id": {"$regex": f":{user.id}:{user.id}"}})
    assert state is None or not state.get("state")


async def test_stale_foreign_and_old_version_buttons_get_a_polite_answer(world: World) -> None:
    tg, user, stranger = world.tg, new_user(), new_user()
    await world.sign_in(user)
    await world.sign_in(stranger)
    question = await world.start_ticket(user)
    draft = WizardCb.unpack(question.callback_data("Сеть и интернет")).draft
    other = await world.start_ticket(stranger)
    forged = WizardCb(action=WizardAction.CATEGORY, draft=draft, value="network").pack()
    for data in (forged, "w0:cat:abcd:network", "garbage"):
        press = await tg.press_button(stranger, other.message_id, data, check_button=False)
        assert (await world.answer_of(press.callback_query_id))["text"] == (
            "Эта кнопка уже не действует."
        )
    # The owner's draft is untouched and still works.
    await world.press(user, question, "Сеть и интернет")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))


async def test_429_is_waited_out_and_the_reply_arrives(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    await tg.fail_next("sendMessage", 429, retry_after=1, chat_id=user.id)
    started = time.monotonic()
    await tg.send_command(user, "help")
    help_text = await world.reply(user)
    assert help_text.visible_text.startswith("Я помогаю подать заявку в ИТ-поддержку.")
    assert time.monotonic() - started >= 1.0
    refused = [c for c in await tg.calls("sendMessage") if c.error_code == 429]
    assert len(refused) == 1


async def test_403_marks_the_user_unreachable_and_is_not_retried(world: World) -> None:
    tg, bus, user = world.tg, world.bus, new_user()
    await world.sign_in(user)
    preview = await world.ticket_to_preview(user)
    await world.press(user, preview, "✅ Отправить")
    submitted = await bus.wait_for(TicketSubmitted, lambda m: m.chat_id == user.id)
    await world.settle()
    await tg.block_chat(user.id)
    await bus.publish(
        TicketEmailed(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            email_message_id="<x@example.com>",
            sent_at=world.clock(),
        )
    )
    notifications = world.db["gateway_notifications"]

    async def refused() -> bool:
        return await notifications.find_one({"chat_id": user.id, "state": "blocked"}) is not None

    await eventually(refused, what="the notification marked blocked", within=WAIT)
    await world.settle()
    forbidden = [c for c in await tg.calls("sendMessage") if c.error_code == 403]
    assert len(forbidden) == 1
    stored = await world.db["gateway_users"].find_one({"_id": user.id})
    assert stored is not None and stored["reachable"] is False
    # Back again: writing to the bot makes the user reachable.
    await tg.unblock_chat(user.id)
    await tg.send_command(user, "help")
    await world.reply(user, lambda m: m.visible_text.startswith("Я помогаю"))
    stored = await world.db["gateway_users"].find_one({"_id": user.id})
    assert stored is not None and stored["reachable"] is True


async def test_events_for_unknown_tickets_are_dropped_quietly(world: World) -> None:
    user = new_user()
    await world.sign_in(user)
    ghost = TicketStatusChanged(
        ticket_id="0123456789abcdef01234567",
        reference="TG-GHOST1",
        status=TicketStatus.REGISTERED,
        itsm_number="777",
        changed_at=world.clock() - timedelta(minutes=1),
    )
    await world.bus.publish(ghost)
    # A real ticket id with another ticket's reference is no better.
    preview = await world.ticket_to_preview(user)
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(TicketSubmitted, lambda m: m.chat_id == user.id)
    await world.reply(user, lambda m: m.visible_text.startswith("Заявка"))
    await world.bus.publish(
        ghost.model_copy(update={"message_id": uuid4(), "ticket_id": submitted.ticket_id})
    )
    await world.tg.assert_no_bot_message(user.id, within=1.5)
    queue = topology.queue_name("gateway", TicketStatusChanged)
    assert await world.bus.queue_depth(queue) == 0
    assert await world.bus.queue_depth(topology.dlq_name(queue)) == 0
