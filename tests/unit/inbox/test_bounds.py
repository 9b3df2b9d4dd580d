"""One mail is read within a time bound: a parse that runs too long yields its headers only."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, cast

import pytest
from helpdesk_inbox import process
from helpdesk_inbox.adapters.links import LinkStore
from helpdesk_inbox.adapters.quarantine import QuarantineStore
from helpdesk_inbox.process import MailProcessor
from helpdesk_inbox.rules import load_rules
from helpdesk_inbox.trust import SenderPolicy

MAIL = "From: InfraManager <im@example.com>\nSubject: Заявка №1 [TG-7F3A2C]\n\nСтатус: В работе\n"


async def test_a_parse_over_the_time_bound_gives_the_headers_and_a_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def slow(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.5)

    monkeypatch.setattr(process, "parse_message", slow)
    processor = MailProcessor(
        cast(LinkStore, None),
        cast(QuarantineStore, None),
        load_rules(),
        senders=SenderPolicy(senders=("im@example.com",)),
        match_grace=timedelta(0),
        parse_timeout=0.05,
    )
    started = time.monotonic()
    parsed = await processor.parse(MAIL.encode())

    assert time.monotonic() - started < 0.4
    assert parsed.problems == ("parse-timeout:0.05s",)
    assert (parsed.from_addresses, parsed.token, parsed.status) == (
        ("im@example.com",),
        "TG-7F3A2C",
        None,
    )
