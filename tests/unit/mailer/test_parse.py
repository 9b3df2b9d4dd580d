"""Malformed broker bodies are named precisely in the log, without their values."""

from __future__ import annotations

import json

import pytest
from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_contracts.ticket.v1 import TicketSubmitted
from helpdesk_mailer.consumers import parse
from helpdesk_mailer.errors import MalformedMessageError

from tests.unit.mailer import factories as f


def test_a_valid_body_parses_to_the_contract() -> None:
    ticket = f.ticket()
    assert parse(TicketSubmitted, ticket.model_dump_json().encode()) == ticket


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"\x00\xffnot json", ["<body>: json_invalid"]),
        (b"[]", ["<body>: model_type"]),
        (b'{"to": "x"}', ["to: string_too_short", "template: missing"]),
    ],
)
def test_malformed_bodies_name_the_problem(body: bytes, names: list[str]) -> None:
    with pytest.raises(MalformedMessageError) as caught:
        parse(SendMail, body)
    for name in names:
        assert name in str(caught.value)


def test_the_reason_never_carries_values() -> None:
    body = f.send_mail().model_dump(mode="json")
    body["variables"] = {"code": "771199", "Bad-Key": "771199"}
    body["to"] = "771199-not-an-address"
    with pytest.raises(MalformedMessageError) as caught:
        parse(SendMail, json.dumps(body).encode())
    reason = str(caught.value)
    assert "variables.Bad-Key.[key]: string_pattern_mismatch" in reason
    assert "to: string_pattern_mismatch" in reason
    assert "771199" not in reason
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
