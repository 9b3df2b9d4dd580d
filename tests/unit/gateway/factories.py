"""Tickets and events for unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_contracts.ticket.v1 import (
    Category,
    Requester,
    TicketStatus,
    TicketStatusChanged,
)
from helpdesk_gateway.domain.tickets import StatusEntry, TicketRecord

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TICKET_ID = "6745a1f2c3d4e5f601234560"


def ticket(**overrides: Any) -> TicketRecord:
    fields: dict[str, Any] = {
        "id": TICKET_ID,
        "reference": "TG-7F3A2C",
        "draft_id": "d1d2d3d4",
        "user_id": 1001,
        "chat_id": 1001,
        "requester": Requester(
            telegram_user_id=1001,
            email="maria.ivanova@example.com",
            display_name="Иванова Мария Петровна",
        ),
        "category": Category(code="printers.jam", title="Замятие бумаги", parent_title="Принтеры"),
        "description": "Принтер зажевал бумагу 🙁",
        "location": "каб. 305",
        "submitted_at": T0,
    }
    fields.update(overrides)
    return TicketRecord(**fields)


def status_event(
    status: TicketStatus, *, minutes: float = 30, number: str | None = "12345", **extra: Any
) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=TICKET_ID,
        reference="TG-7F3A2C",
        status=status,
        itsm_number=number,
        changed_at=T0 + timedelta(minutes=minutes),
        **extra,
    )


def entry(status: TicketStatus, minutes: float) -> StatusEntry:
    return StatusEntry(
        status=status, changed_at=T0 + timedelta(minutes=minutes), message_id=f"m-{minutes}"
    )
