"""What a neighbour sees of the contracts: valid messages round-trip, bad data is refused."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from helpdesk_contracts.admin.v1 import BuildReport, RevokeUser
from helpdesk_contracts.auth.v1 import EmployeeProfile, UserAuthorized
from helpdesk_contracts.base import Command, Event
from helpdesk_contracts.catalog import BY_ROUTING_KEY, MESSAGES, message_type
from helpdesk_contracts.ticket.v1 import (
    MAX_ATTACHMENTS,
    MAX_DESCRIPTION_LENGTH,
    Attachment,
    Category,
    Requester,
    TicketRated,
    TicketSubmitted,
)
from pydantic import ValidationError

NOW = datetime(2026, 11, 26, 10, 20, tzinfo=UTC)


def _attachment(n: int) -> Attachment:
    return Attachment(
        file_id=f"{n:024x}",
        filename=f"photo-{n}.jpg",
        content_type="image/jpeg",
        size=1000 + n,
        sha256="a" * 64,
    )


def _ticket(**overrides: object) -> TicketSubmitted:
    fields: dict[str, object] = {
        "ticket_id": "6745a1f2c3d4e5f601234560",
        "reference": "TG-7F3A2C",
        "requester": Requester(
            telegram_user_id=42,
            email="maria.ivanova@example.com",
            display_name="Иванова Мария Петровна",
        ),
        "chat_id": 42,
        "category": Category(code="printers.not_printing", title="Принтер: не печатает"),
        "description": "Не печатает 🖨️",
        "submitted_at": NOW,
    }
    fields.update(overrides)
    return TicketSubmitted.model_validate(fields)


def test_message_round_trips_through_json_with_its_identity() -> None:
    ticket = _ticket(attachments=[_attachment(1), _attachment(2)], location="каб. 305")
    again = TicketSubmitted.model_validate_json(ticket.model_dump_json())
    assert again == ticket
    assert again.message_id == ticket.message_id
    assert again.occurred_at.tzinfo is not None


def test_messages_are_frozen() -> None:
    ticket = _ticket()
    with pytest.raises(ValidationError):
        ticket.description = "changed"  # type: ignore[misc]


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    data = _ticket().model_dump(mode="json") | {"priority": "high"}
    assert TicketSubmitted.model_validate(data).reference == "TG-7F3A2C"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", ""),
        ("description", "x" * (MAX_DESCRIPTION_LENGTH + 1)),
        ("reference", "TG-7f3a2c"),
        ("reference", "TG-7F3A2C\r\nBcc: x@evil.example"),
        ("ticket_id", "not-an-object-id"),
        ("attachments", [_attachment(i) for i in range(MAX_ATTACHMENTS + 1)]),
        ("submitted_at", datetime(2026, 11, 26, 10, 20)),  # naive time is ambiguous
    ],
)
def test_bad_ticket_data_is_refused_at_the_edge(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        _ticket(**{field: value})


@pytest.mark.parametrize(
    "email",
    ["no-at-sign", "two@@example.com", "a b@example.com", "x@localhost", "x@example.com\r\nBcc: y"],
)
def test_email_format_is_checked(email: str) -> None:
    with pytest.raises(ValidationError):
        Requester(telegram_user_id=1, email=email, display_name="X")


def test_email_is_trimmed_and_its_domain_lower_cased() -> None:
    requester = Requester(
        telegram_user_id=1, email="  Maria.Ivanova@Example.COM ", display_name="M"
    )
    assert requester.email == "Maria.Ivanova@example.com"


def test_rating_is_one_to_five() -> None:
    for rating in (0, 6):
        with pytest.raises(ValidationError):
            TicketRated(
                ticket_id="6745a1f2c3d4e5f601234560",
                reference="TG-7F3A2C",
                telegram_user_id=1,
                rating=rating,
                rated_at=NOW,
            )


def test_admin_user_commands_need_exactly_one_selector() -> None:
    with pytest.raises(ValidationError):
        RevokeUser(requested_by="ops")
    with pytest.raises(ValidationError):
        RevokeUser(requested_by="ops", telegram_user_id=1, email="a@example.com")
    assert RevokeUser(requested_by="ops", telegram_user_id=1).telegram_user_id == 1


def test_report_period_must_be_ordered() -> None:
    with pytest.raises(ValidationError):
        BuildReport.model_validate(
            {"requested_by": "ops", "since": "2026-11-30", "until": "2026-11-01"}
        )


def test_user_authorized_carries_the_directory_profile() -> None:
    event = UserAuthorized(
        telegram_user_id=7,
        chat_id=7,
        profile=EmployeeProfile(
            email="john.smith@example.com",
            display_name="John Smith",
            directory_dn="uid=john.smith,ou=people,dc=example,dc=com",
        ),
        authorized_at=NOW,
        correlation_id=uuid.uuid4(),
    )
    assert UserAuthorized.model_validate_json(event.model_dump_json()).profile.email == (
        "john.smith@example.com"
    )


ROUTING_KEY = re.compile(r"^(auth|ticket|mail|inbox|janitor|admin)\.[a-z][a-z_]*\.v[1-9][0-9]*$")


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.routing_key)
def test_catalogue_naming_rules(message: type[Event] | type[Command]) -> None:
    assert ROUTING_KEY.match(message.routing_key)
    assert message.__name__[0].isupper()
    assert not message.__name__.endswith(("Event", "Command", "Message"))
    assert message_type(message.routing_key) is message
    # every field documented for the AsyncAPI reader: a description or examples
    for name, field in message.model_fields.items():
        assert field.description or field.examples or field.annotation is not None, name


def test_routing_keys_are_unique() -> None:
    assert len(BY_ROUTING_KEY) == len(MESSAGES)


def test_the_issue_flows_are_all_in_the_catalogue() -> None:
    names = {m.__name__ for m in MESSAGES}
    assert {
        "RequestCode",
        "CodeSent",
        "CodeRejected",
        "VerifyCode",
        "UserAuthorized",
        "UserRevoked",
        "TicketSubmitted",
        "TicketEmailed",
        "TicketEmailFailed",
        "TicketStatusChanged",
        "TicketRated",
        "SendMail",
        "MailSent",
        "InboxMessageUnmatched",
        "AttachmentsPurged",
        "JanitorRunCompleted",
        "RunJanitor",
        "DeleteUser",
        "RevokeUser",
        "ClearLocation",
        "Broadcast",
        "ReloadCategories",
        "BuildReport",
        "AdminCommandCompleted",
    } <= names
