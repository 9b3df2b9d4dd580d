"""Turn a ticket or a SendMail into the exact email to send. Pure: no clock, no I/O, no randomness.

The same input always gives the same bytes (Message-ID, Date and MIME boundaries are derived from
the message), so a resend after a crash is an identical copy InfraManager can de-duplicate.
User text is cleaned here (see sanitize.py; header values are RFC 2047-decoded before they are
cleaned, as the receiver decodes them) and headers are built with `email.policy.SMTP`, which
refuses a header value that would end a line; To/Cc come only from settings.
"""

from __future__ import annotations

import email.policy
import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_contracts.ticket.v1 import Attachment, TicketSubmitted

from helpdesk_mailer import sanitize, templates
from helpdesk_mailer.errors import ComposeError
from helpdesk_mailer.settings import MailerSettings
from helpdesk_mailer.templates import Templates

POLICY = email.policy.SMTP
SUMMARY_FALLBACK = "Заявка из Telegram"
SUBJECT_MAX_LENGTH = 250
MAIL_SUBJECT_MAX_LENGTH = 200
# Headers, MIME part headers and the listing of omitted photos, on top of the measured bodies.
_SIZE_MARGIN = 16 * 1024
_PART_OVERHEAD = 512

OmitReason = Literal["too_large", "message_too_large", "missing", "damaged"]


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    """A photo read from GridFS that passed the size and checksum checks."""

    attachment: Attachment
    data: bytes


@dataclass(frozen=True, slots=True)
class OmittedAttachment:
    """A photo listed in the body instead of attached, and why."""

    attachment: Attachment
    reason: OmitReason
    size: int


LoadedAttachment = AttachmentFile | OmittedAttachment


@dataclass(frozen=True, slots=True)
class ComposeConfig:
    from_address: str
    from_name: str
    from_mode: Literal["bot", "employee"]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    domain: str
    html: bool
    summary_max_length: int
    zone: ZoneInfo
    message_max_bytes: int

    @classmethod
    def from_settings(cls, settings: MailerSettings) -> ComposeConfig:
        return cls(
            from_address=settings.from_address,
            from_name=sanitize.one_line(settings.from_name),
            from_mode=settings.from_mode,
            to=tuple(settings.ticket_to),
            cc=tuple(settings.ticket_cc),
            domain=settings.domain,
            html=settings.html_body,
            summary_max_length=settings.subject_summary_max_length,
            zone=settings.zone,
            message_max_bytes=settings.message_max_bytes,
        )


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """The email and its SMTP envelope."""

    message: EmailMessage
    recipients: tuple[str, ...]
    message_id: str
    attachments_sent: int = 0
    attachments_omitted: int = 0

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=POLICY)


def ticket_message_id(ticket: TicketSubmitted, domain: str) -> str:
    return f"<{ticket.reference}.{ticket.ticket_id}@{domain}>"


def mail_message_id(message_id: UUID, domain: str) -> str:
    return f"<{message_id}@{domain}>"


def _address(display_name: str, addr_spec: str) -> Address | None:
    """A header address, or None when it cannot be written without SMTPUTF8 (non-ASCII local
    part) or is otherwise unusable in a header."""
    try:
        return Address(display_name=sanitize.header(display_name), addr_spec=addr_spec)
    except (ValueError, IndexError):
        return None


def _required_address(display_name: str, addr_spec: str) -> Address:
    address = _address(display_name, addr_spec)
    if address is None:
        raise ComposeError("an address cannot be written in a header (non-ASCII local part?)")
    return address


def _set_text_bodies(message: EmailMessage, text: str, html: str | None) -> None:
    # charset=utf-8 is declared explicitly (InfraManager assumes koi8-r otherwise); base64 keeps
    # the message 7-bit clean for any relay.
    message.set_content(text + "\n", subtype="plain", charset="utf-8", cte="base64")
    if html is not None:
        message.add_alternative(html + "\n", subtype="html", charset="utf-8", cte="base64")


def _fix_boundaries(message: EmailMessage, seed: str) -> None:
    """Deterministic MIME boundaries: "=_" never occurs in base64 or in folded header lines."""
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_helpdesk_{seed}_{index}")


