"""Talking about a filed ticket through the fake Bot API: an engineer's comment reaches the
employee with «Ответить»; the employee's answer (by the button or by a Telegram reply) goes out
as a SendTicketReply in InfraManager's thread, and «sent» / «failed» come back."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from bson import ObjectId
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    ConversationFile,
    ReplyKind,
    SendTicketReply,
    TicketCommentAdded,
    TicketEmailed,
    TicketRated,
    TicketReopenRequested,
    TicketReplyFailed,
    TicketStatus,
    TicketStatusChanged,
    TicketSubmitted,
)
from helpdesk_harness.fake_telegram.models import ChatMessage, User

from tests.integration.gateway.conftest import World, new_user
from tests.support.bus import Bus

pytestmark = pytest.mark.integration

DAY = 24 * 3600

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
        f"Напишите комментарий к заявке {submitted.reference} (№12345) одним сообщением. "
        "Можно приложить фото или документ с подписью."
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
        "Не удалось понять, к какой заявке относится ответ. Ответьте на сообщение бота об этой "
        "заявке или откройте её в «📋 Мои заявки»."
    )
    await world.settle()
    assert commands.all(SendTicketReply) == []


async def resolve(world: World, submitted: TicketSubmitted, minutes: int = 5) -> None:
    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=TicketStatus.RESOLVED,
            itsm_number="12345",
            changed_at=world.clock() + timedelta(minutes=minutes),
        )
    )


async def test_not_solved_sends_a_reopen_request_and_a_resolved_again_ticket_asks_again(
    world: World,
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    await resolve(world, submitted)
    solved = await world.reply(user, lambda m: m.visible_text.endswith("Проблема решена?"))
    assert solved.button_texts == ["Да", "Нет, не решена"]

    await world.press(user, solved, "Нет, не решена")
    ask = await world.reply(user, lambda m: m.visible_text.startswith("Что по-прежнему"))
    assert ask.visible_text == (
        "Что по-прежнему не так? Напишите одним сообщением — я отправлю это в ИТ-поддержку "
        f"с просьбой возобновить заявку {submitted.reference} (№12345)."
    )
    await world.tg.send_text(user, "Принтер снова мнёт бумагу.")
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю просьбу возобновить"))
    command = await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)
    assert (command.purpose, command.text) == (ReplyKind.REOPEN, "Принтер снова мнёт бумагу.")

    await world.bus.publish(
        TicketReopenRequested(
            correlation_id=command.message_id,
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            telegram_user_id=user.id,
            reason=command.text,
            itsm_number="12345",
            email_message_id="<TG-X.reopen@helpdesk.example.com>",
            requested_at=world.clock(),
        )
    )
    sent = await world.reply(user, lambda m: m.visible_text.startswith("Просьба возобновить"))
    assert sent.visible_text == (
        f"Просьба возобновить заявку {submitted.reference} (№12345) отправлена в ИТ-поддержку. "
        "Когда заявку вернут в работу, я сообщу."
    )

    # InfraManager reopens and resolves it again: the question comes again, with its buttons.
    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=TicketStatus.IN_PROGRESS,
            itsm_number="12345",
            changed_at=world.clock() + timedelta(minutes=10),
        )
    )
    await world.reply(user, lambda m: "взята в работу" in m.visible_text)
    await resolve(world, submitted, minutes=20)
    again = await world.reply(user, lambda m: m.visible_text.endswith("Проблема решена?"))
    assert again.button_texts == ["Да", "Нет, не решена"]


@pytest.mark.parametrize("moved_on", [TicketStatus.REOPENED, TicketStatus.CLOSED])
async def test_not_solved_on_an_old_question_is_refused_once_the_ticket_moved_on(
    world: World, moved_on: TicketStatus
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    await resolve(world, submitted)
    solved = await world.reply(user, lambda m: m.visible_text.endswith("Проблема решена?"))
    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=moved_on,
            itsm_number="12345",
            changed_at=world.clock() + timedelta(minutes=10),
        )
    )
    await world.settle()

    press = await world.press(user, solved, "Нет, не решена")
    answer = await world.answer_of(press)
    assert answer["text"] == (
        f"Заявка {submitted.reference} (№12345) больше не ждёт вашего подтверждения: её статус "
        "уже изменился. Где она сейчас — в «📋 Мои заявки»."
    )
    assert answer["show_alert"] is True
    await world.settle()
    assert commands.all(SendTicketReply) == []


async def test_a_low_rating_offers_the_reopen(world: World) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    await resolve(world, submitted)
    solved = await world.reply(user, lambda m: m.visible_text.endswith("Проблема решена?"))
    await world.press(user, solved, "Да")
    stars = await world.reply(user, lambda m: "⭐" in " ".join(m.button_texts))
    await world.press(user, stars, "1 ⭐")
    ask = await world.reply(user, lambda m: m.visible_text.startswith("Спасибо! Хотите"))
    assert ask.button_texts == ["Без комментария", "Нет, не решена"]
    await world.press(user, ask, "Нет, не решена")
    await world.reply(user, lambda m: m.visible_text.startswith("Что по-прежнему"))
    await world.tg.send_text(user, "Не печатает вообще.")
    command = await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)
    assert command.purpose is ReplyKind.REOPEN
    # The rating itself went out without a comment.
    rated = await world.bus.wait_for(TicketRated, lambda m: m.ticket_id == submitted.ticket_id)
    assert (rated.rating, rated.comment) == (1, None)


async def open_details(world: World, user: User, reference: str) -> ChatMessage:
    await world.tg.send_text(user, "📋 Мои заявки")
    listing = await world.reply(user, lambda m: m.visible_text.startswith("Ваши последние"))
    await world.press(user, listing, reference)
    return await world.edited(user, listing, lambda m: "Ваши последние" not in m.visible_text)


async def ask_to_cancel(world: World, user: User, details: ChatMessage) -> ChatMessage:
    """«Отменить заявку» under the details; returns the question asking to confirm."""
    await world.press(user, details, "Отменить заявку")
    return await world.reply(user, lambda m: m.visible_text.startswith("Отменить заявку"))


async def test_cancel_after_registration_shows_requested_then_cancelled(world: World) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=TicketStatus.REGISTERED,
            itsm_number="12345",
            changed_at=world.clock(),
        )
    )
    await world.reply(user, lambda m: "зарегистрирована" in m.visible_text)
    details = await open_details(world, user, submitted.reference)
    assert details.button_texts == ["✍️ Добавить комментарий", "Отменить заявку", "← К списку"]
    confirm = await ask_to_cancel(world, user, details)
    await world.press(user, confirm, "Да, отменить")
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю просьбу отменить"))
    command = await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)
    assert (command.purpose, command.itsm_number) == (ReplyKind.CANCEL, "12345")

    details = await open_details(world, user, submitted.reference)
    assert "Отмена запрошена" in details.visible_text
    assert "Отменить заявку" not in details.button_texts

    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=TicketStatus.REJECTED,
            raw_status="Отменена",
            itsm_number="12345",
            changed_at=world.clock() + timedelta(minutes=5),
        )
    )
    done = await world.reply(user, lambda m: m.visible_text.startswith("Заявка"))
    assert done.visible_text == f"Заявка {submitted.reference} (№12345) отменена."
    details = await open_details(world, user, submitted.reference)
    assert "Отменена" in details.visible_text


async def test_cancel_before_registration_goes_into_the_ticket_emails_thread(
    world: World,
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    details = await open_details(world, user, submitted.reference)
    confirm = await ask_to_cancel(world, user, details)
    await world.press(user, confirm, "Да, отменить")
    command = await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)
    # No InfraManager mail yet: the mailer answers the ticket email itself.
    assert (command.purpose, command.thread_ids, command.itsm_number) == (
        ReplyKind.CANCEL,
        [],
        None,
    )


async def test_a_ticket_waiting_for_the_employee_reminds_them_once(world: World) -> None:
    user = new_user()
    submitted = await emailed_ticket(world, user)
    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=TicketStatus.WAITING,
            raw_status="Ожидает ответа пользователя",
            itsm_number="12345",
            comment="Пришлите, пожалуйста, фото экрана с ошибкой?",
            changed_at=world.clock(),
        )
    )
    await world.reply(user, lambda m: "Пришлите, пожалуйста" in m.visible_text)
    world.clock.advance(DAY - 120)
    await world.tg.assert_no_bot_message(user.id, within=1.0)
    world.clock.advance(240)
    reminder = await world.reply(user)
    assert reminder.visible_text == (
        f"Напоминаю: ИТ-поддержка ждёт вашего ответа по заявке {submitted.reference} (№12345). "
        "Нажмите «Ответить» или ответьте на сообщение с вопросом."
    )
    assert reminder.button_texts == ["✍️ Ответить"]
    world.clock.advance(3 * DAY)
    await world.tg.assert_no_bot_message(user.id, within=1.0)


async def test_a_document_goes_with_the_comment_and_an_oversized_one_is_refused(
    world: World,
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    question = await support_asks(world, user, submitted)

    await world.press(user, question, "✍️ Ответить")
    await world.reply(user, lambda m: m.visible_text.startswith("Напишите комментарий"))
    big = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024 + 1)
    await world.tg.send_document(user, big, "scan.pdf", "application/pdf", caption="Скан")
    refused = await world.reply(user, lambda m: m.visible_text.startswith("Файл слишком"))
    assert refused.visible_text == (
        "Файл слишком большой: ИТ-поддержка принимает вложения до 2 МБ. Пришлите файл поменьше "
        "или опишите всё текстом."
    )

    pdf = b"%PDF-1.4\nact of work\n"
    await world.tg.send_document(user, pdf, "акт работ.pdf", "application/pdf", caption="Акт")
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю комментарий"))
    command = await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)
    assert command.text == "Акт"
    [file] = command.files
    assert (file.filename, file.content_type, file.size) == (
        "акт работ.pdf",
        "application/pdf",
        len(pdf),
    )
    assert file.sha256 == hashlib.sha256(pdf).hexdigest()
    stored = await AsyncGridFSBucket(world.db, bucket_name="attachments").open_download_stream(
        ObjectId(file.file_id)
    )
    assert await stored.read() == pdf
    assert len(commands.all(SendTicketReply)) == 1


async def test_a_file_from_support_arrives_under_the_comment(world: World) -> None:
    user = new_user()
    submitted = await emailed_ticket(world, user)
    pdf = b"%PDF-1.4\nact of work\n"
    bucket = AsyncGridFSBucket(world.db, bucket_name="attachments")
    file_id = await bucket.upload_from_stream("акт.pdf", pdf)
    await world.bus.publish(
        TicketCommentAdded(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            author=CommentAuthor.SUPPORT,
            text="Акт выполненных работ во вложении.",
            files=[
                ConversationFile(
                    file_id=str(file_id),
                    filename="акт.pdf",
                    content_type="application/pdf",
                    size=len(pdf),
                    sha256=hashlib.sha256(pdf).hexdigest(),
                )
            ],
            itsm_number="12345",
            commented_at=world.clock(),
        )
    )
    await world.reply(user, lambda m: m.visible_text.startswith("💬"))
    document = await world.reply(user, lambda m: m.kind == "document")
    assert document.visible_text == (
        f"📎 Файл от ИТ-поддержки к заявке {submitted.reference} (№12345)"
    )
    assert document.data == pdf


async def test_keeping_a_ticket_says_so_and_sends_no_email(world: World) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    details = await open_details(world, user, submitted.reference)
    confirm = await ask_to_cancel(world, user, details)
    await world.press(user, confirm, "Нет, оставить")
    kept = await world.reply(user, lambda m: m.visible_text.startswith("Хорошо"))
    assert kept.visible_text == f"Хорошо, заявку {submitted.reference} отменять не будем."
    await world.edited(user, confirm, lambda m: not m.inline_keyboard)
    await world.settle()
    assert commands.all(SendTicketReply) == []
    details = await open_details(world, user, submitted.reference)
    assert "Отменить заявку" in details.button_texts


async def test_dont_send_under_a_prompt_whose_comment_already_left_is_a_stale_button(
    world: World,
) -> None:
    user = new_user()
    commands = await commands_bus(world)
    submitted = await emailed_ticket(world, user)
    question = await support_asks(world, user, submitted)
    await world.press(user, question, "✍️ Ответить")
    prompt = await world.reply(user, lambda m: m.visible_text.startswith("Напишите комментарий"))
    await world.tg.send_text(user, "По сети, кабинет 305.")
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю комментарий"))
    await commands.wait_for(SendTicketReply, lambda m: m.ticket_id == submitted.ticket_id)

    # «Не отправлять» under the old prompt must not claim the comment was not sent.
    press = await world.press(user, prompt, "Не отправлять")
    answer = await world.answer_of(press)
    assert answer["text"] == "Эта кнопка уже не действует."
    await world.edited(user, prompt, lambda m: not m.inline_keyboard)
    await world.tg.assert_no_bot_message(user.id, within=1.0)
