"""Read the mail the SMTP sink captured: one `.eml` file per accepted message, in arrival order.

The sink process (`python -m helpdesk_harness.smtp_sink --spool DIR`) writes each message under a
hidden name and renames it, so a reader never sees half a message. File names start with a
nanosecond time stamp, so sorting them sorts by arrival.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

# The code emails end the code line with the code ("...: 123456"); nothing else in them does.
_CODE_LINE = re.compile(r":\s*(\d{4,10})\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SpooledMail:
    """One captured message."""

    name: str
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", "")).strip()

    @property
    def date(self) -> str:
        return str(self.message.get("Date", ""))

    @property
    def recipients(self) -> list[str]:
        """Addresses in To and Cc, lower-cased (the sink keeps DATA only, not the envelope)."""
        fields = [str(v) for key in ("To", "Cc") for v in self.message.get_all(key) or []]
        return [addr.lower() for _, addr in getaddresses(fields) if addr]

    def is_to(self, address: str) -> bool:
        return address.lower() in self.recipients

    @property
    def text(self) -> str:
        """The text/plain body (decoded), or "" if there is none."""
        part = self.message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        content = part.get_content()
        # Parsed from the wire, the text keeps its CRLF line ends.
        return content.replace("\r\n", "\n") if isinstance(content, str) else ""

    @property
    def attachments(self) -> list[Attachment]:
        found: list[Attachment] = []
        for part in self.message.iter_attachments():
            payload = part.get_payload(decode=True)
            found.append(
                Attachment(
                    filename=part.get_filename() or "",
                    content_type=part.get_content_type(),
                    data=payload if isinstance(payload, bytes) else b"",
                )
            )
        return found

    @property
    def code(self) -> str | None:
        """The sign-in code, if this is a code email."""
        match = _CODE_LINE.search(self.text)
        return match.group(1) if match else None


def read_mail(path: Path) -> SpooledMail:
    raw = path.read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # the default policy always builds one
        raise TypeError(f"{path} did not parse as an EmailMessage")
    return SpooledMail(name=path.name, raw=raw, message=message)


class SmtpSpool:
    """The sink's spool directory, read on demand."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.glob("*.eml"))

    def messages(self, *, after: str | None = None) -> list[SpooledMail]:
        """Every captured message (those after file name `after`), oldest first."""
        return [
            read_mail(self.directory / name)
            for name in self.names()
            if after is None or name > after
        ]

    def to(self, address: str) -> list[SpooledMail]:
        return [mail for mail in self.messages() if mail.is_to(address)]

    def latest_code(self, address: str) -> str | None:
        codes = [mail.code for mail in self.to(address) if mail.code is not None]
        return codes[-1] if codes else None

    async def wait_for(
        self,
        predicate: Callable[[SpooledMail], bool],
        *,
        timeout: float = 30.0,  # noqa: ASYNC109 - one deadline over many directory reads
        count: int = 1,
        poll: float = 0.05,
    ) -> list[SpooledMail]:
        """Wait until `count` captured messages match; return all that match."""
        deadline = time.monotonic() + timeout
        while True:
            found = [mail for mail in self.messages() if predicate(mail)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                subjects = [mail.subject for mail in self.messages()]
                raise TimeoutError(
                    f"{len(found)} of {count} matching message(s) after {timeout}s; "
                    f"the sink holds: {subjects}"
                )
            await asyncio.sleep(poll)
