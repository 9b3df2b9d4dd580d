"""The SMTP sink's spool, read incrementally: each .eml is parsed once, however often it is asked.

The sink names each file `<time_ns>-<seq>.eml` when it accepts the message, so the name also
tells when the email arrived (wall clock).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from helpdesk_harness.spool import SpooledMail, read_mail

TICKET_HEADER = "X-Helpdesk-Ticket"


@dataclass(frozen=True, slots=True)
class Arrived:
    mail: SpooledMail
    at: float
    """Wall-clock seconds when the sink accepted it."""


class SpoolIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: set[str] = set()
        self._listed = 0.0
        self.tickets: dict[str, list[Arrived]] = {}
        """Ticket emails by reference (X-Helpdesk-Ticket), in arrival order."""
        self.codes: dict[str, list[str]] = {}
        """Sign-in codes by recipient, in arrival order."""

    def refresh(self, *, at_most_every: float = 0.0) -> None:
        """Read the files that arrived since the last call (listing the directory at most every
        `at_most_every` seconds: many waiters share one listing)."""
        now = time.monotonic()
        if now - self._listed < at_most_every or not self.directory.is_dir():
            return
        self._listed = now
        for name in sorted(p.name for p in self.directory.glob("*.eml")):
            if name in self._seen:
                continue
            self._seen.add(name)
            mail = read_mail(self.directory / name)
            arrived = Arrived(mail, int(name.split("-", 1)[0]) / 1e9)
            reference = mail.message.get(TICKET_HEADER)
            if reference is not None:
                self.tickets.setdefault(str(reference).strip(), []).append(arrived)
            elif (code := mail.code) is not None:
                for recipient in mail.recipients:
                    self.codes.setdefault(recipient, []).append(code)

    async def code_for(self, email: str, *, after: int = 0, timeout: float = 60.0) -> str:  # noqa: ASYNC109
        """The `after+1`-th code sent to this address (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            self.refresh(at_most_every=0.1)
            codes = self.codes.get(email.lower(), [])
            if len(codes) > after:
                return codes[after]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no sign-in code for {email} within {timeout}s")
            await asyncio.sleep(0.1)
