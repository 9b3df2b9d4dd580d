"""Auth flow, version 1: employees prove who they are with a one-time code sent by email."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from helpdesk_contracts.base import (
    Command,
    EmailAddress,
    Event,
    Locale,
    TelegramChatId,
    TelegramUserId,
)

_ShortText = Annotated[str, StringConstraints(max_length=256)]


class EmployeeProfile(BaseModel):
    """What the corporate directory says about an employee."""

    model_config = ConfigDict(frozen=True)

    email: EmailAddress = Field(
        description="Corporate email.", examples=["maria.ivanova@example.com"]
    )
    display_name: _ShortText = Field(
        description="Name as the directory shows it.", examples=["Иванова Мария Петровна"]
    )
    phone: _ShortText | None = Field(default=None, examples=["+7 495 123-45-67"])
    department: _ShortText | None = Field(default=None, examples=["Бухгалтерия"])
    title: _ShortText | None = Field(default=None, examples=["Главный бухгалтер"])
    directory_dn: Annotated[str, StringConstraints(max_length=1024)] = Field(
        description="Distinguished name of the directory entry.",
        examples=["uid=maria.ivanova,ou=people,dc=example,dc=com"],
    )


class RequestCode(Command):
    """An employee asks for a one-time sign-in code to be sent to their work email."""

    routing_key: ClassVar[str] = "auth.request_code.v1"

    telegram_user_id: TelegramUserId = Field(description="Telegram user id.", examples=[123456789])
    chat_id: TelegramChatId = Field(description="Chat to answer in.", examples=[123456789])
    email: Annotated[str, StringConstraints(max_length=320)] = Field(
        description="The address as the employee typed it; auth normalises and validates it and "
        "answers CodeRejected(invalid_email) when it is not an address.",
        examples=["Maria.Ivanova@Example.com"],
    )
    locale: Locale = Field(default="ru", description="Language of the code email.", examples=["ru"])


class VerifyCode(Command):
    """An employee types the code they received."""

    routing_key: ClassVar[str] = "auth.verify_code.v1"

    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    chat_id: TelegramChatId = Field(examples=[123456789])
    code: Annotated[str, StringConstraints(max_length=32)] = Field(
        description="What the employee typed; compared in constant time.", examples=["042817"]
    )


class CodeSent(Event):
    """A code was sent (or, with enumeration protection on, the answer looks as if it was)."""

    routing_key: ClassVar[str] = "auth.code_sent.v1"
    public: ClassVar[bool] = False

    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    chat_id: TelegramChatId = Field(examples=[123456789])
    masked_email: Annotated[str, StringConstraints(max_length=320)] = Field(
        description="The address with most of the local part hidden.",
        examples=["m***a@example.com"],
    )
    expires_at: AwareDatetime = Field(
        description="When the code stops working.", examples=["2026-11-26T10:25:00Z"]
    )
    resend_after_seconds: int = Field(
        ge=0, description="Seconds before another code may be requested.", examples=[60]
    )


class RejectReason(StrEnum):
    """Why a code request or a code was refused. The gateway turns each into plain words."""

    INVALID_EMAIL = "invalid_email"
    DOMAIN_NOT_ALLOWED = "domain_not_allowed"
    NOT_FOUND = "not_found"  # only when enumeration protection is turned off
    ACCOUNT_DISABLED = "account_disabled"  # only when enumeration protection is turned off
    COOLDOWN = "cooldown"
    TOO_MANY_REQUESTS = "too_many_requests"
    WRONG_CODE = "wrong_code"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    EXPIRED = "expired"
    NO_ACTIVE_CODE = "no_active_code"
    DIRECTORY_UNAVAILABLE = "directory_unavailable"
    MAIL_FAILED = "mail_failed"


class CodeRejected(Event):
    """A code request or a code attempt was refused."""

    routing_key: ClassVar[str] = "auth.code_rejected.v1"
    public: ClassVar[bool] = False

    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    chat_id: TelegramChatId = Field(examples=[123456789])
    reason: RejectReason = Field(examples=[RejectReason.WRONG_CODE])
    retry_after_seconds: int | None = Field(
        default=None, ge=0, description="When limited: seconds to wait.", examples=[42]
    )
    attempts_left: int | None = Field(
        default=None, ge=0, description="After a wrong code: attempts left.", examples=[3]
    )


class UserAuthorized(Event):
    """An employee proved their address; this Telegram account now acts as them."""

    routing_key: ClassVar[str] = "auth.user_authorized.v1"

    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    chat_id: TelegramChatId = Field(examples=[123456789])
    profile: EmployeeProfile
    authorized_at: AwareDatetime = Field(examples=["2026-11-26T10:16:00Z"])


class RevokeReason(StrEnum):
    REBOUND = "rebound"  # the address was proven from another Telegram account
    DIRECTORY_DISABLED = "directory_disabled"
    DIRECTORY_REMOVED = "directory_removed"
    DIRECTORY_UNREACHABLE = (
        "directory_unreachable"  # not verifiable for AUTH_RECHECK_MAX_UNVERIFIED
    )
    ADMIN_REVOKED = "admin_revoked"
    ADMIN_DELETED = "admin_deleted"


class UserRevoked(Event):
    """A Telegram account lost its access; the gateway blocks it at once."""

    routing_key: ClassVar[str] = "auth.user_revoked.v1"

    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    email: EmailAddress | None = Field(default=None, examples=["maria.ivanova@example.com"])
    reason: RevokeReason = Field(examples=[RevokeReason.DIRECTORY_DISABLED])
