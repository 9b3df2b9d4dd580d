"""Ticket lifecycle, version 1: submitted, emailed (or failed), status changed, rated."""

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
    TicketId,
    TicketReference,
)

MAX_DESCRIPTION_LENGTH = 4000
MAX_ATTACHMENTS = 10
ATTACHMENT_MAX_BYTES = 1_900_000
"""Default cap of one photo as emailed. InfraManager drops attachments over "2 MB" by default
without saying which megabyte: this stays under 2 000 000 bytes (and 2 MiB) with a margin."""
MAX_LOCATION_LENGTH = 200
MAX_COMMENT_LENGTH = 1000

_Short = Annotated[str, StringConstraints(max_length=256)]


class Requester(BaseModel):
    """The employee who filed the ticket, as the directory knows them."""

    model_config = ConfigDict(frozen=True)

    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    telegram_username: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, examples=["mivanova"]
    )
    email: EmailAddress = Field(examples=["maria.ivanova@example.com"])
    display_name: _Short = Field(examples=["Иванова Мария Петровна"])
    phone: _Short | None = Field(default=None, examples=["+7 495 123-45-67"])
    department: _Short | None = Field(default=None, examples=["Бухгалтерия"])
    title: _Short | None = Field(default=None, examples=["Главный бухгалтер"])


class Category(BaseModel):
    """Where the ticket belongs in the catalogue; routing_text is added to the email as is."""

    model_config = ConfigDict(frozen=True)

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,64}$")] = Field(
        examples=["printers.not_printing"]
    )
    title: _Short = Field(examples=["Принтер: не печатает"])
    parent_title: _Short | None = Field(default=None, examples=["Принтеры и МФУ"])
    routing_text: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None,
        description="Text for InfraManager's routing rules (service, queue), added to the email.",
        examples=["Сервис: Печать; Группа: ИТ-поддержка 1 линия"],
    )


class Attachment(BaseModel):
    """A photo stored in GridFS (bucket `attachments`), already re-encoded to fit the limit."""

    model_config = ConfigDict(frozen=True)

    file_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")] = Field(
        description="GridFS file id.", examples=["6745a1f2c3d4e5f601234567"]
    )
    filename: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        examples=["photo-1.jpg"]
    )
    content_type: Annotated[str, StringConstraints(pattern=r"^image/[a-z0-9.+-]{1,50}$")] = Field(
        examples=["image/jpeg"]
    )
    size: int = Field(gt=0, le=50 * 1024 * 1024, description="Bytes.", examples=[481234])
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )


class TicketSubmitted(Event):
    """An employee sent a ticket from Telegram. The mailer turns it into an email."""

    routing_key: ClassVar[str] = "ticket.submitted.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    requester: Requester
    chat_id: TelegramChatId = Field(examples=[123456789])
    category: Category
    description: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION_LENGTH)
    ] = Field(examples=["Не печатает принтер на 3 этаже, горит оранжевая лампа"])
    location: Annotated[str, StringConstraints(max_length=MAX_LOCATION_LENGTH)] | None = Field(
        default=None, examples=["каб. 305"]
    )
    attachments: list[Attachment] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS, description="At most 10 photos."
    )
    submitted_at: AwareDatetime = Field(examples=["2026-11-26T10:20:00Z"])
    locale: Locale = Field(default="ru", examples=["ru"])


class TicketEmailed(Event):
    """The ticket's email was accepted by the SMTP relay."""

    routing_key: ClassVar[str] = "ticket.emailed.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    email_message_id: Annotated[str, StringConstraints(max_length=998)] = Field(
        description="The Message-ID header sent, with angle brackets.",
        examples=["<TG-7F3A2C.6745a1f2c3d4e5f601234560@helpdesk.example.com>"],
    )
    sent_at: AwareDatetime = Field(examples=["2026-11-26T10:20:03Z"])
    attachments_sent: int = Field(default=0, ge=0, examples=[2])
    attachments_omitted: int = Field(
        default=0, ge=0, description="Photos listed in the body instead (too large).", examples=[0]
    )


class TicketEmailFailed(Event):
    """The ticket's email could not be delivered (permanently, or not yet)."""

    routing_key: ClassVar[str] = "ticket.email_failed.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    permanent: bool = Field(
        description="True: the mailer gave up. False: it keeps retrying.", examples=[True]
    )
    smtp_code: int | None = Field(default=None, examples=[550])
    smtp_reply: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, examples=["5.1.1 Mailbox unavailable"]
    )
    reason: Annotated[str, StringConstraints(max_length=2000)] = Field(
        examples=["recipient refused"]
    )
    next_attempt_at: AwareDatetime | None = Field(default=None, examples=[None])


