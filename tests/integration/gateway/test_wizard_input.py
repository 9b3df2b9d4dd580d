"""Bad and unusual input at every step of the wizard gets a clear answer and breaks nothing."""

from __future__ import annotations

import os

import pytest
from helpdesk_contracts.ticket.v1 import TicketSubmitted
from helpdesk_harness.fake_telegram.models import ChatMessage, User

from tests.integration.gateway.conftest import World, new_user
from tests.integration.gateway.images import jpeg, png_bomb

pytestmark = pytest.mark.integration


async def at_photo_step(world: World, user: User) -> ChatMessage:
    await world.sign_in(user)
    question = await world.start_ticket(user)
    await world.press(user, question, "Телефония")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await world.tg.send_text(user, "Не работает телефон, нет гудка")
    where = await world.reply(user, lambda m: m.visible_text.startswith("Где"))
    await world.press(user, where, "Пропустить")
    return await world.reply(user, lambda m: m.visible_text.startswith("Приложите фото"))


async def test_text_steps_explain_their_limits(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    question = await world.start_ticket(user)
    await tg.send_text(user, "Сеть")
    await world.reply_text(
        user,
        "Выберите вариант кнопкой в сообщении выше или отправьте /cancel, чтобы отменить.",
    )
    await world.press(user, question, "Сеть и интернет")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_text(user, "ой")
    await world.reply_text(user, "Слишком коротко: нужно хотя бы 5 символов. Опишите подробнее.")
    await tg.send_text(user, "ж" * 10_000)
    await world.reply_text(
        user,
        "Описание слишком длинное: 10000 символов, а можно не больше 4000 символов. "
        "Сократите, пожалуйста.",
    )
    await tg.send_text(user, "  Нет интернета 🌐 на всём этаже, «Ростелеком» не отвечает  ")
    await world.reply(user, lambda m: m.visible_text.startswith("Где"))
    await tg.send_sticker(user)
    await world.reply_text(user, "Напишите место текстом или нажмите «Пропустить».")
    await tg.send_text(user, "к" * 201)
    await world.reply_text(
        user, "Слишком длинно: место можно описать не больше чем в 200 символов."
    )
    await tg.send_text(user, "  Офис на Тверской,   4 этаж  ")
    photos = await world.reply(user, lambda m: m.visible_text.startswith("Приложите"))
    await tg.send_text(user, "а фото не будет")
    await world.reply_text(user, "Пришлите фото или нажмите кнопку ниже.")
    await world.press(user, photos, "Без фото")
    preview = await world.reply(user)
    assert "Описание: Нет интернета 🌐 на всём этаже, «Ростелеком» не отвечает\n" in (
        preview.visible_text
    )
    assert "Место: Офис на Тверской, 4 этаж\n" in preview.visible_text


async def test_files_that_are_not_usable_photos_are_refused_with_the_reason(world: World) -> None:
    tg, user = world.tg, new_user()
    await at_photo_step(world, user)
    await tg.send_document(user, b"%PDF-1.7\n...", "act.pdf", "application/pdf")
    await world.reply_text(
        user,
        "Это не изображение. Пришлите фото или картинку (JPEG, PNG).\n"
        "Пришлите ещё или нажмите «Готово».",
    )
    broken = jpeg(5)[:300]
    await tg.send_document(user, broken, "broken.jpg", "image/jpeg")
    await world.reply_text(
        user,
        "Файл повреждён, открыть его не получилось. Пришлите фото ещё раз.\n"
        "Пришлите ещё или нажмите «Готово».",
    )
    await tg.send_document(user, png_bomb(), "bomb.png", "image/png")
    await world.reply_text(
        user,
        "У изображения слишком большое разрешение. Пришлите обычное фото или скриншот."
        "\nПришлите ещё или нажмите «Готово».",
    )
    huge = b"\xff\xd8\xff\xe0" + os.urandom(25 * 1024 * 1024)
    sent = await tg.send_document(user, huge, "huge.jpg", "image/jpeg")
    await world.reply_text(
        user,
        "Файл слишком большой (больше 20 МБ). Пришлите фото поменьше.\n"
        "Пришлите ещё или нажмите «Готово».",
    )
    # Refused from its announced size: the 25 MB were never downloaded (nor the PDF).
    downloads = [call.params.get("file_id") for call in await tg.calls("getFile")]
    assert len(downloads) == 2
    assert sent.file_id not in downloads
    await tg.send_document(user, jpeg(6, (800, 600)), "scan.png", "image/png")
    saved = await world.reply(user)
    assert saved.visible_text == (
        "Сохранено фото: 1. Всего приложено 1 из 10.\nПришлите ещё или нажмите «Готово»."
    )
    await tg.send_photo(user, jpeg(6, (800, 600)))
    await world.reply_text(user, "Это фото уже приложено.\nПришлите ещё или нажмите «Готово».")


async def test_thirty_photos_keep_ten(world: World) -> None:
    tg, user = world.tg, new_user()
    await at_photo_step(world, user)
    for album in range(3):
        await tg.send_album(user, [jpeg(album * 10 + i) for i in range(10)])
        progress = await world.reply(user)  # may already show its final text
        summary = await world.edited(user, progress, lambda m: "«Готово»" in m.visible_text)
        if album == 0:
            assert summary.visible_text == (
                "Сохранено фото: 10. Всего приложено 10 из 10.\n"
                "Больше фото приложить нельзя. Нажмите «Готово»."
            )
        else:
            assert summary.visible_text == (
                "Можно приложить не больше 10 фото — лишние (10) не сохранены.\n"
                "Больше фото приложить нельзя. Нажмите «Готово»."
            )
    await world.press(user, summary, "Готово")
    preview = await world.reply(user)
    assert "Фото: 10\n" in preview.visible_text
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(TicketSubmitted, lambda m: m.chat_id == user.id)
    assert len(submitted.attachments) == 10
    assert await world.db["attachments.files"].count_documents({}) == 10


async def test_a_captioned_photo_is_the_description(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    question = await world.start_ticket(user)
    await world.press(user, question, "Другое")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_photo(user, jpeg(1))
    await world.reply_text(
        user, "Сохранено фото: 1. Всего приложено 1 из 10.\nТеперь опишите проблему текстом."
    )
    await tg.send_photo(user, jpeg(2), caption="Разбит монитор 💥")
    await world.reply_text(user, "Сохранено фото: 1. Всего приложено 2 из 10.")
    await world.reply(user, lambda m: m.visible_text.startswith("Где вы находитесь"))


async def test_menu_buttons_mid_draft_are_requests_not_answers(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    question = await world.start_ticket(user)
    await world.press(user, question, "Другое")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_text(user, "📋 Мои заявки")
    await world.reply_text(
        user, "У вас пока нет заявок. Нажмите «📝 Новая заявка», чтобы создать первую."
    )
    await tg.send_text(user, "📝 Новая заявка")
    resume = await world.reply(user)
    assert (
        resume.visible_text == "У вас есть незаконченная заявка. Продолжить её или начать заново?"
    )
    await world.press(user, resume, "Продолжить")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_text(user, "Не работает кондиционер")
    await world.reply(user, lambda m: m.visible_text.startswith("Где вы"))


async def test_edit_from_the_preview_and_cancel(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    preview = await world.ticket_to_preview(user, description="Первое описание проблемы")
    await world.press(user, preview, "✏️ Изменить")
    menu = await world.edited(user, preview, lambda m: "Описание" in m.button_texts)
    assert menu.button_texts == ["Категорию", "Описание", "Место", "Фото", "← К заявке"]
    await world.press(user, menu, "Описание")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_text(user, "Второе описание, исправленное")
    again = await world.reply(user)
    assert "Описание: Второе описание, исправленное\n" in again.visible_text
    await tg.send_command(user, "cancel")
    await world.reply_text(user, "Действие отменено.")
    await world.tg.press_button(user, again.message_id, again.callback_data("✅ Отправить"))
    await world.settle()
    assert world.bus.all(TicketSubmitted) == []


async def test_the_last_place_is_offered_again_and_can_be_forgotten(world: World) -> None:
    tg, user = world.tg, new_user()
    await world.sign_in(user)
    question = await world.start_ticket(user)
    await world.press(user, question, "Другое")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_text(user, "Сломался стул, шатается")
    await world.reply(user, lambda m: m.visible_text.startswith("Где"))
    await tg.send_text(user, "каб. 512")
    photos = await world.reply(user)
    await world.press(user, photos, "Без фото")
    preview = await world.reply(user)
    await world.press(user, preview, "✅ Отправить")
    await world.reply(user, lambda m: m.visible_text.startswith("Заявка"))

    question = await world.start_ticket(user)
    await world.press(user, question, "Другое")
    await world.reply(user, lambda m: m.visible_text.startswith("Опишите"))
    await tg.send_text(user, "Второй стул тоже сломался")
    where = await world.reply(user)
    assert where.visible_text.endswith("или выберите место из прошлой заявки.")
    assert where.button_texts == [
        "📍 каб. 512",
        "Удалить сохранённое место",
        "Пропустить",
        "✖️ Отмена",
    ]
    await world.press(user, where, "Удалить сохранённое место")
    forgotten = await world.edited(user, where)
    assert forgotten.button_texts == ["Пропустить", "✖️ Отмена"]
    stored = await world.db["gateway_users"].find_one({"_id": user.id})
    assert stored is not None and "last_location" not in stored
