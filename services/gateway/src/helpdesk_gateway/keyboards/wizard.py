"""Buttons of the new-ticket wizard; every button carries the draft id it belongs to."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from helpdesk_gateway.callbacks import WizardAction, WizardCb
from helpdesk_gateway.domain.catalogue import Entry
from helpdesk_gateway.domain.drafts import Step
from helpdesk_gateway.i18n import Texts

Rows = list[list[InlineKeyboardButton]]


def _button(text: str, action: WizardAction, draft: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=WizardCb(action=action, draft=draft, value=value).pack()
    )


def _cancel_row(t: Texts, draft: str) -> list[InlineKeyboardButton]:
    return [_button(t("button-cancel"), WizardAction.CANCEL, draft)]


def categories(t: Texts, draft: str, entries: list[Entry], *, back: bool) -> InlineKeyboardMarkup:
    rows: Rows = [
        [_button(entry.title(t.locale), WizardAction.CATEGORY, draft, entry.code)]
        for entry in entries
    ]
    if back:
        rows.append([_button(t("button-back"), WizardAction.BACK, draft)])
    rows.append(_cancel_row(t, draft))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def location(t: Texts, draft: str, last_location: str | None) -> InlineKeyboardMarkup:
    rows: Rows = []
    if last_location:
        rows.append(
            [
                _button(
                    t("button-last-location", location=last_location),
                    WizardAction.LAST_LOCATION,
                    draft,
                )
            ]
        )
        rows.append([_button(t("button-forget-location"), WizardAction.FORGET_LOCATION, draft)])
    rows.append([_button(t("button-skip-location"), WizardAction.SKIP_LOCATION, draft)])
    rows.append(_cancel_row(t, draft))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def photos(t: Texts, draft: str, count: int) -> InlineKeyboardMarkup:
    rows: Rows = [
        [
            _button(
                t("button-photos-done") if count else t("button-no-photos"),
                WizardAction.PHOTOS_DONE,
                draft,
            )
        ]
    ]
    if count:
        rows.append([_button(t("button-clear-photos"), WizardAction.CLEAR_PHOTOS, draft)])
    rows.append(_cancel_row(t, draft))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def preview(t: Texts, draft: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(t("button-send"), WizardAction.SEND, draft)],
            [
                _button(t("button-edit"), WizardAction.EDIT, draft),
                _button(t("button-cancel"), WizardAction.CANCEL, draft),
            ],
        ]
    )


def edit_menu(t: Texts, draft: str) -> InlineKeyboardMarkup:
    steps = [
        (Step.CATEGORY, "button-edit-category"),
        (Step.DESCRIPTION, "button-edit-description"),
        (Step.LOCATION, "button-edit-location"),
        (Step.PHOTOS, "button-edit-photos"),
    ]
    rows: Rows = [
        [_button(t(key), WizardAction.EDIT_STEP, draft, step.value)] for step, key in steps
    ]
    rows.append([_button(t("button-back-to-preview"), WizardAction.PREVIEW, draft)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def resume(t: Texts, draft: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("button-continue"), WizardAction.CONTINUE, draft),
                _button(t("button-restart"), WizardAction.RESTART, draft),
            ]
        ]
    )


def cancel_only(t: Texts, draft: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[_cancel_row(t, draft)])