class TicketStatus(StrEnum):
    """What InfraManager says about a ticket. Values may be added within v1 (on_approval,
    cancelled and reopened were): a consumer shows a value it does not know as `unknown`."""

    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # waiting for the requester (an answer, a clarification)
    ON_APPROVAL = "on_approval"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    REOPENED = "reopened"
    UNKNOWN = "unknown"


class TicketStatusChanged(Event):
    """InfraManager reported a new status for a ticket (read from its notification email)."""

    routing_key: ClassVar[str] = "ticket.status_changed.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    status: TicketStatus = Field(examples=[TicketStatus.REGISTERED])
    raw_status: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None,
        description="Status text as InfraManager wrote it.",
        examples=["Зарегистрирована"],
    )
    itsm_number: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="InfraManager's ticket number.", examples=["12345"]
    )
    comment: Annotated[str, StringConstraints(max_length=4000)] | None = Field(
        default=None, description="Executor's comment or solution text.", examples=[None]
    )
    changed_at: AwareDatetime = Field(
        description="When the inbox received the notification (mailbox order): statuses are "
        "ordered by it. The mail's own Date header is not trusted for order.",
        examples=["2026-11-26T10:31:00Z"],
    )
    source_email_id: Annotated[str, StringConstraints(max_length=998)] | None = Field(
        default=None, description="Message-ID of the notification email.", examples=[None]
    )
    email_subject: Annotated[str, StringConstraints(max_length=998)] | None = Field(
        default=None,
        description="Subject of the notification email (InfraManager's, with its number): "
        "the employee's replies answer it with `Re: ` + this subject, in its thread.",
        examples=["Заявка №12345 [TG-7F3A2C] Не печатает принтер"],
    )


class TicketRated(Event):
    """The employee rated the work on a resolved ticket."""

    routing_key: ClassVar[str] = "ticket.rated.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    rating: int = Field(ge=1, le=5, examples=[5])
    comment: Annotated[str, StringConstraints(max_length=MAX_COMMENT_LENGTH)] | None = Field(
        default=None, examples=["Быстро и вежливо"]
    )
    itsm_number: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, examples=["12345"]
    )
    rated_at: AwareDatetime = Field(examples=["2026-11-26T15:00:00Z"])


# --- Conversation about a filed ticket: comments both ways, reopen, cancel ---------------------

MAX_CONVERSATION_TEXT = 4000
MAX_CONVERSATION_FILES = 10


class CommentAuthor(StrEnum):
    SUPPORT = "support"  # an engineer, read from InfraManager's notification mail
    EMPLOYEE = "employee"  # the requester, from Telegram, emailed into the ticket's thread


class ReplyKind(StrEnum):
    COMMENT = "comment"
    REOPEN = "reopen"
    CANCEL = "cancel"


class ConversationFile(BaseModel):
    """A file of a comment, stored in GridFS (bucket `attachments`)."""

    model_config = ConfigDict(frozen=True)

    file_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")] = Field(
        description="GridFS file id.", examples=["6745a1f2c3d4e5f601234568"]
    )
    filename: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        examples=["act.pdf"]
    )
    content_type: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,80}$")
    ] = Field(examples=["application/pdf"])
    size: int = Field(gt=0, le=50 * 1024 * 1024, description="Bytes.", examples=[48123])
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )


_Subject = Annotated[str, StringConstraints(max_length=998)]
_MessageIdHeader = Annotated[str, StringConstraints(max_length=998)]


class TicketCommentAdded(Event):
    """A comment was added to a ticket: an engineer's (read from InfraManager's notification)
    or the employee's (emailed into the ticket's thread). A comment that arrives together with a
    status change travels in TicketStatusChanged.comment instead."""

    routing_key: ClassVar[str] = "ticket.comment_added.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    author: CommentAuthor = Field(examples=[CommentAuthor.SUPPORT])
    text: Annotated[str, StringConstraints(max_length=MAX_CONVERSATION_TEXT)] = Field(
        examples=["Уточните, пожалуйста, номер кабинета."]
    )
    question: bool = Field(
        default=False,
        description="The engineer asks the requester something and waits for the answer.",
        examples=[True],
    )
    files: list[ConversationFile] = Field(default_factory=list, max_length=MAX_CONVERSATION_FILES)
    files_omitted: list[Annotated[str, StringConstraints(max_length=256)]] = Field(
        default_factory=list,
        max_length=50,
        description="Names of files that came with the comment but are not carried (too large).",
        examples=[["scan-300dpi.tiff"]],
    )
    itsm_number: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, examples=["12345"]
    )
    telegram_user_id: TelegramUserId | None = Field(
        default=None, description="The employee, for an employee's comment.", examples=[None]
    )
    email_message_id: _MessageIdHeader | None = Field(
        default=None,
        description="Message-ID of the email that carried the comment.",
        examples=["<im.12345.77@itsm.example.com>"],
    )
    email_subject: _Subject | None = Field(
        default=None,
        description="Subject of that email (InfraManager's, with its number).",
        examples=["Заявка №12345 Не печатает принтер"],
    )
    commented_at: AwareDatetime = Field(
        description=(
            "When the comment was written: an engineer's is the notification's Date header "
            "(when InfraManager wrote it), unless that is missing, unreadable or in the future, "
            "then when the inbox read the mail; the employee's is when they sent it."
        ),
        examples=["2026-11-26T11:05:00Z"],
    )


