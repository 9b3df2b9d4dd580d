"""Buttons: versioned payloads that fit Telegram's 64 bytes, texts from the locale files."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from helpdesk_gateway.callbacks import RatingCb, WizardAction, WizardCb
from helpdesk_gateway.domain.catalogue import MAX_CODE_LENGTH, Entry
from helpdesk_gateway.domain.drafts import new_draft_id
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.keyboards import menu, tickets, wizard

I18N = I18n.load()
RU, EN = I18N.texts("ru"), I18N.texts("en")


def payloads(markup: InlineKeyboardMarkup) -> list[str]:
    return [b.callback_data or "" for row in markup.inline_keyboard for b in row]


def test_the_longest_category_code_fits_in_callback_data() -> None:
    code = "x" * MAX_CODE_LENGTH
    entry = Entry(
        code=code, titles={"ru": "Т", "en": "T"}, routing_text=None, parent=None, children=()
    )
    markup = wizard.categories(RU, new_draft_id(), [entry], back=True)
    assert all(len(p.encode()) <= 64 for p in payloads(markup))
    assert WizardCb.unpack(payloads(markup)[0]).value == code


def test_payloads_carry_a_version_prefix() -> None:
    assert WizardCb(action=WizardAction.SEND, draft="abcd1234").pack() == "w1:send:abcd1234:"
    assert RatingCb(ticket="a" * 24, stars=5).pack().startswith("r1:")


def test_location_offers_the_last_place_and_forgetting_it() -> None:
    markup = wizard.location(RU, "abcd1234", "каб. 305")
    texts = [b.text for row in markup.inline_keyboard for b in row]
    assert texts == ["📍 каб. 305", "Удалить сохранённое место", "Пропустить", "✖️ Отмена"]
    without = wizard.location(EN, "abcd1234", None)
    assert [b.text for row in without.inline_keyboard for b in row] == ["Skip", "✖️ Cancel"]


def test_photo_step_says_no_photos_until_there_are_some() -> None:
    assert wizard.photos(RU, "d", 0).inline_keyboard[0][0].text == "Без фото"
    assert wizard.photos(RU, "d", 2).inline_keyboard[0][0].text == "Готово"


def test_stars_one_to_five() -> None:
    markup = tickets.stars(RU, "a" * 24)
    assert [b.text for b in markup.inline_keyboard[0]] == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    assert [RatingCb.unpack(p).stars for p in payloads(markup)] == [1, 2, 3, 4, 5]


def test_main_menu_in_english() -> None:
    keyboard = menu.main_menu(EN).keyboard
    assert [[b.text for b in row] for row in keyboard] == [
        ["📝 New ticket"],
        ["📋 My tickets", "❓ Help"],
    ]
