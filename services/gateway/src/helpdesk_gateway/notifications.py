"""What an employee hears about the conversation on a filed ticket: engineers' comments (with
their files), whether the employee's own comments and requests left, and a reminder while IT
support waits for an answer.

Every message is queued in `gateway_notifications` keyed by the event that caused it, so a
redelivered event says nothing twice; the presenter (messages.py) writes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    TicketCancelRequested,
    TicketCommentAdded,
    TicketReopenRequested,
    TicketReplyFailed,
)

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.ports import Clock, Queue, TicketReader, Users, Wake

log = logging.getLogger("helpdesk.gateway.conversation")


class Thread(Protocol):
    """The conversation part of the tickets (adapters/conversation.ConversationStore)."""

    async def remember_thread(
        self, ticket_id: str, message_id: str | None, subject: str | None, number: str | None
    ) -> None: ...

    async def reply_settled(self, ticket_id: str, command_id: UUID | None, state: str) -> None: ...

    async def waiting_since_before(self, cutoff: datetime) -> list[dict[str, Any]]: ...

    async def mark_waiting_reminded(self, ticket_id: Any, since: datetime) -> bool: ...


class Presenter(Protocol):
    def support_comment(
        self, user: GatewayUser | None, ticket: TicketRecord, event: TicketCommentAdded
    ) -> list[Notification]: ...

    def comment_sent(
        self, user: GatewayUser | None, ticket: TicketRecord, event: TicketCommentAdded
    ) -> Notification: ...

    def reply_failed(
        self, user: GatewayUser | None, ticket: TicketRecord, event: TicketReplyFailed
    ) -> Notification: ...

    def request_sent(
        self,
        user: GatewayUser | None,
        ticket: TicketRecord,
        event: TicketReopenRequested | TicketCancelRequested,
    ) -> Notification: ...

    def waiting_reminder(
        self, user: GatewayUser | None, ticket: TicketRecord, since: datetime
    ) -> Notification: ...


@dataclass
class Notifications:
    tickets: TicketReader
    users: Users
    thread: Thread
    queue: Queue
    messages: Presenter
    clock: Clock
    wake_notifier: Wake
    waiting_reminder_after: timedelta

    async def on_comment_added(self, event: TicketCommentAdded) -> None:
        """An engineer's comment: to the employee, with «Ответить». The employee's own: «sent»."""
        ticket = await self._ticket(event.ticket_id, event.reference)
        if ticket is None:
            return
        user = await self.users.get(ticket.user_id)
        if event.author is CommentAuthor.SUPPORT:
            await self.thread.remember_thread(
                ticket.id, event.email_message_id, event.email_subject, event.itsm_number
            )
            await self._tell(*self.messages.support_comment(user, ticket, event))
        else:
            await self.thread.reply_settled(ticket.id, event.correlation_id, "sent")
            await self._tell(self.messages.comment_sent(user, ticket, event))

    async def on_reply_failed(self, event: TicketReplyFailed) -> None:
        """The mailer could not email the employee's comment (or request): they are told so."""
        ticket = await self._ticket(event.ticket_id, event.reference)
        if ticket is None:
            return
        await self.thread.reply_settled(ticket.id, event.correlation_id, "failed")
        user = await self.users.get(ticket.user_id)
        await self._tell(self.messages.reply_failed(user, ticket, event))

    async def on_request_sent(self, event: TicketReopenRequested | TicketCancelRequested) -> None:
        """The reopen or cancel email left: the employee hears what happens next."""
        ticket = await self._ticket(event.ticket_id, event.reference)
        if ticket is None:
            return
        await self.thread.reply_settled(ticket.id, event.correlation_id, "sent")
        user = await self.users.get(ticket.user_id)
        await self._tell(self.messages.request_sent(user, ticket, event))

    async def send_waiting_reminders(self) -> int:
        """One reminder per waiting period to an employee IT support is waiting for."""
        now = self.clock()
        sent = 0
        for doc in await self.thread.waiting_since_before(now - self.waiting_reminder_after):
            since = doc["status_changed_at"]
            if not await self.thread.mark_waiting_reminded(doc["_id"], since):
                continue
            ticket = await self.tickets.get(str(doc["_id"]))
            if ticket is None:
                continue
            user = await self.users.get(ticket.user_id)
            reminder = self.messages.waiting_reminder(user, ticket, since)
            if await self.queue.enqueue(reminder, now):
                sent += 1
        if sent:
            self.wake_notifier()
            log.info("waiting reminders queued", extra={"count": sent})
        return sent

    async def _ticket(self, ticket_id: str, reference: str) -> TicketRecord | None:
        ticket = await self.tickets.get(ticket_id)
        if ticket is None or ticket.reference != reference:
            log.warning(
                "conversation event for a ticket the gateway does not know",
                extra={"ticket_id": ticket_id, "reference": reference},
            )
            return None
        return ticket

    async def _tell(self, *notifications: Notification) -> None:
        for notification in notifications:
            if await self.queue.enqueue(notification, self.clock()):
                self.wake_notifier()
