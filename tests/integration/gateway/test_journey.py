"""The whole way from /start to a rating, as the employee sees it and as the neighbours see it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest
from bson import ObjectId
from helpdesk_contracts.auth.v1 import CodeRejected, CodeSent, RejectReason, RequestCode, VerifyCode
from helpdesk_contracts.ticket.v1 import (
    TicketEmailed,
    TicketRated,
    TicketStatus,
    TicketStatusChanged,
    TicketSubmitted,
)
from helpdesk_gateway.callbacks import RatingCb

from tests.integration.gateway.conftest import World, new_user
from tests.integration.gateway.images import jpeg

pytestmark = pytest.mark.integration

MENU = [["📝 Новая заявка"], ["📋 Мои заявки", "❓ Помощь"]]


async def test_from_start_to_rating_in_russian(world: World) -> None:
    tg, bus, user = world.tg, world.bus, new_user()

    # Sign-in: the work email, the code (one wrong try), the greeting by name.
    await tg.send_command(user, "start")
    await world.reply_text(
        user,
        "Здравствуйте! Это бот ИТ-поддержки.\n\nЧтобы подавать заявки, подтвердите, что вы "
        "сотрудник: введите адрес своей рабочей почты, например ivanova@company.ru. "
        "Я отправлю на неё код.",
    )
    await tg.send_text(user, "Maria.Ivanova@Example.com")
    await world.reply_text(user, "Проверяю адрес и отправляю код…")
    request = await bus.wait_for(RequestCode, lambda m: m.telegram_user_id == user.id)
    assert (request.email, request.locale, request.chat_id) == (
        "Maria.Ivanova@Example.com",
        "ru",
        user.id,
    )
    await bus.publish(
        CodeSent(
            correlation_id=request.message_id,
            telegram_user_id=user.id,
            chat_id=user.id,
            masked_email="m***a@example.com",
            expires_at=world.clock() + timedelta(minutes=10),
            resend_after_seconds=60,
        )
    )
    sent = await world.reply(user)
    assert sent.visible_text == (
        "Код отправлен на m***a@example.com. Введите его здесь.\n\nКод действует 10 мин. "
        "Если письма нет, проверьте папку «Спам». Новый код можно запросить через 1 мин."
    )
    assert sent.button_texts == ["Ввести другой адрес"]
    # A code of the wrong length is told so and costs no attempt (no VerifyCode).
    await tg.send_text(user, "12345")
    await world.reply_text(
        user,
        "В коде 6 цифр, а вы ввели 5. Проверьте письмо и введите код целиком — "
        "эта попытка не засчитана.",
    )
    await tg.send_text(user, "123456")
    await world.reply_text(user, "Проверяю код…")
    wrong = await bus.wait_for(VerifyCode, lambda m: m.telegram_user_id == user.id)
    assert wrong.code == "123456"
    await bus.publish(
        CodeRejected(
            correlation_id=wrong.message_id,
            telegram_user_id=user.id,
            chat_id=user.id,
            reason=RejectReason.WRONG_CODE,
            attempts_left=2,
        )
    )
    await world.reply_text(user, "Код неверный. Осталось 2 попытки.")
    await tg.send_text(user, "042 817")
    await world.reply_text(user, "Проверяю код…")
    right = await bus.wait_for(VerifyCode, lambda m: m.code == "042817")
    assert right.telegram_user_id == user.id
    await world.sign_in(user)
    greeting = (await tg.bot_messages(user.id))[-1]
    assert greeting.visible_text == (
        "Готово, Иванова Мария Петровна! Вы вошли как maria.ivanova@example.com.\n"
        "Теперь можно подавать заявки: нажмите «📝 Новая заявка»."
    )
    assert greeting.button_rows == MENU

    # The wizard.
    question = await world.start_ticket(user)
    assert question.visible_text == "Новая заявка. Выберите категорию:"
    assert question.button_texts[:3] == [
        "Компьютер и рабочее место",
        "Принтеры и МФУ",
        "Доступы и учётные записи",
    ]
    assert question.button_texts[-1] == "✖️ Отмена"
    await world.press(user, question, "Принтеры и МФУ")
    sub = await world.edited(user, question, lambda m: "Уточните" in m.visible_text)
    assert sub.visible_text == "Категория «Принтеры и МФУ». Уточните, что именно:"
    assert sub.button_texts == [
        "Не печатает",
        "Замятие бумаги",
        "Заменить картридж",
        "← Назад",
        "✖️ Отмена",
    ]
    await world.press(user, sub, "Замятие бумаги")
    chosen = await world.edited(user, question, lambda m: m.visible_text.startswith("Категория:"))
    assert chosen.visible_text == "Категория: Принтеры и МФУ › Замятие бумаги"
    assert chosen.button_texts == []
    await world.reply_text(
        user,
        "Опишите, что случилось или что нужно сделать. Если уже что-то пробовали, напишите что "
        "(до 4000 символов).\n"
        "Можно прислать фото с подписью.",
    )
    await tg.send_sticker(user)
    await world.reply_text(
        user, "Опишите проблему текстом — стикеры и голосовые сообщения не подойдут."
    )
    description = "Принтер HP на 3 этаже зажевал бумагу 😱, горит оранжевая лампа"
    await tg.send_text(user, description)
    where = await world.reply_text(user, "Где вы находитесь? Укажите кабинет, этаж или адрес.")
    assert where.button_texts == ["Пропустить", "✖️ Отмена"]
    await tg.send_text(user, "каб. 305 (бухгалтерия) 🏢")
    photos = await world.reply(user)
    assert photos.visible_text.startswith("Приложите фото или скриншоты")
    assert photos.button_texts == ["Без фото", "✖️ Отмена"]

    # An album of three: one progress message that ends as the step's summary.
    await tg.send_album(user, [jpeg(1), jpeg(2), jpeg(3)])
    progress = await world.reply(user)  # may already show its final text
    summary = await world.edited(user, progress, lambda m: "Всего приложено" in m.visible_text)
    assert summary.visible_text == (
        "Сохранено фото: 3. Всего приложено 3 из 10.\nПришлите ещё или нажмите «Готово»."
    )
    assert summary.button_texts == ["Готово", "Удалить все фото", "✖️ Отмена"]
    shown = [edit.get("before", {}) for edit in summary.edits]
    assert any("из 3 сохранено" in str(before) for before in shown), summary.edits
    await world.press(user, summary, "Готово")
    preview = await world.reply(user)
    assert preview.visible_text == (
        "Проверьте заявку:\n\nКатегория: Принтеры и МФУ › Замятие бумаги\n"
        f"Описание: {description}\nМесто: каб. 305 (бухгалтерия) 🏢\nФото: 3\n\nВсё верно?"
    )
    assert preview.button_rows == [["✅ Отправить"], ["✏️ Изменить", "✖️ Отмена"]]

    # A double tap on Send: one ticket, and the second tap is told so.
    data = preview.callback_data("✅ Отправить")
    _, second = await asyncio.gather(
        tg.press_button(user, preview.message_id, data),
        tg.press_button(user, preview.message_id, data),
    )
    done = await world.reply(user)
    reference = done.visible_text.split()[1]
    assert done.visible_text == (
        f"Заявка {reference} принята и отправляется в ИТ-поддержку.\n"
        "Я сообщу, когда её зарегистрируют."
    )
    assert done.button_rows == MENU
    late = await world.answer_of(second.callback_query_id)
    assert late["text"] == f"Заявка {reference} уже отправлена."
    submitted = await bus.wait_for(TicketSubmitted, lambda m: m.reference == reference)
    await world.settle()
    assert len(bus.all(TicketSubmitted)) == 1
    assert submitted.requester.email == "maria.ivanova@example.com"
    assert submitted.requester.display_name == "Иванова Мария Петровна"
    assert submitted.category.code == "printers.jam"
    assert submitted.category.routing_text == "Сервис: Печать; Группа: ИТ-поддержка 1 линия"
    assert (submitted.description, submitted.location) == (description, "каб. 305 (бухгалтерия) 🏢")
    assert len(submitted.attachments) == 3
    for attachment in submitted.attachments:
        stored = await world.db["attachments.files"].find_one({"_id": ObjectId(attachment.file_id)})
        assert stored is not None
        assert stored["metadata"]["ticket_id"] == submitted.ticket_id
        assert stored["metadata"]["sha256"] == attachment.sha256
        assert stored["metadata"]["owner_telegram_id"] == user.id
        assert stored["metadata"]["content_type"] == "image/jpeg"

    # Lifecycle: emailed, registered (the same news three times), resolved.
    await bus.publish(
        TicketEmailed(
            ticket_id=submitted.ticket_id,
            reference=reference,
            email_message_id=f"<{reference}@helpdesk.example.com>",
            sent_at=world.clock(),
        )
    )
    await world.reply_text(
        user,
        f"Заявка {reference} отправлена в ИТ-поддержку. Обычно её регистрируют в течение "
        "10–15 минут.",
    )
    registered = TicketStatusChanged(
        ticket_id=submitted.ticket_id,
        reference=reference,
        status=TicketStatus.REGISTERED,
        raw_status="Зарегистрирована",
        itsm_number="12345",
        changed_at=world.clock(),
    )
    # The inbox read the same InfraManager email twice: another message id, the same news.
    read_again = registered.model_copy(update={"message_id": uuid4()})
    for event in (registered, registered, read_again):
        await bus.publish(event)
    await world.reply_text(user, f"Заявка {reference} (№12345) зарегистрирована в ИТ-поддержке.")
    await world.settle()
    await tg.assert_no_bot_message(user.id, within=1.0)
    await bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=reference,
            status=TicketStatus.RESOLVED,
            itsm_number="12345",
            comment="Заменили ролик подачи",
            changed_at=world.clock() + timedelta(hours=2),
        )
    )
    resolved = await world.reply(user)
    assert resolved.visible_text == (
        f"Заявка {reference} (№12345) выполнена. Проблема решена?"
        "\n\nКомментарий специалиста: Заменили ролик подачи"
    )
    assert resolved.button_texts == ["Да", "Нет, не решена"]
    await world.press(user, resolved, "Да")
    question = await world.reply(user, lambda m: m.visible_text.startswith("Рады"))
    assert question.visible_text == (
        "Рады, что помогли! Оцените, пожалуйста, работу по заявке "
        f"{reference} (№12345) — от 1 до 5:"
    )
    assert question.button_texts == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]

    # Rating: four stars and a comment; a second rating is refused politely.
    await world.press(user, question, "4 ⭐")
    rated = await world.edited(user, question, lambda m: "Ваша оценка" in m.visible_text)
    assert rated.visible_text.endswith("Ваша оценка: ★★★★☆")
    assert rated.button_texts == []
    ask = await world.reply(user)
    assert ask.visible_text == (
        "Спасибо! Хотите что-нибудь добавить? Напишите комментарий одним сообщением или нажмите "
        "«Без комментария»."
    )
    await tg.send_text(user, "Спасибо, быстро! 👍")
    await world.reply_text(user, "Спасибо за оценку!")
    rating = await bus.wait_for(TicketRated, lambda m: m.reference == reference)
    assert (rating.rating, rating.comment, rating.itsm_number, rating.telegram_user_id) == (
        4,
        "Спасибо, быстро! 👍",
        "12345",
        user.id,
    )
    again = await tg.press_button(
        user,
        question.message_id,
        RatingCb(ticket=submitted.ticket_id, stars=1).pack(),
        check_button=False,
    )
    refusal = await world.answer_of(again.callback_query_id)
    assert refusal["text"] == "Эта заявка уже оценена. Спасибо!"
    await world.settle()
    assert len(bus.all(TicketRated)) == 1

    # My tickets: the list and the details.
    await tg.send_text(user, "📋 Мои заявки")
    listing = await world.reply(user)
    assert listing.visible_text.startswith(
        f"Ваши последние заявки:\n\n{reference} (№12345) · Выполнена · "
    )
    assert listing.visible_text.endswith("Принтеры и МФУ › Замятие бумаги")
    await world.press(user, listing, reference)
    details = await world.edited(user, listing, lambda m: m.visible_text.startswith("Заявка"))
    assert f"Заявка {reference}\nНомер в ИТ-поддержке: 12345\nСтатус: Выполнена\n" in (
        details.visible_text
    )
    assert "Ваша оценка: ★★★★☆" in details.visible_text
    assert details.button_texts == ["✍️ Добавить комментарий", "← К списку"]


async def test_the_same_flow_in_english(world: World) -> None:
    tg, bus, user = world.tg, world.bus, new_user("en", "Mary")
    await tg.send_command(user, "start")
    welcome = await world.reply(user)
    assert welcome.visible_text.startswith("Hello! This is the IT support bot.")
    await world.sign_in(user, name="Mary Ivanova")
    greeting = (await tg.bot_messages(user.id))[-1]
    assert greeting.visible_text == (
        "Done, Mary Ivanova! You are signed in as maria.ivanova@example.com.\n"
        "You can file tickets now: press “📝 New ticket”."
    )
    assert greeting.button_rows == [["📝 New ticket"], ["📋 My tickets", "❓ Help"]]
    question = await world.start_ticket(user)
    assert question.visible_text == "New ticket. Choose a category:"
    await world.press(user, question, "Network and internet")
    await world.reply_text(
        user,
        "Describe what happened or what you need. If you have already tried something, say what "
        "(up to 4000 characters).\nYou can send a photo with a caption.",
    )
    await tg.send_text(user, "Wi-Fi drops every 5 minutes in room 204")
    where = await world.reply_text(user, "Where are you? Write the room, floor or address.")
    await world.press(user, where, "Skip")
    photos = await world.reply(user)
    await world.press(user, photos, "No photos")
    preview = await world.reply(user)
    assert preview.visible_text == (
        "Please check the ticket:\n\nCategory: Network and internet\n"
        "Description: Wi-Fi drops every 5 minutes in room 204\nPlace: not given\nPhotos: 0\n\n"
        "Is everything correct?"
    )
    await world.press(user, preview, "✅ Send")
    done = await world.reply(user)
    reference = done.visible_text.split()[1]
    assert done.visible_text == (
        f"Ticket {reference} is accepted and on its way to IT support.\n"
        "I will tell you when it is registered."
    )
    submitted = await bus.wait_for(TicketSubmitted, lambda m: m.reference == reference)
    assert submitted.locale == "en"
    assert submitted.category.title == "Сеть и интернет"  # InfraManager's staff read Russian
    assert submitted.attachments == []
