"""Retention settings come from JANITOR_* variables and turn into the policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_janitor.settings import JanitorSettings
from pydantic import ValidationError


def test_defaults_follow_the_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JANITOR_CLOSED_TICKET_DAYS", "JANITOR_MAX_AGE_DAYS", "JANITOR_INTERVAL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = JanitorSettings()
    policy = settings.retention()
    assert policy.closed_after == timedelta(days=30)
    assert policy.max_age == timedelta(days=180)
    assert policy.abandoned_after == timedelta(hours=48)
    # A rejected ticket is as finished as a closed one: its photos go after the same N days.
    assert policy.finished_statuses == {
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
        TicketStatus.REJECTED,
    }
    assert settings.interval_seconds == 3600
    assert settings.quarantine_time_field == "quarantined_at"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JANITOR_CLOSED_TICKET_DAYS", "7")
    monkeypatch.setenv("JANITOR_QUARANTINE_DAYS", "3")
    monkeypatch.setenv("JANITOR_FINISHED_STATUSES", '["closed", "rejected"]')
    monkeypatch.setenv("JANITOR_QUARANTINE_TIME_FIELD", "received_at")
    monkeypatch.setenv("JANITOR_INTERVAL_SECONDS", "0")
    settings = JanitorSettings()
    policy = settings.retention()
    assert policy.closed_after == timedelta(days=7)
    assert policy.quarantine_after == timedelta(days=3)
    assert policy.finished_statuses == {TicketStatus.CLOSED, TicketStatus.REJECTED}
    assert settings.quarantine_time_field == "received_at"
    assert settings.interval_seconds == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JANITOR_QUARANTINE_TIME_FIELD", "$where"),
        ("JANITOR_ATTACHMENTS_BUCKET", "a b"),
        ("JANITOR_FINISHED_STATUSES", '["done"]'),
        ("JANITOR_MAX_AGE_DAYS", "0"),
    ],
)
def test_nonsense_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        JanitorSettings()
