"""Texts the user reads, composed from the locale files, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from helpdesk_contracts.auth.v1 import CodeRejected, RejectReason
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_gateway.domain.catalogue import bundled_catalogue_path, load_catalogue
from helpdesk_gateway.domain.drafts import DraftPhoto, TicketDraft
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.views import (
    duration_text,
    preview_text,
    reject_text,
    status_text,
    ticket_detail_text,
    ticket_list_text,
)

from tests.unit.gateway.factories import entry, status_event, ticket

MOSCOW = ZoneInfo("Europe/Moscow")
I18N = I18n.load()
RU, EN = I18N.texts("ru"), I18N.texts("en")
CATALOGUE = load_catalogue(bundled_catalogue_path())


def test_preview_in_russian_and_english() -> None:
    photo = DraftPhoto(file_id="a" * 24, size=1, sha256="0" * 64, width=1, height=1)
    draft = TicketDraft(
        category="printers.jam",
        description="Зажевало бумагу 😱",
        location="каб. 305",
        photos=[photo],
    )
    assert preview_text(RU, draft, CATALOGUE) == (
        "Проверьте заявку:\n\nКатегория: Принтеры и МФУ › Замятие бумаги\n"
        "Описание: Зажевало бумагу 😱\nМесто: каб. 305\nФото: 1\n\nВсё верно?"
    )
    draft.location = None
    assert preview_text(EN, draft, CATALOGUE) == (
        "Please check the ticket:\n\nCategory: Printers and MFPs › Paper jam\n"
        "Description: Зажевало бумагу 😱\nPlace: not given\nPhotos: 1\n\nIs everything correct?"
    )


@pytest.mark.parametrize("reason", list(RejectReason))
@pytest.mark.parametrize("t", [RU, EN], ids=["ru", "en"])
def test_every_refusal_has_plain_words(reason: RejectReason, t: object) -> None:
    event = CodeRejected(
        telegram_user_id=1, chat_id=1, reason=reason, retry_after_seconds=125, attempts_left=2
    )
    text = reject_text(t, event)  # type: ignore[arg-type]
    assert text and "{" not in text and "_" not in text


def test_refusals_say_how_long_to_wait_and_how_many_attempts_are_left() -> None:
    cooldown = CodeRejected(
        telegram_user_id=1, chat_id=1, reason=RejectReason.COOLDOWN, retry_after_seconds=42
    )
    assert reject_text(RU, cooldown) == "Код уже отправлен. Новый можно запросить через 42 с."
    wrong = CodeRejected(
        telegram_user_id=1, chat_id=1, reason=RejectReason.WRONG_CODE, attempts_left=2
    )
    assert reject_text(EN, wrong) == "Wrong code. 2 attempts left."
    locked = CodeRejected(
        telegram_user_id=1,
        chat_id=1,
        reason=RejectReason.TOO_MANY_ATTEMPTS,
        attempts_left=0,
        retry_after_seconds=38,
    )
    # The cooldown is stated, not contradicted by "write your email again" straight away.
    assert reject_text(RU, locked) == (
        "Слишком много неверных попыток, этот код больше не действует. Через 38 с введите "
        "адрес рабочей почты ещё раз — я пришлю новый код."
    )


def test_a_lockout_after_wrong_codes_says_how_long_it_lasts() -> None:
    locked = CodeRejected(
        telegram_user_id=1, chat_id=1, reason=RejectReason.TOO_MANY_ATTEMPTS, retry_after_seconds=60
    )
    assert reject_text(RU, locked) == (
        "Слишком много неверных кодов, поэтому вход временно заблокирован. "
        "Попробуйте снова через 1 мин."
    )
    spent = CodeRejected(
        telegram_user_id=1, chat_id=1, reason=RejectReason.TOO_MANY_ATTEMPTS, attempts_left=0
    )
    assert reject_text(EN, spent) == (
        "Too many wrong attempts. Enter your work email address again and I will send a new code."
    )


def test_durations_round_up() -> None:
    assert [duration_text(RU, s) for s in (0.2, 59, 61, 3600, 3601)] == [
        "1 с",
        "59 с",
        "2 мин",
        "1 ч",
        "2 ч",
    ]
    assert duration_text(EN, None) == "a few minutes"


def test_status_messages_carry_the_infra_manager_number() -> None:
    registered = status_event(TicketStatus.REGISTERED)
    assert status_text(RU, ticket(), registered, ask_rating=False) == (
        "Заявка TG-7F3A2C (№12345) зарегистрирована в ИТ-поддержке."
    )
    waiting = status_event(TicketStatus.WAITING, raw_status="На согласовании", comment="Ждём")
    assert status_text(EN, ticket(), waiting, ask_rating=False) == (
        "Ticket TG-7F3A2C (No. 12345) is waiting for an approval or a clarification.\n"
        "Status at IT support: “На согласовании”.\n\nComment from support: Ждём"
    )
    closed = status_event(TicketStatus.CLOSED, number=None)
    assert "Оцените" in status_text(RU, ticket(), closed, ask_rating=True)


def test_ticket_list_and_details_show_dates_in_local_time() -> None:
    one = ticket(
        itsm_number="12345",
        status=TicketStatus.IN_PROGRESS,
        submitted_at=datetime(2026, 11, 26, 22, 30, tzinfo=UTC),
        history=[entry(TicketStatus.REGISTERED, 10)],
    )
    listing = ticket_list_text(RU, [one], CATALOGUE, MOSCOW)
    assert listing == (
        "Ваши последние заявки:\n\nTG-7F3A2C (№12345) · В работе · 27.11.2026\n"
        "Принтеры и МФУ › Замятие бумаги"
    )
    details = ticket_detail_text(EN, one, CATALOGUE, MOSCOW)
    assert details.startswith("Ticket TG-7F3A2C\nIT support number: 12345\nStatus: In progress\n")
    assert "Created: 2026-11-27 01:30" in details
    assert "History:\n2026-11-23 12:10 — Registered" in details
