"""Threat: employee-typed text smuggles header lines or invisible controls into the ticket email.

Plain CR/LF was already cleaned; the hole was RFC 2047 encoded words typed as text
(`=?utf-8?q?...=0D=0A...?=`): the email package re-encodes them faithfully, and InfraManager's
reader decodes them into a Subject with a line break, NUL or bidi override. The composed bytes
are parsed back the way a receiver would read them.
"""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import EmailMessage

import pytest
from helpdesk_mailer.compose import ComposeConfig, compose_ticket
from helpdesk_mailer.templates import Templates

from tests.unit.mailer import factories as f

FORBIDDEN = ("\r", "\n", "\x00", "\u202e", "\u2066", "\u2028")


def q_word(text: str) -> str:
    encoded = "".join(
        f"={b:02X}" if b < 33 or b > 126 or b in b"=?_" else chr(b) for b in text.encode()
    )
    return f"=?utf-8?q?{encoded}?="


def b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


PAYLOAD = "x\r\nBcc: evil@attacker.example\r\n\r\nX-Evil: 1\x00\u202eтекст"
CASES = {
    "q": q_word(PAYLOAD),
    "b": b_word(PAYLOAD),
    "nested": b_word(q_word(PAYLOAD)),
    "koi8-r": "=?koi8-r?q?=0D=0ABcc:_evil@attacker.example?=",
    "among text": f"Принтер {q_word(PAYLOAD)} не печатает",
}


def received(outgoing_bytes: bytes) -> EmailMessage:
    message = email.message_from_bytes(outgoing_bytes, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize("typed", CASES.values(), ids=CASES.keys())
def test_encoded_words_in_user_text_reach_no_header_as_controls(typed: str) -> None:
    config = ComposeConfig.from_settings(f.settings())
    ticket = f.ticket(
        description=typed,
        requester={"display_name": typed},
        category={"title": typed},
    )
    for mode in ("bot", "employee"):
        cfg = ComposeConfig.from_settings(f.settings(from_mode=mode))
        outgoing = compose_ticket(ticket, [], cfg, Templates())
        message = received(outgoing.as_bytes())
        subject = message["Subject"]
        assert subject.startswith("[TG-7F3A2C] ")
        for char in FORBIDDEN:
            assert char not in subject, (char, subject)
            assert char not in str(message["Reply-To"])
        assert message["Bcc"] is None and message["X-Evil"] is None
        assert outgoing.recipients == config.to + config.cc
    # What was typed is still readable in the subject, only harmless.
    if typed == CASES["q"]:
        assert "Bcc: evil@attacker.example X-Evil: 1текст" in subject


def test_an_undecodable_encoded_word_is_broken_up_for_lax_readers() -> None:
    ticket = f.ticket(description="=?x-unknown?q?=0D=0ABcc:_a@b.c?= и всё")
    outgoing = compose_ticket(ticket, [], ComposeConfig.from_settings(f.settings()), Templates())
    subject = received(outgoing.as_bytes())["Subject"]
    assert "=?x-unknown" not in subject
    assert "= ?x-unknown?q?=0D=0ABcc:_a@b.c?= и всё" in subject
