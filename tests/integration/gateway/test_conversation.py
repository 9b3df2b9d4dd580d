"""Talking about a filed ticket through the fake Bot API: an engineer's comment reaches the
employee with «Ответить»; the employee's answer (by the button or by a Telegram reply) goes out
as a SendTicketReply in InfraManager's thread, and «sent» / «failed» come back."""

from __future__ import annotations

import pytest
from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    ReplyKind,
    SendTicketReply,
    TicketCommentAdded,
    TicketEmailed,
    TicketReplyFailed,
    TicketSubmitted,
)

from tests.integration.gateway.conftest import World, new_user
from tests.support.bus import Bus
from tests.support.fake_telegram.models import ChatMessage, User

pytestmark = pytest.mark.integration

IM_ID = "<im-77.12345@im.example.com>"
IM_SUBJECT = "Заявка №12345 Не печатает принтер"


async def commands_bus(world: World) -> Bus:
    bus = Bus(world.bus.channel, [("helpdesk.commands", "ticket.send_reply.v1")])
    await bus.listen()
    return bus


async def emailed_ticket(world: World, user: User) -> TicketSubmitted:
    await world.sign_in(user)
    preview = await world.ticket_to_preview(user)
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(TicketSubmitted, lambda m: m.chat_id == user.id)
    await world.bus.publish(
        TicketEmailed(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            email_message_id=f"<{submitted.reference}.{submitted.ticket_id}@helpdesk.example.com>",
            sent_at=world.clock(),
        )
    )
    await world.reply(user, lambda m: "отправлена в ИТ-поддержку" in m.visible_text)
    return submitted


async def support_asks(world: World, user: User, submitted: TicketSubmitted) -> ChatMessage:
    await world.bus.publish(
        TicketCommentAdded(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            author=CommentAuthor.SUPPORT,
            text="Принтер подключён по USB или по сети?",
            question=True,
            itsm_number="12345",
            email_message_id=IM_ID,
            email_subject=IM_SUBJECT,
            commented_at=world.clock(),
        )
    )
    return await world.reply(user, lambda m: m.visible_text.startswith("❓"))


async def test_a_support_question_reaches_the_employee_and_the_answer_goes_into_the_thread(
    world: World,
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    question = await support_asks(world, user, submitted)
    assert question.visible_text == (
        f"❓ ИТ-поддержка задала вопрос по заявке {submitted.reference} (№12345):\n\n"
        "Принтер подключён по USB или по сети?\n\n"
        "Чтобы ответить, нажмите «Ответить» или ответьте на это сообщение."
    )
    assert question.button_texts == ["✍️ Ответить"]

    await world.press(user, question, "✍️ Ответить")
    prompt = await world.reply(user, lambda m: m.visible_text.startswith("Напишите комментарий"))
    assert prompt.visible_text == (
        f"Напишите комментарий к заявке {submitted.reference} (№12345) одним сообщением."
    )
    await world.tg.send_text(user, "По сети, кабинет 305.")
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю комментарий"))

    command = await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)
    assert command.purpose is ReplyKind.COMMENT
    assert command.text == "По сети, кабинет 305."
    assert command.thread_ids == [IM_ID]
    assert command.itsm_subject == IM_SUBJECT
    assert command.itsm_number == "12345"
    assert command.requester.email == "maria.ivanova@example.com"

    # The mailer reports the email left: the employee hears it once, even if told twice.
    sent = TicketCommentAdded(
        correlation_id=command.message_id,
        ticket_id=submitted.ticket_id,
        reference=submitted.reference,
        author=CommentAuthor.EMPLOYEE,
        text=command.text,
        telegram_user_id=user.id,
        commented_at=world.clock(),
    )
    await world.bus.publish(sent)
    await world.bus.publish(sent)
    done = await world.reply(user, lambda m: m.visible_text.startswith("Комментарий к заявке"))
    assert done.visible_text == (
        f"Комментарий к заявке {submitted.reference} (№12345) отправлен в ИТ-поддержку."
    )
    await world.settle()
    await world.tg.assert_no_bot_message(user.id, within=0.5)
    ticket = await world.db["tickets"].find_one({"reference": submitted.reference})
    assert ticket is not None
    assert [(r["text"], r["state"]) for r in ticket["replies"]] == [
        ("По сети, кабинет 305.", "sent")
    ]


async def test_a_telegram_reply_to_a_bot_message_is_a_comment_and_a_failure_is_told(
    world: World,
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    question = await support_asks(world, user, submitted)

    await world.tg.send_text(user, "По USB.", reply_to=question.message_id)
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю комментарий"))
    command = await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)
    assert (command.text, command.thread_ids) == ("По USB.", [IM_ID])

    await world.bus.publish(
        TicketReplyFailed(
            correlation_id=command.message_id,
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            purpose=ReplyKind.COMMENT,
            reason="550 5.1.1 mailbox unavailable",
        )
    )
    failed = await world.reply(user, lambda m: "не удалось" in m.visible_text)
    assert failed.visible_text == (
        f"Комментарий к заявке {submitted.reference} (№12345) отправить не удалось: почтовый "
        "сервер его не принял. Попробуйте позже или позвоните в ИТ-поддержку."
    )


async def test_a_reply_to_a_message_about_no_ticket_says_so_and_sends_nothing(
    world: World,
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    greeting = await world.sign_in(user)
    await world.tg.send_text(user, "Спасибо", reply_to=greeting.message_id)
    answer = await world.reply(user)
    assert answer.visible_text == (
        "Не понял, к какой заявке этот ответ. Ответьте на сообщение бота об этой заявке или "
        "откройте её в «📋 Мои заявки»."
    )
    await world.settle()
    assert commands.all(SendTicketReply) == []