def _encoded_size(size: int) -> int:
    # base64 with 76-character lines and CRLF: 4/3 of the bytes plus 2 per 57 input bytes.
    return (size + 2) // 3 * 4 + (size // 57 + 1) * 2


# --- tickets -------------------------------------------------------------------------------


def _summary(
    ticket: TicketSubmitted, context: dict[str, Any], config: ComposeConfig, tpl: Templates
) -> str:
    summary = sanitize.header(tpl.render(templates.TICKET_SUMMARY, context)).strip(" :")
    if not summary:
        summary = sanitize.header(ticket.category.title) or SUMMARY_FALLBACK
    return sanitize.truncate(summary, config.summary_max_length)


def _subject(ticket: TicketSubmitted, context: dict[str, Any], tpl: Templates) -> str:
    subject = sanitize.header(tpl.render(templates.TICKET_SUBJECT, context))
    if ticket.reference not in subject:
        # The reference is how InfraManager's replies find their way back: never without it.
        subject = f"[{ticket.reference}] {subject}".strip()
    return sanitize.truncate(subject, SUBJECT_MAX_LENGTH)


def _ticket_context(ticket: TicketSubmitted, config: ComposeConfig) -> dict[str, Any]:
    requester = ticket.requester
    category = ticket.category
    return {
        "reference": ticket.reference,
        "ticket_id": ticket.ticket_id,
        "locale": ticket.locale,
        "description": sanitize.multi_line(ticket.description),
        "location": sanitize.one_line(ticket.location),
        "submitted_at": ticket.submitted_at.astimezone(config.zone),
        "time_zone": config.zone.key,
        "category": {
            "code": category.code,
            "title": sanitize.one_line(category.title),
            "parent_title": sanitize.one_line(category.parent_title),
            "routing_text": sanitize.multi_line(category.routing_text),
        },
        "requester": {
            "display_name": sanitize.one_line(requester.display_name),
            "email": requester.email,
            "phone": sanitize.one_line(requester.phone),
            "department": sanitize.one_line(requester.department),
            "title": sanitize.one_line(requester.title),
            "telegram_username": sanitize.one_line(requester.telegram_username),
            "telegram_user_id": requester.telegram_user_id,
        },
        "attachments": [],
        "omitted": [],
    }


def _attachment_item(attachment: Attachment, index: int, size: int) -> dict[str, Any]:
    extension = attachment.content_type.partition("/")[2].split("+")[0] or "bin"
    return {
        "filename": sanitize.filename(attachment.filename, f"photo-{index}.{extension}"),
        "content_type": attachment.content_type,
        "size": size,
    }


def _select(
    files: Sequence[LoadedAttachment], budget: int
) -> tuple[list[tuple[AttachmentFile, dict[str, Any]]], list[dict[str, Any]]]:
    """Attach in order while the email stays within budget; list the rest with a reason."""
    attached: list[tuple[AttachmentFile, dict[str, Any]]] = []
    omitted: list[dict[str, Any]] = []
    for index, item in enumerate(files, start=1):
        if isinstance(item, OmittedAttachment):
            entry = _attachment_item(item.attachment, index, item.size)
            omitted.append({**entry, "reason": item.reason})
            continue
        entry = _attachment_item(item.attachment, index, len(item.data))
        cost = _encoded_size(len(item.data)) + _PART_OVERHEAD
        if cost > budget:
            omitted.append({**entry, "reason": "message_too_large"})
            continue
        budget -= cost
        attached.append((item, entry))
    return attached, omitted


def compose_ticket(
    ticket: TicketSubmitted,
    files: Sequence[LoadedAttachment],
    config: ComposeConfig,
    tpl: Templates,
) -> OutgoingEmail:
    """The email InfraManager turns into a ticket."""
    context = _ticket_context(ticket, config)
    context["summary"] = _summary(ticket, context, config, tpl)
    subject = _subject(ticket, context, tpl)

    attached, omitted = _select(files, _attachment_budget(files, context, config, tpl))
    context["attachments"] = [entry for _, entry in attached]
    context["omitted"] = omitted

    text = sanitize.multi_line(tpl.render(templates.TICKET_TEXT, context))
    html = tpl.render(templates.TICKET_HTML, context) if config.html else None
    if not text:
        raise ComposeError("the ticket body template rendered nothing")

    message = EmailMessage(policy=POLICY)
    message_id = _set_ticket_headers(message, ticket, subject, config)
    _set_text_bodies(message, text, html)
    for file, entry in attached:
        maintype, _, subtype = file.attachment.content_type.partition("/")
        message.add_attachment(
            file.data, maintype=maintype, subtype=subtype, filename=entry["filename"]
        )
    _fix_boundaries(message, ticket.ticket_id)
    return OutgoingEmail(
        message=message,
        recipients=config.to + config.cc,
        message_id=message_id,
        attachments_sent=len(attached),
        attachments_omitted=len(omitted),
    )


