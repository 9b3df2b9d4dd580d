"""The poller's bookkeeping with in-memory fakes: what is read, recorded, deferred, deleted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from helpdesk_inbox.adapters.pop3 import MailRef, Pop3Mailbox
from helpdesk_inbox.adapters.seen import SeenState, SeenStore
from helpdesk_inbox.errors import MessageFetchError
from helpdesk_inbox.poller import Poller, PollOptions
from helpdesk_inbox.process import Kind, MailProcessor, Outcome

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@dataclass
class FakeSession:
    mail: dict[str, bytes]
    sizes: dict[str, int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    quit_called: bool = False

    async def listing(self) -> list[MailRef]:
        return [MailRef(n, u, self.sizes.get(u, 100)) for n, u in enumerate(self.mail, 1)]

    async def retrieve(self, ref: MailRef) -> bytes:
        self.calls.append(f"RETR {ref.uidl}")
        if self.mail[ref.uidl] == b"-ERR":
            raise MessageFetchError("RETR: -ERR message vanished")
        return self.mail[ref.uidl]

    async def headers(self, ref: MailRef) -> bytes:
        self.calls.append(f"TOP {ref.uidl}")
        return b"Subject: big\r\n\r\n"

    async def delete(self, ref: MailRef) -> None:
        self.calls.append(f"DELE {ref.uidl}")

    async def quit(self) -> None:
        self.quit_called = True

    async def close(self) -> None:
        pass


@dataclass
class FakeMailbox:
    session: FakeSession

    async def open(self) -> FakeSession:
        return self.session


class FakeSeen:
    def __init__(self) -> None:
        self.state = SeenState()

    async def load(self, mailbox: str) -> SeenState:
        s = self.state
        return SeenState(s.exists, set(s.done), dict(s.deferred), set(s.dele_pending))

    async def baseline(self, mailbox: str, uidls: list[str], now: datetime) -> bool:
        self.state = SeenState(exists=True, done=set(uidls))
        return True

    async def mark_done(
        self, mailbox: str, uidls: list[str], *, delete: list[str], now: datetime
    ) -> None:
        self.state.exists = True
        self.state.done.update(uidls)
        self.state.dele_pending.update(delete)
        for uidl in uidls:
            self.state.deferred.pop(uidl, None)

    async def mark_deferred(self, mailbox: str, uidls: list[str], now: datetime) -> None:
        self.state.exists = True
        self.state.deferred.update(dict.fromkeys(uidls, now))

    async def forget(self, mailbox: str, uidls: list[str], now: datetime) -> None:
        for uidl in uidls:
            self.state.done.discard(uidl)
            self.state.dele_pending.discard(uidl)
            self.state.deferred.pop(uidl, None)


class FakeProcessor:
    """Mail bodies name their outcome: b"announced", b"deferred", ..."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, datetime | None]] = []

    async def process(self, raw: bytes, **kw: Any) -> Outcome:
        self.seen.append((kw["uidl"], kw["headers_only"], kw["first_seen"]))
        kind = Kind.QUARANTINED if kw["headers_only"] else Kind(raw.decode())
        return Outcome(kind, "fake")

    async def confirmed(self, mailbox: str, uidl: str) -> bool:
        return True


def poller(
    session: FakeSession, seen: FakeSeen, processor: FakeProcessor, **options: Any
) -> Poller:
    values: dict[str, Any] = {
        "mailbox": "box",
        "max_messages": 100,
        "max_message_bytes": 1000,
        "delete": False,
        "confirm_timeout": 1.0,
        "baseline_existing": False,
    }
    values.update(options)
    return Poller(
        cast(Pop3Mailbox, FakeMailbox(session)),
        cast(SeenStore, seen),
        cast(MailProcessor, processor),
        PollOptions(**values),
        clock=lambda: NOW,
    )


async def test_outcomes_decide_what_is_recorded_and_deleted() -> None:
    session = FakeSession(
        mail={
            "u1": b"announced",
            "u2": b"deferred",
            "u3": b"quarantined",
            "u4": b"big",
            "u5": b"-ERR",
            "u6": b"unchanged",
        },
        sizes={"u4": 5000},
    )
    seen, processor = FakeSeen(), FakeProcessor()

    report = await poller(session, seen, processor, delete=True).poll_once()

    assert session.calls == [
        "RETR u1",
        "RETR u2",
        "RETR u3",
        "TOP u4",
        "RETR u5",
        "RETR u6",
        "DELE u1",
        "DELE u3",
        "DELE u6",
    ]
    assert session.quit_called
    assert (report.retrieved, report.headers_only, report.fetch_errors) == (4, 1, 1)
    assert report.deleted == 3
    # Deleted ones are forgotten; the oversized one stays known; u2 waits; u5 is retried.
    assert seen.state.done == {"u4"}
    assert seen.state.deferred == {"u2": NOW}
    assert seen.state.dele_pending == set()


async def test_never_read_mail_goes_before_mail_waiting_for_its_ticket() -> None:
    session = FakeSession(mail={"old": b"deferred", "new1": b"announced", "new2": b"announced"})
    seen, processor = FakeSeen(), FakeProcessor()
    seen.state = SeenState(exists=True, deferred={"old": NOW})

    report = await poller(session, seen, processor, max_messages=2).poll_once()

    assert [uidl for uidl, _, _ in processor.seen] == ["new1", "new2"]
    assert report.new == 3
    assert seen.state.done == {"new1", "new2"}


async def test_a_deferred_mail_is_read_again_with_when_it_was_first_seen() -> None:
    session = FakeSession(mail={"u1": b"announced"})
    seen, processor = FakeSeen(), FakeProcessor()
    seen.state = SeenState(exists=True, deferred={"u1": NOW})

    await poller(session, seen, processor).poll_once()

    assert processor.seen == [("u1", False, NOW)]
    assert seen.state.deferred == {}


async def test_the_first_poll_can_take_existing_mail_as_seen_unread() -> None:
    session = FakeSession(mail={"u1": b"announced", "u2": b"announced"})
    seen, processor = FakeSeen(), FakeProcessor()

    report = await poller(session, seen, processor, baseline_existing=True).poll_once()
    again = await poller(session, seen, processor, baseline_existing=True).poll_once()

    assert (report.baseline, again.baseline, again.new) == (2, 0, 0)
    assert session.calls == []