class SendTicketReply(Command):
    """The gateway asks the mailer to email the employee's comment, reopen or cancel request
    into the ticket's thread, so InfraManager appends it to the ticket."""

    routing_key: ClassVar[str] = "ticket.send_reply.v1"
    public: ClassVar[bool] = False

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    purpose: ReplyKind = Field(examples=[ReplyKind.COMMENT])
    requester: Requester
    text: Annotated[str, StringConstraints(max_length=MAX_CONVERSATION_TEXT)] = Field(
        default="", examples=["Кабинет 305, третий этаж."]
    )
    files: list[ConversationFile] = Field(default_factory=list, max_length=MAX_CONVERSATION_FILES)
    itsm_number: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, examples=["12345"]
    )
    thread_ids: list[_MessageIdHeader] = Field(
        default_factory=list,
        max_length=20,
        description="Message-IDs of the thread, oldest first: the ticket email, then "
        "InfraManager's notifications. The last is answered (In-Reply-To).",
        examples=[["<TG-7F3A2C.6745a1f2c3d4e5f601234560@helpdesk.example.com>"]],
    )
    itsm_subject: _Subject | None = Field(
        default=None,
        description="InfraManager's notification subject (with its number), answered with Re:.",
        examples=["Заявка №12345 Не печатает принтер"],
    )
    locale: Locale = Field(default="ru", examples=["ru"])


class TicketReplyFailed(Event):
    """A SendTicketReply could not be emailed and the mailer gave up."""

    routing_key: ClassVar[str] = "ticket.reply_failed.v1"
    public: ClassVar[bool] = False

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    purpose: ReplyKind = Field(examples=[ReplyKind.COMMENT])
    reason: Annotated[str, StringConstraints(max_length=2000)] = Field(
        examples=["550 5.1.1 mailbox unavailable"]
    )


class TicketReopenRequested(Event):
    """The employee says the problem is not solved; the request was emailed into the thread."""

    routing_key: ClassVar[str] = "ticket.reopen_requested.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    reason: Annotated[str, StringConstraints(max_length=MAX_CONVERSATION_TEXT)] = Field(
        default="", examples=["Принтер снова не печатает."]
    )
    itsm_number: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, examples=["12345"]
    )
    email_message_id: _MessageIdHeader = Field(
        examples=["<TG-7F3A2C.reopen.6f1c2a52@helpdesk.example.com>"]
    )
    requested_at: AwareDatetime = Field(examples=["2026-11-27T09:00:00Z"])


class TicketCancelRequested(Event):
    """The employee withdrew the ticket; the request was emailed into the thread. The ticket
    is cancelled when InfraManager confirms (a status change to rejected/cancelled)."""

    routing_key: ClassVar[str] = "ticket.cancel_requested.v1"

    ticket_id: TicketId = Field(examples=["6745a1f2c3d4e5f601234560"])
    reference: TicketReference = Field(examples=["TG-7F3A2C"])
    telegram_user_id: TelegramUserId = Field(examples=[123456789])
    reason: Annotated[str, StringConstraints(max_length=MAX_CONVERSATION_TEXT)] = Field(
        default="", examples=[""]
    )
    itsm_number: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, examples=[None]
    )
    email_message_id: _MessageIdHeader = Field(
        examples=["<TG-7F3A2C.cancel.6f1c2a52@helpdesk.example.com>"]
    )
    requested_at: AwareDatetime = Field(examples=["2026-11-26T10:40:00Z"])


# Re-exported for consumers that build requesters from the auth profile.
__all__ = [
    "ATTACHMENT_MAX_BYTES",
    "MAX_ATTACHMENTS",
    "MAX_COMMENT_LENGTH",
    "MAX_CONVERSATION_FILES",
    "MAX_CONVERSATION_TEXT",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_LOCATION_LENGTH",
    "Attachment",
    "Category",
    "CommentAuthor",
    "ConversationFile",
    "ReplyKind",
    "Requester",
    "SendTicketReply",
    "TicketCancelRequested",
    "TicketCommentAdded",
    "TicketEmailFailed",
    "TicketEmailed",
    "TicketRated",
    "TicketReopenRequested",
    "TicketReplyFailed",
    "TicketStatus",
    "TicketStatusChanged",
    "TicketSubmitted",
]
