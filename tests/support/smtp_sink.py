"""pytest fixtures for the SMTP sink (registered in tests/conftest.py); the sink is
`helpdesk_harness.smtp_sink.SmtpSink`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest
from helpdesk_harness.smtp_sink import SmtpSink


class SmtpSinkFactory(Protocol):
    """Type of the smtp_sink_factory fixture: SmtpSink's options -> a started sink."""

    def __call__(
        self,
        *,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        auth: tuple[str, str] | None = None,
        auth_required: bool = False,
        auth_require_tls: bool = True,
    ) -> SmtpSink: ...


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A started plain sink (no TLS, no AUTH) for one test."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def smtp_sink_factory() -> Iterator[SmtpSinkFactory]:
    """Build started sinks with TLS/AUTH options; every one is closed after the test."""
    sinks: list[SmtpSink] = []

    def make(
        *,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        auth: tuple[str, str] | None = None,
        auth_required: bool = False,
        auth_require_tls: bool = True,
    ) -> SmtpSink:
        sink = SmtpSink(
            starttls=starttls,
            require_starttls=require_starttls,
            implicit_tls=implicit_tls,
            auth=auth,
            auth_required=auth_required,
            auth_require_tls=auth_require_tls,
        )
        sinks.append(sink)
        return sink.start()

    yield make
    for sink in sinks:
        sink.close()
