"""The employee's side of the conversation about a filed ticket: a comment, or a request to
reopen or to cancel it, goes to InfraManager's thread (emailed by the mailer).

The comment is queued as a SendTicketReply in the ticket's outbox together with its record in
the ticket (one write), so one the employee was told is on its way is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from helpdesk_contracts.ticket.v1 import ConversationFile, ReplyKind, SendTicketReply

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.ports import Clock, Wake


class OwnTickets(Protocol):
    async def of_user(self, ticket_id: str, user_id: int) -> TicketRecord | None: ...


class Replies(Protocol):
    """The ticket's replies and outbox (adapters/conversation.ConversationStore)."""

    async def queue_reply(self, command: SendTicketReply, now: datetime) -> bool: ...

    async def ticket_id_by_reference(self, reference: str, user_id: int) -> str | None: ...


@dataclass
class Conversation:
    tickets: OwnTickets
    replies: Replies
    clock: Clock
    wake_relay: Wake

    async def ticket(self, ticket_id: object, user_id: int) -> TicketRecord | None:
        """The user's own ticket with this id (as kept in the FSM data), if it still exists."""
        if not isinstance(ticket_id, str):
            return None
        return await self.tickets.of_user(ticket_id, user_id)

    async def by_reference(self, reference: str, user_id: int) -> TicketRecord | None:
        """The user's own ticket with this reference (TG-…)."""
        ticket_id = await self.replies.ticket_id_by_reference(reference, user_id)
        return await self.tickets.of_user(ticket_id, user_id) if ticket_id else None

    async def send(
        self,
        ticket: TicketRecord,
        user: GatewayUser,
        purpose: ReplyKind,
        text: str,
        files: list[ConversationFile],
    ) -> bool:
        """Queue the comment (or request) for the mailer; False if the ticket vanished."""
        command = SendTicketReply(
            ticket_id=ticket.id,
            reference=ticket.reference,
            purpose=purpose,
            requester=user.requester(),
            text=text,
            files=files,
            itsm_number=ticket.itsm_number,
            thread_ids=list(ticket.thread.message_ids),
            itsm_subject=ticket.thread.subject,
            locale=user.locale,
        )
        queued = await self.replies.queue_reply(command, self.clock())
        if queued:
            self.wake_relay()
        return queued
