"""Base classes every message shares: identity, time, correlation, routing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Exchange = Literal["helpdesk.events", "helpdesk.commands", "helpdesk.admin"]

EVENTS_EXCHANGE: Exchange = "helpdesk.events"
COMMANDS_EXCHANGE: Exchange = "helpdesk.commands"
ADMIN_EXCHANGE: Exchange = "helpdesk.admin"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _normalise_email(value: str) -> str:
    local, _, domain = value.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


# Deliberately pragmatic: one "@", no spaces or control characters, a dotted domain. Stricter
# RFC 5322 checks reject addresses real directories hold; the directory is the real judge.
EmailAddress = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=6,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f<>,;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$",
    ),
    AfterValidator(_normalise_email),
]
"""An email address, trimmed, with the domain lower-cased."""

TicketReference = Annotated[str, StringConstraints(pattern=r"^TG-[0-9A-Z]{6}$")]
"""The bot's short ticket reference: `TG-` and six upper-case letters or digits."""

TicketId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
"""The ticket's MongoDB ObjectId as 24 hex characters."""

TelegramUserId = Annotated[int, Field(gt=0, lt=2**53)]
TelegramChatId = Annotated[int, Field(ge=-(2**53), lt=2**53)]

Locale = Literal["ru", "en"]


def _id_field() -> UUID:
    return uuid4()


class Message(BaseModel):
    """A message on the broker. Frozen: a message is a fact or a request, never edited."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)

    routing_key: ClassVar[str]
    exchange: ClassVar[Exchange]
    kind: ClassVar[Literal["event", "command"]]
    public: ClassVar[bool] = True

    message_id: UUID = Field(
        default_factory=_id_field,
        description="Unique id of this message; also the AMQP message_id. Consumers de-duplicate "
        "on it.",
        examples=["6f1c2a52-3c1e-4f5e-9a0b-2d7f7b1e9c11"],
    )
    occurred_at: AwareDatetime = Field(
        default_factory=utc_now,
        description="When the fact happened or the request was made (UTC, ISO 8601).",
        examples=["2026-11-26T10:15:00Z"],
    )
    correlation_id: UUID | None = Field(
        default=None,
        description="message_id of the message this one answers or was caused by, if any.",
        examples=["0b8e4c1e-8a55-4b5a-b3f7-92d2b1e0a6d4"],
    )


class Event(Message):
    """Something that happened. Past tense. Published to `helpdesk.events`."""

    exchange: ClassVar[Exchange] = EVENTS_EXCHANGE
    kind: ClassVar[Literal["event", "command"]] = "event"


class Command(Message):
    """A request for one service to act. Imperative. Published to `helpdesk.commands`."""

    exchange: ClassVar[Exchange] = COMMANDS_EXCHANGE
    kind: ClassVar[Literal["event", "command"]] = "command"


class AdminSignature(BaseModel):
    """An operator's Ed25519 signature over an admin command (see helpdesk_runtime/signing.py)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")] = Field(
        description="Name of the operator's key; services know its public half by this name "
        "(HELPDESK_ADMIN_PUBLIC_KEYS) and write it to the audit log.",
        examples=["ivanov"],
    )
    signed_at: AwareDatetime = Field(
        description="When the command was signed (UTC); services refuse it 5 minutes either side.",
        examples=["2026-11-26T10:15:00Z"],
    )
    nonce: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")] = Field(
        description="Random, never reused: a second command with the same nonce is a replay.",
        examples=["c2b1f0d4a9e84e7d9a3b5f6e7d8c9b0a"],
    )
    value: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/=]{1,128}$")] = Field(
        description="Base64 Ed25519 signature over the command's canonical form.",
        examples=["3q2+7w=="],
    )


class AdminCommand(Command):
    """An operator's command, published to `helpdesk.admin`; answered by AdminCommandCompleted."""

    exchange: ClassVar[Exchange] = ADMIN_EXCHANGE

    requested_by: str = Field(
        min_length=1,
        max_length=128,
        description="Who asked (operator login or system name); written to the audit log.",
        examples=["ops:ivanov"],
    )
    signature: AdminSignature | None = Field(
        default=None,
        description="The operator's signature. Services execute only commands whose signature "
        "verifies; an unsigned one is answered `rejected`.",
    )
