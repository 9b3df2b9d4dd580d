"""Admin commands, version 1. Published to `helpdesk.admin`; each is answered by exactly one
AdminCommandCompleted (correlation_id = the command's message_id) on `helpdesk.events`."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import Field, JsonValue, StringConstraints, model_validator

from helpdesk_contracts.base import AdminCommand, EmailAddress, Event, TelegramUserId


class _UserSelector(AdminCommand):
    telegram_user_id: TelegramUserId | None = Field(default=None, examples=[123456789])
    email: EmailAddress | None = Field(default=None, examples=["maria.ivanova@example.com"])

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.telegram_user_id is None) == (self.email is None):
            raise ValueError("give exactly one of telegram_user_id or email")
        return self


class DeleteUser(_UserSelector):
    """Forget an employee's binding and profile (the Telegram account must sign in again)."""

    routing_key: ClassVar[str] = "admin.delete_user.v1"


class RevokeUser(_UserSelector):
    """Block an employee's Telegram account at once, keeping the records. Given an email, the
    address itself is blocked too: no Telegram account can sign in with it until UnrevokeUser."""

    routing_key: ClassVar[str] = "admin.revoke_user.v1"


class UnrevokeUser(_UserSelector):
    """Lift a RevokeUser: unblock the account (by id) or the address and its accounts (by email);
    they sign in again with a new code."""

    routing_key: ClassVar[str] = "admin.unrevoke_user.v1"


class LookupUser(_UserSelector):
    """Show what auth knows about a user (binding, profile, last check)."""

    routing_key: ClassVar[str] = "admin.lookup_user.v1"


class ClearLocation(AdminCommand):
    """Forget the location the bot offers a user again."""

    routing_key: ClassVar[str] = "admin.clear_location.v1"

    telegram_user_id: TelegramUserId = Field(examples=[123456789])


class RunJanitor(AdminCommand):
    """Run the retention rules now."""

    routing_key: ClassVar[str] = "admin.run_janitor.v1"

    dry_run: bool = Field(default=False, description="Report, delete nothing.", examples=[True])


class Broadcast(AdminCommand):
    """Send a text to every active user (rate limited)."""

    routing_key: ClassVar[str] = "admin.broadcast.v1"

    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)] = Field(
        examples=["Плановые работы в субботу с 10:00 до 12:00"]
    )


class ReloadCategories(AdminCommand):
    """Re-read the category catalogue file."""

    routing_key: ClassVar[str] = "admin.reload_categories.v1"


class ReportFormat(StrEnum):
    MD = "md"
    CSV = "csv"
    HTML = "html"


class BuildReport(AdminCommand):
    """Compute the support manager's figures for a period (answered with the figures)."""

    routing_key: ClassVar[str] = "admin.build_report.v1"

    since: date = Field(examples=["2026-11-01"])
    until: date = Field(description="Inclusive.", examples=["2026-11-30"])

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.until < self.since:
            raise ValueError("until is before since")
        return self


class Outcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"
    FAILED = "failed"


class AdminCommandCompleted(Event):
    """The answer to one admin command."""

    routing_key: ClassVar[str] = "admin.command_completed.v1"

    command: Annotated[str, StringConstraints(max_length=128)] = Field(
        description="Routing key of the command answered.", examples=["admin.revoke_user.v1"]
    )
    service: Annotated[str, StringConstraints(max_length=64)] = Field(examples=["auth"])
    outcome: Outcome = Field(examples=[Outcome.DONE])
    detail: Annotated[str, StringConstraints(max_length=4000)] = Field(
        default="", examples=["user 123456789 revoked"]
    )
    result: dict[str, JsonValue] = Field(
        default_factory=dict, description="Command-specific figures.", examples=[{"sent": 42}]
    )
