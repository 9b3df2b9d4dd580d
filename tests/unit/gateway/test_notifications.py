"""Notifications with in-memory fakes: what the employee is told about the conversation on
their ticket, once per event, in their language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    ConversationFile,
    ReplyKind,
    TicketCommentAdded,
    TicketReopenRequested,
    TicketReplyFailed,
    TicketStatus,
)
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.messages import Messages
from helpdesk_gateway.notifications import Notifications

from tests.unit.gateway.factories import TICKET_ID, ticket
from tests.unit.gateway.fakes import (
    NOW,
    FakeOwnTickets,
    FakeQueue,
    FakeUsers,
    Wakes,
    button_texts,
    employee,
)

IM_ID = "<im-77.12345@im.example.com>"


@dataclass
class FakeThread:
    threads: dict[str, list[str]] = field(default_factory=dict)
    settled: dict[UUID, str] = field(default_factory=dict)
    waiting: list[dict[str, Any]] = field(default_factory=list)
    reminded: set[tuple[Any, datetime]] = field(default_factory=set)

    async def remember_thread(
        self, ticket_id: str, message_id: str | None, subject: str | None, number: str | None
    ) -> None:
        if message_id:
            self.threads.setdefault(ticket_id, []).append(message_id)

    async def reply_settled(self, ticket_id: str, command_id: UUID | None, state: str) -> None:
        if command_id is not None:
            self.settled[command_id] = state

    async def waiting_since_before(self, cutoff: datetime) -> list[dict[str, Any]]:
        return [d for d in self.waiting if d["status_changed_at"] <= cutoff]

    async def mark_waiting_reminded(self, ticket_id: Any, since: datetime) -> bool:
        if (ticket_id, since) in self.reminded:
            return False
        self.reminded.add((ticket_id, since))
        return True


@dataclass
class World:
    tickets: FakeOwnTickets = field(
        default_factory=lambda: FakeOwnTickets({TICKET_ID: ticket(itsm_number="12345")})
    )
    users: FakeUsers = field(default_factory=lambda: FakeUsers({1001: employee(1001, "en")}))
    thread: FakeThread = field(default_factory=FakeThread)
    queue: FakeQueue = field(default_factory=FakeQueue)
    wakes: Wakes = field(default_factory=Wakes)

    def notifications(self) -> Notifications:
        return Notifications(
            tickets=self.tickets,
            users=self.users,
            thread=self.thread,
            queue=self.queue,
            messages=Messages(I18n.load()),
            clock=lambda: NOW,
            wake_notifier=self.wakes,
            waiting_reminder_after=timedelta(hours=24),
        )


def support_comment(**extra: Any) -> TicketCommentAdded:
    fields: dict[str, Any] = {
        "ticket_id": TICKET_ID,
        "reference": "TG-7F3A2C",
        "author": CommentAuthor.SUPPORT,
        "text": "Принтер подключён по USB?",
        "itsm_number": "12345",
        "email_message_id": IM_ID,
        "commented_at": NOW,
    }
    fields.update(extra)
    return TicketCommentAdded(**fields)


def file(name: str, size: int) -> ConversationFile:
    return ConversationFile(
        file_id="b" * 24, filename=name, content_type="image/png", size=size, sha256="0" * 64
    )


async def test_an_engineers_comment_reaches_the_employee_once_with_answer_and_files() -> None:
    world = World()
    event = support_comment(files=[file("scan.png", 1000)], files_omitted=["video.mp4"])
    notifications = world.notifications()
    await notifications.on_comment_added(event)
    await notifications.on_comment_added(event)  # redelivered

    comment, photo = world.queue.queued.values()
    assert comment.text == (
        "💬 IT support commented on ticket TG-7F3A2C (No. 12345):\n\n"
        "Принтер подключён по USB?\n\n"
        "These files from IT support's email could not be forwarded to the chat: video.mp4.\n\n"
        "To answer, press «Reply» or reply to this message."
    )
    assert button_texts(comment) == ["✍️ Reply"]
    assert photo.file is not None and photo.file["filename"] == "scan.png"
    assert world.thread.threads == {TICKET_ID: [IM_ID, IM_ID]}  # the store ignores the repeat
    assert world.wakes.count == 2


async def test_the_employees_own_comment_is_confirmed_in_their_language() -> None:
    world = World()
    command_id = uuid4()
    await world.notifications().on_comment_added(
        support_comment(
            author=CommentAuthor.EMPLOYEE, correlation_id=command_id, telegram_user_id=1001
        )
    )
    assert world.queue.texts() == [
        "Your comment on ticket TG-7F3A2C (No. 12345) was sent to IT support."
    ]
    assert world.thread.settled == {command_id: "sent"}


async def test_a_failed_reply_and_a_sent_reopen_request_are_told() -> None:
    world = World()
    notifications = world.notifications()
    failed_id, reopen_id = uuid4(), uuid4()
    await notifications.on_reply_failed(
        TicketReplyFailed(
            correlation_id=failed_id,
            ticket_id=TICKET_ID,
            reference="TG-7F3A2C",
            purpose=ReplyKind.COMMENT,
            reason="550 refused",
        )
    )
    await notifications.on_request_sent(
        TicketReopenRequested(
            correlation_id=reopen_id,
            ticket_id=TICKET_ID,
            reference="TG-7F3A2C",
            telegram_user_id=1001,
            reason="Снова мнёт бумагу",
            email_message_id="<r@helpdesk.example.com>",
            requested_at=NOW,
        )
    )
    failed, sent = world.queue.texts()
    assert failed.startswith("Your comment on ticket TG-7F3A2C (No. 12345) could not be sent")
    assert sent.startswith("Your request to reopen ticket TG-7F3A2C (No. 12345) was sent")
    assert world.thread.settled == {failed_id: "failed", reopen_id: "sent"}


async def test_without_the_employee_the_tickets_own_language_and_chat_are_used() -> None:
    world = World(users=FakeUsers())
    await world.notifications().on_comment_added(support_comment())
    comment = next(iter(world.queue.queued.values()))
    assert comment.chat_id == 1001
    assert comment.text.startswith("💬 ")
    assert "TG-7F3A2C (№12345)" in comment.text


async def test_an_event_about_an_unknown_ticket_says_nothing() -> None:
    world = World()
    await world.notifications().on_comment_added(support_comment(reference="TG-000000"))
    assert world.queue.queued == {}
    assert world.thread.threads == {}


async def test_one_waiting_reminder_per_waiting_period() -> None:
    world = World()
    since = NOW - timedelta(hours=25)
    world.tickets.stored[TICKET_ID] = ticket(
        itsm_number="12345", status=TicketStatus.WAITING, status_changed_at=since
    )
    world.thread.waiting = [{"_id": TICKET_ID, "status_changed_at": since}]
    notifications = world.notifications()
    assert await notifications.send_waiting_reminders() == 1
    assert await notifications.send_waiting_reminders() == 0
    [reminder] = world.queue.queued.values()
    assert reminder.text.startswith("A reminder: IT support is waiting for your answer")
    assert button_texts(reminder) == ["✍️ Reply"]
    assert world.wakes.count == 1
