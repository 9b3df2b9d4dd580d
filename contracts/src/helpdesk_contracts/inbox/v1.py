"""Inbox, version 1: notification mail the inbox could not tie to a ticket."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, StringConstraints

from helpdesk_contracts.base import Event


class UnmatchedReason(StrEnum):
    NO_MATCH = "no_match"  # parsed, but no token, Message-ID or number links it to a ticket
    UNPARSEABLE = "unparseable"  # broken MIME or no usable text
    TOO_LARGE = "too_large"  # over the size limit; only headers were read
    AMBIGUOUS = "ambiguous"  # mentions several of our tickets
    UNTRUSTED_SENDER = "untrusted_sender"  # not from InfraManager: never changes a ticket
    UNKNOWN_NUMBER = "unknown_number"  # only an InfraManager number, never linked to a ticket


class InboxMessageUnmatched(Event):
    """A mail from the helpdesk mailbox was quarantined; an operator should look at it."""

    routing_key: ClassVar[str] = "inbox.message_unmatched.v1"

    quarantine_id: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="Id of the quarantine record (holds the raw bytes).",
        examples=["6745a1f2c3d4e5f601234599"],
    )
    mailbox: Annotated[str, StringConstraints(max_length=320)] = Field(
        examples=["helpdesk-replies@example.com"]
    )
    uidl: Annotated[str, StringConstraints(max_length=128)] = Field(examples=["000001a85b1c2d3e"])
    subject: Annotated[str, StringConstraints(max_length=998)] | None = Field(
        default=None, examples=["Заявка №12345 Принтер"]
    )
    sender: Annotated[str, StringConstraints(max_length=998)] | None = Field(
        default=None, examples=["InfraManager <im@example.com>"]
    )
    reason: UnmatchedReason = Field(examples=[UnmatchedReason.NO_MATCH])
    detail: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, examples=["no reference token, no known Message-ID, number 12345 unknown"]
    )
    received_at: AwareDatetime | None = Field(default=None, examples=["2026-11-26T10:31:00Z"])
