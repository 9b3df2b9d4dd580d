"""Mail, version 1: notices other than tickets (sign-in codes, ...) sent by the mailer."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, StringConstraints

from helpdesk_contracts.base import Command, EmailAddress, Event, Locale


class MailTemplate(StrEnum):
    """Which operator-editable template renders the mail."""

    AUTH_CODE = "auth_code"
    NOTICE = "notice"


_Value = Annotated[str, StringConstraints(max_length=4000)]
_Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class SendMail(Command):
    """Send one templated email. The mailer de-duplicates on message_id.

    Variables may hold secrets (a sign-in code): the mailer never logs them.
    """

    routing_key: ClassVar[str] = "mail.send_mail.v1"
    public: ClassVar[bool] = False

    to: EmailAddress = Field(examples=["maria.ivanova@example.com"])
    template: MailTemplate = Field(examples=[MailTemplate.AUTH_CODE])
    locale: Locale = Field(default="ru", examples=["ru"])
    variables: dict[_Key, _Value] = Field(
        default_factory=dict,
        max_length=32,
        description="Template variables, e.g. code, display_name, expires_minutes.",
        examples=[{"code": "042817", "expires_minutes": "10"}],
    )


class MailSent(Event):
    """A SendMail was accepted by the SMTP relay."""

    routing_key: ClassVar[str] = "mail.sent.v1"
    public: ClassVar[bool] = False

    template: MailTemplate = Field(examples=[MailTemplate.AUTH_CODE])
    email_message_id: Annotated[str, StringConstraints(max_length=998)] = Field(
        examples=["<6f1c2a52-3c1e-4f5e-9a0b-2d7f7b1e9c11@helpdesk.example.com>"]
    )
    sent_at: AwareDatetime = Field(examples=["2026-11-26T10:15:02Z"])


class MailFailed(Event):
    """A SendMail could not be delivered and the mailer gave up."""

    routing_key: ClassVar[str] = "mail.failed.v1"
    public: ClassVar[bool] = False

    template: MailTemplate = Field(examples=[MailTemplate.AUTH_CODE])
    smtp_code: int | None = Field(default=None, examples=[550])
    reason: Annotated[str, StringConstraints(max_length=2000)] = Field(
        examples=["550 5.1.1 mailbox unavailable"]
    )
