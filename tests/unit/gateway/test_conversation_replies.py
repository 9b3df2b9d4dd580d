"""Conversation with in-memory fakes: the employee's comment or request, as the mailer gets it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from helpdesk_contracts.ticket.v1 import ConversationFile, ReplyKind, SendTicketReply
from helpdesk_gateway.conversation import Conversation
from helpdesk_gateway.domain.tickets import EmailState, Thread

from tests.unit.gateway.factories import TICKET_ID, ticket
from tests.unit.gateway.fakes import NOW, FakeOwnTickets, Wakes, employee


@dataclass
class FakeReplies:
    tickets: FakeOwnTickets
    outbox: list[SendTicketReply] = field(default_factory=list)

    async def queue_reply(self, command: SendTicketReply, now: datetime) -> bool:
        if command.ticket_id not in self.tickets.stored:
            return False
        self.outbox.append(command)
        return True

    async def ticket_id_by_reference(self, reference: str, user_id: int) -> str | None:
        return next(
            (
                t.id
                for t in self.tickets.stored.values()
                if t.reference == reference and t.user_id == user_id
            ),
            None,
        )


@dataclass
class World:
    tickets: FakeOwnTickets = field(
        default_factory=lambda: FakeOwnTickets(
            {
                TICKET_ID: ticket(
                    email_state=EmailState.SENT,
                    itsm_number="12345",
                    thread=Thread(message_ids=["<im-1@im>"], subject="Заявка №12345"),
                )
            }
        )
    )
    relay: Wakes = field(default_factory=Wakes)

    def __post_init__(self) -> None:
        self.replies = FakeReplies(self.tickets)

    def conversation(self) -> Conversation:
        return Conversation(self.tickets, self.replies, lambda: NOW, self.relay)


async def test_a_comment_goes_into_infra_managers_thread_and_wakes_the_relay() -> None:
    world = World()
    conversation, maria = world.conversation(), employee(1001, "en")
    mine = await conversation.ticket(TICKET_ID, 1001)
    assert mine is not None
    scan = ConversationFile(
        file_id="c" * 24,
        filename="scan.pdf",
        content_type="application/pdf",
        size=9,
        sha256="1" * 64,
    )
    assert await conversation.send(mine, maria, ReplyKind.COMMENT, "По сети", [scan])

    [command] = world.replies.outbox
    assert (command.ticket_id, command.reference, command.purpose) == (
        TICKET_ID,
        "TG-7F3A2C",
        ReplyKind.COMMENT,
    )
    assert (command.text, command.files, command.locale) == ("По сети", [scan], "en")
    assert (command.thread_ids, command.itsm_subject, command.itsm_number) == (
        ["<im-1@im>"],
        "Заявка №12345",
        "12345",
    )
    assert command.requester.email == "maria.ivanova@example.com"
    assert world.relay.count == 1


async def test_a_vanished_ticket_queues_nothing() -> None:
    world = World()
    conversation = world.conversation()
    gone = ticket(id="6745a1f2c3d4e5f6012345ff")
    assert not await conversation.send(gone, employee(), ReplyKind.CANCEL, "", [])
    assert (world.replies.outbox, world.relay.count) == ([], 0)


async def test_only_the_employees_own_ticket_is_found() -> None:
    conversation = World().conversation()
    assert await conversation.ticket(TICKET_ID, 2002) is None
    assert await conversation.ticket(None, 1001) is None
    assert await conversation.by_reference("TG-7F3A2C", 2002) is None
    found = await conversation.by_reference("TG-7F3A2C", 1001)
    assert found is not None and found.id == TICKET_ID
