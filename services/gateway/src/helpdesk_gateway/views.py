"""Message texts composed from locale texts and data: pure functions, tested without Telegram."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from helpdesk_contracts.auth.v1 import CodeRejected, RejectReason
from helpdesk_contracts.ticket.v1 import TicketStatus, TicketStatusChanged

from helpdesk_gateway.domain.catalogue import Catalogue
from helpdesk_gateway.domain.drafts import TicketDraft
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.i18n import Texts

MAX_PREVIEW_DESCRIPTION = 3000  # the preview must stay under Telegram's 4096 characters


def stars_text(value: int) -> str:
    return "★" * value + "☆" * (5 - value)


def format_date(t: Texts, moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(t("format-date"))


def format_datetime(t: Texts, moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(t("format-datetime"))


def duration_text(t: Texts, seconds: float | None) -> str:
    """'45 с', '3 мин', '2 ч' (rounded up: never promise sooner than true)."""
    if seconds is None:
        return t("duration-a-while")
    if seconds < 60:
        return t("duration-seconds", n=max(1, math.ceil(seconds)))
    if seconds < 3600:
        return t("duration-minutes", n=math.ceil(seconds / 60))
    return t("duration-hours", n=math.ceil(seconds / 3600))


def ticket_label(t: Texts, ticket: TicketRecord, itsm_number: str | None = None) -> str:
    number = itsm_number or ticket.itsm_number
    if number:
        return t("ticket-label-number", reference=ticket.reference, number=number)
    return ticket.reference


def preview_text(t: Texts, draft: TicketDraft, catalogue: Catalogue) -> str:
    category = (
        catalogue.path_title(draft.category, t.locale)
        if draft.category and catalogue.get(draft.category)
        else t("preview-missing")
    )
    description = draft.description or t("preview-missing")
    if len(description) > MAX_PREVIEW_DESCRIPTION:
        description = description[:MAX_PREVIEW_DESCRIPTION] + "…"
    return t(
        "wizard-preview",
        category=category,
        description=description,
        location=draft.location or t("preview-no-location"),
        photos=len(draft.photos),
    )


def reject_text(t: Texts, event: CodeRejected) -> str:
    reason = event.reason
    if reason == RejectReason.WRONG_CODE:
        if event.attempts_left is not None:
            return t("reject-wrong-code-left", attempts=event.attempts_left)
        return t("reject-wrong-code")
    wait = duration_text(t, event.retry_after_seconds)
    if reason == RejectReason.TOO_MANY_ATTEMPTS and event.retry_after_seconds:
        if event.attempts_left == 0:
            # This code was voided by wrong attempts: a new one can be asked for after the wait.
            return t("reject-too-many-attempts-wait", wait=wait)
        # Locked out after wrong codes: a new code would not help before the wait is over.
        return t("reject-locked-out", wait=wait)
    return t(f"reject-{reason.value.replace('_', '-')}", wait=wait)


def status_text(
    t: Texts, ticket: TicketRecord, event: TicketStatusChanged, *, ask_rating: bool
) -> str:
    label = ticket_label(t, ticket, event.itsm_number)
    key = "notify-status-" + event.status.value.replace("_", "-")
    if event.status == TicketStatus.CLOSED and ask_rating:
        key = "notify-status-closed-rate"
    if event.status == TicketStatus.REJECTED and ticket.cancel_requested_at is not None:
        key = "notify-status-cancelled"  # InfraManager confirms the employee's withdrawal
    # (InfraManager's own «Отменена» is TicketStatus.CANCELLED, which has that key anyway.)
    text = t(key, ticket=label)
    if event.raw_status and event.status in (TicketStatus.WAITING, TicketStatus.UNKNOWN):
        text += "\n" + t("notify-raw-status", raw=event.raw_status)
    if event.comment:
        text += "\n\n" + t("notify-comment", comment=event.comment)
    return text


def category_title(t: Texts, ticket: TicketRecord, catalogue: Catalogue) -> str:
    """The category in the user's language while the catalogue has it, else as stored."""
    if catalogue.get(ticket.category.code):
        return catalogue.path_title(ticket.category.code, t.locale)
    parent = ticket.category.parent_title
    return f"{parent} › {ticket.category.title}" if parent else ticket.category.title


def ticket_list_text(
    t: Texts, tickets: list[TicketRecord], catalogue: Catalogue, tz: ZoneInfo
) -> str:
    lines = [t("tickets-list-title")]
    for ticket in tickets:
        lines.append(
            t(
                "tickets-line",
                ticket=ticket_label(t, ticket),
                status=t(ticket.status_key()),
                date=format_date(t, ticket.submitted_at, tz),
                category=category_title(t, ticket, catalogue),
            )
        )
    return "\n\n".join(lines)


def ticket_detail_text(t: Texts, ticket: TicketRecord, catalogue: Catalogue, tz: ZoneInfo) -> str:
    category = category_title(t, ticket, catalogue)
    text = t(
        "ticket-detail",
        reference=ticket.reference,
        number=ticket.itsm_number or t("ticket-no-number"),
        status=t(ticket.status_key()),
        category=category,
        created=format_datetime(t, ticket.submitted_at, tz),
        location=ticket.location or t("preview-no-location"),
        photos=len(ticket.attachments),
        description=ticket.description[:MAX_PREVIEW_DESCRIPTION],
    )
    if ticket.history:
        lines = [
            t(
                "ticket-history-line",
                when=format_datetime(t, entry.changed_at, tz),
                status=t("status-" + entry.status.value.replace("_", "-")),
            )
            for entry in sorted(ticket.history, key=lambda e: e.changed_at)
        ]
        text += "\n\n" + t("ticket-history-title") + "\n" + "\n".join(lines)
    if ticket.rating.value is not None:
        text += "\n\n" + t("ticket-rating-line", stars=stars_text(ticket.rating.value))
    return text
