"""Inline-button payloads. The prefix carries a version: when a payload's shape changes, the
prefix changes, and buttons left in old messages fall through to the polite "stale" answer
instead of being misread. Telegram allows 64 bytes of callback data."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class WizardAction(StrEnum):
    CATEGORY = "cat"
    BACK = "back"
    LAST_LOCATION = "loc"
    FORGET_LOCATION = "forget"
    SKIP_LOCATION = "noloc"
    PHOTOS_DONE = "done"
    CLEAR_PHOTOS = "clear"
    SEND = "send"
    EDIT = "edit"
    EDIT_STEP = "step"
    PREVIEW = "preview"
    CANCEL = "cancel"
    CONTINUE = "cont"
    RESTART = "restart"


class WizardCb(CallbackData, prefix="w1"):
    """A button of the new-ticket wizard; `draft` ties it to one draft."""

    action: WizardAction
    draft: str
    value: str = ""


class TicketsAction(StrEnum):
    OPEN = "open"
    LIST = "list"


class TicketsCb(CallbackData, prefix="t1"):
    action: TicketsAction
    ticket: str = ""


class RatingCb(CallbackData, prefix="r1"):
    ticket: str
    stars: int


class RatingCommentCb(CallbackData, prefix="rc1"):
    ticket: str


class SignInAction(StrEnum):
    OTHER_EMAIL = "email"


class SignInCb(CallbackData, prefix="s1"):
    action: SignInAction


class ConversationAction(StrEnum):
    COMMENT = "comment"
    ABANDON = "abandon"
    SOLVED = "solved"
    REOPEN = "reopen"
    CANCEL = "cancel"
    CANCEL_CONFIRM = "cancel_ok"
    CANCEL_KEEP = "cancel_keep"


class ConversationCb(CallbackData, prefix="cv1"):
    """A button about a filed ticket: comment on it, or stop writing the comment."""

    action: ConversationAction
    ticket: str
