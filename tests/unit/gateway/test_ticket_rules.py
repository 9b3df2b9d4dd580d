"""What each lifecycle event changes on a ticket and whether its author hears about it."""

from __future__ import annotations

import re
from datetime import timedelta

from helpdesk_contracts.ticket.v1 import TicketEmailed, TicketEmailFailed, TicketStatus
from helpdesk_gateway.domain.tickets import (
    EmailState,
    Rating,
    new_reference,
    on_email_failed,
    on_emailed,
    on_status_changed,
)

from tests.unit.gateway.factories import T0, TICKET_ID, entry, status_event, ticket

NOW = T0 + timedelta(hours=1)


def emailed() -> TicketEmailed:
    return TicketEmailed(
        ticket_id=TICKET_ID, reference="TG-7F3A2C", email_message_id="<x@y>", sent_at=T0
    )


def failed(*, permanent: bool) -> TicketEmailFailed:
    return TicketEmailFailed(
        ticket_id=TICKET_ID, reference="TG-7F3A2C", permanent=permanent, reason="refused"
    )


def test_references_are_tg_and_six_characters() -> None:
    references = {new_reference() for _ in range(200)}
    assert all(re.fullmatch(r"TG-[0-9A-Z]{6}", r) for r in references)
    assert len(references) > 190


def test_the_first_emailed_event_is_told_a_second_one_is_not() -> None:
    first = on_emailed(ticket(), emailed())
    assert first.notify and first.set_fields["email_state"] == "sent"
    assert not on_emailed(ticket(email_state=EmailState.SENT), emailed()).notify


def test_a_temporary_failure_is_told_once_then_retries_are_silent() -> None:
    first = on_email_failed(ticket(), failed(permanent=False))
    assert first.notify and first.set_fields["email_state"] == "retrying"
    again = on_email_failed(ticket(email_state=EmailState.RETRYING), failed(permanent=False))
    assert not again.notify


def test_giving_up_is_told_even_after_retries() -> None:
    change = on_email_failed(ticket(email_state=EmailState.RETRYING), failed(permanent=True))
    assert change.notify and change.set_fields["email_state"] == "failed"


def test_a_late_failure_after_success_changes_nothing() -> None:
    change = on_email_failed(ticket(email_state=EmailState.SENT), failed(permanent=True))
    assert not change.notify and change.set_fields == {}


def test_registration_sets_the_number_and_is_told() -> None:
    change = on_status_changed(ticket(), status_event(TicketStatus.REGISTERED), NOW)
    assert change.notify and not change.ask_rating
    assert change.set_fields["itsm_number"] == "12345"
    assert change.set_fields["status"] == "registered"
    assert change.history is not None and change.history.status == TicketStatus.REGISTERED


def test_the_same_status_read_twice_is_not_told_again() -> None:
    current = ticket(
        status=TicketStatus.IN_PROGRESS,
        itsm_number="12345",
        status_changed_at=T0 + timedelta(minutes=30),
    )
    change = on_status_changed(current, status_event(TicketStatus.IN_PROGRESS, minutes=40), NOW)
    assert not change.notify


def test_an_older_notification_read_late_goes_to_history_only() -> None:
    current = ticket(status=TicketStatus.RESOLVED, status_changed_at=T0 + timedelta(hours=3))
    change = on_status_changed(current, status_event(TicketStatus.IN_PROGRESS, minutes=60), NOW)
    assert not change.notify
    assert "status" not in change.set_fields
    assert change.history is not None


def test_resolved_asks_for_a_rating_once() -> None:
    change = on_status_changed(ticket(), status_event(TicketStatus.RESOLVED), NOW)
    assert change.notify and change.ask_rating
    assert change.set_fields["rating.requested_at"] == NOW
    asked = ticket(rating=Rating(requested_at=NOW), status=TicketStatus.RESOLVED)
    closed = on_status_changed(asked, status_event(TicketStatus.CLOSED, minutes=90), NOW)
    assert closed.notify and not closed.ask_rating


def test_closed_without_resolved_asks_for_a_rating() -> None:
    change = on_status_changed(ticket(), status_event(TicketStatus.CLOSED), NOW)
    assert change.ask_rating


def test_a_new_comment_is_news_even_with_the_same_status() -> None:
    current = ticket(status=TicketStatus.WAITING, itsm_number="12345", status_changed_at=T0)
    event = status_event(TicketStatus.WAITING, comment="Нужен доступ в кабинет")
    assert on_status_changed(current, event, NOW).notify


def test_status_keys_follow_the_email_until_infra_manager_answers() -> None:
    assert ticket().status_key() == "status-submitted"
    assert ticket(email_state=EmailState.FAILED).status_key() == "status-email-failed"
    assert ticket(status=TicketStatus.IN_PROGRESS).status_key() == "status-in-progress"


def test_a_status_notification_joins_the_thread_the_employees_reply_answers() -> None:
    question = status_event(
        TicketStatus.WAITING,
        comment="В каком кабинете?",
        source_email_id="<12345.question@im.example.com>",
        email_subject="Заявка №12345 Не печатает принтер",
    )
    fields = on_status_changed(ticket(), question, NOW).set_fields
    assert fields["thread.message_ids"] == ["<12345.question@im.example.com>"]
    assert fields["thread.subject"] == "Заявка №12345 Не печатает принтер"
    # The same notification read again adds nothing; the thread keeps the newest 19.
    known = ticket(thread={"message_ids": ["<12345.question@im.example.com>"]})
    assert "thread.message_ids" not in on_status_changed(known, question, NOW).set_fields
    full = ticket(thread={"message_ids": [f"<{i}@im>" for i in range(19)]})
    kept = on_status_changed(full, question, NOW).set_fields["thread.message_ids"]
    assert isinstance(kept, list) and len(kept) == 19
    assert kept[0] == "<1@im>" and kept[-1] == "<12345.question@im.example.com>"


def test_not_solved_reopens_only_while_the_resolution_awaits_the_confirmation() -> None:
    resolved = ticket(status=TicketStatus.RESOLVED, history=[entry(TicketStatus.RESOLVED, 10)])
    assert resolved.reopen_refusal() is None
    moved_on = [
        resolved.model_copy(update={"status": status})
        for status in (TicketStatus.REOPENED, TicketStatus.CLOSED, TicketStatus.CANCELLED)
    ]
    withdrawn = resolved.model_copy(update={"cancel_requested_at": T0})
    for later in [*moved_on, withdrawn]:
        assert later.reopen_refusal() == "reopen-no-longer-awaiting"
    assert ticket(status=TicketStatus.IN_PROGRESS).reopen_refusal() == "reopen-not-resolved"