def _attachment_budget(
    files: Sequence[LoadedAttachment],
    context: dict[str, Any],
    config: ComposeConfig,
    tpl: Templates,
) -> int:
    """The bytes left for photos once the bodies (and headers, with a margin) are counted."""
    # Measure the bodies with every photo listed, the longest they can get, to size the budget.
    draft = {
        **context,
        "omitted": [
            {**_attachment_item(f.attachment, i, f.attachment.size), "reason": "missing"}
            for i, f in enumerate(files, start=1)
        ],
    }
    body_size = len(tpl.render(templates.TICKET_TEXT, draft).encode())
    if config.html:
        body_size += len(tpl.render(templates.TICKET_HTML, draft).encode())
    return config.message_max_bytes - _encoded_size(body_size) - _SIZE_MARGIN


def _set_ticket_headers(
    message: EmailMessage, ticket: TicketSubmitted, subject: str, config: ComposeConfig
) -> str:
    """From the employee or the bot, to InfraManager; returns the Message-ID it set."""
    requester = ticket.requester
    employee = _address(requester.display_name, requester.email)
    bot = _required_address(config.from_name, config.from_address)
    message["Date"] = email.utils.format_datetime(ticket.submitted_at.astimezone(config.zone))
    if config.from_mode == "employee" and employee is not None:
        message["From"] = employee
        message["Sender"] = bot  # RFC 5322: the mailbox that actually sent it
    else:
        message["From"] = bot
    if employee is not None:
        message["Reply-To"] = employee
    message["To"] = [_required_address("", a) for a in config.to]
    if config.cc:
        message["Cc"] = [_required_address("", a) for a in config.cc]
    message["Subject"] = subject
    message_id = ticket_message_id(ticket, config.domain)
    message["Message-ID"] = message_id
    message["X-Helpdesk-Ticket"] = ticket.reference
    message["X-Helpdesk-Ticket-Id"] = ticket.ticket_id
    return message_id


# --- SendMail ------------------------------------------------------------------------------


def compose_mail(command: SendMail, config: ComposeConfig, tpl: Templates) -> OutgoingEmail:
    """A templated notice (a sign-in code, ...) to one employee. Variables are never logged."""
    context: dict[str, Any] = {
        key: sanitize.multi_line(value) for key, value in command.variables.items()
    }
    context["locale"] = command.locale
    name = templates.mail_template
    subject = sanitize.header(
        tpl.render(name(command.template, command.locale, "subject.txt"), context)
    )
    text = sanitize.multi_line(
        tpl.render(name(command.template, command.locale, "body.txt"), context)
    )
    html = (
        tpl.render(name(command.template, command.locale, "body.html"), context)
        if config.html
        else None
    )
    if not subject or not text:
        raise ComposeError(f"template {command.template.value} rendered an empty subject or body")

    message = EmailMessage(policy=POLICY)
    message["Date"] = email.utils.format_datetime(command.occurred_at.astimezone(config.zone))
    message["From"] = _required_address(config.from_name, config.from_address)
    message["To"] = _required_address("", command.to)
    message["Subject"] = sanitize.truncate(subject, MAIL_SUBJECT_MAX_LENGTH)
    message_id = mail_message_id(command.message_id, config.domain)
    message["Message-ID"] = message_id
    # Keep out-of-office robots from answering the bot mailbox.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    _set_text_bodies(message, text, html)
    _fix_boundaries(message, command.message_id.hex)
    return OutgoingEmail(message=message, recipients=(command.to,), message_id=message_id)
