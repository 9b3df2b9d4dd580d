"""A reply in a ticket's thread: the employee's comment, or a reopen or cancel request, as an
email InfraManager appends to the ticket. Pure, like compose.py: the same command always gives
the same bytes, so a resend after a crash is a copy InfraManager can de-duplicate.

Threading: `In-Reply-To` is the newest message of the thread (InfraManager's latest
notification, else the ticket email) and `References` the whole thread, oldest first; the
subject is `Re: ` + InfraManager's subject, which carries its ticket number.
"""

from __future__ import annotations

import email.utils
import re
from email.message import EmailMessage
from typing import Any

from helpdesk_contracts.ticket.v1 import ReplyKind, SendTicketReply

from helpdesk_mailer import sanitize
from helpdesk_mailer.compose import (
    POLICY,
    SUBJECT_MAX_LENGTH,
    ComposeConfig,
    OutgoingEmail,
    _address,
    _fix_boundaries,
    _required_address,
    _set_text_bodies,
)
from helpdesk_mailer.errors import ComposeError
from helpdesk_mailer.templates import Templates

REPLY_SUBJECT = "reply/subject.txt.j2"
_RE_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|ответ|отв)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+", re.I)
_MESSAGE_ID = re.compile(r"^<[^<>\s]{1,990}>$")


def reply_body_template(purpose: ReplyKind) -> str:
    return f"reply/{purpose.value}.txt.j2"


REPLY_TEMPLATES = [REPLY_SUBJECT, *(reply_body_template(p) for p in ReplyKind)]


def ticket_email_id(reference: str, ticket_id: str, domain: str) -> str:
    """The ticket email's Message-ID (as compose.ticket_message_id builds it): the thread's root."""
    return f"<{reference}.{ticket_id}@{domain}>"


def reply_message_id(command: SendTicketReply, domain: str) -> str:
    return f"<{command.reference}.{command.purpose.value}.{command.message_id.hex}@{domain}>"


def thread_of(command: SendTicketReply, domain: str) -> list[str]:
    """The thread's Message-IDs, oldest first, each once; malformed ones left out."""
    ids = [ticket_email_id(command.reference, command.ticket_id, domain), *command.thread_ids]
    return [i for i in dict.fromkeys(x.strip() for x in ids) if _MESSAGE_ID.match(i)]


def _context(command: SendTicketReply) -> dict[str, Any]:
    requester = command.requester
    subject = _RE_PREFIX.sub("", sanitize.one_line(command.itsm_subject))
    return {
        "reference": command.reference,
        "purpose": command.purpose.value,
        "text": sanitize.multi_line(command.text),
        "itsm_number": sanitize.one_line(command.itsm_number),
        "itsm_subject": subject,
        "locale": command.locale,
        "requester": {
            "display_name": sanitize.one_line(requester.display_name),
            "email": requester.email,
            "phone": sanitize.one_line(requester.phone),
            "department": sanitize.one_line(requester.department),
        },
    }


def compose_reply(command: SendTicketReply, config: ComposeConfig, tpl: Templates) -> OutgoingEmail:
    """The email that puts the employee's words into the ticket's thread."""
    context = _context(command)
    subject = sanitize.truncate(
        sanitize.one_line(tpl.render(REPLY_SUBJECT, context)), SUBJECT_MAX_LENGTH
    )
    text = sanitize.multi_line(tpl.render(reply_body_template(command.purpose), context))
    if not subject or not text:
        # InfraManager ignores mail with an empty subject or body.
        raise ComposeError("the reply templates rendered an empty subject or body")

    message = EmailMessage(policy=POLICY)
    requester = command.requester
    employee = _address(requester.display_name, requester.email)
    bot = _required_address(config.from_name, config.from_address)
    message["Date"] = email.utils.format_datetime(command.occurred_at.astimezone(config.zone))
    if config.from_mode == "employee" and employee is not None:
        message["From"] = employee
        message["Sender"] = bot
    else:
        message["From"] = bot
    if employee is not None:
        message["Reply-To"] = employee
    message["To"] = [_required_address("", a) for a in config.to]
    if config.cc:
        message["Cc"] = [_required_address("", a) for a in config.cc]
    message["Subject"] = subject
    message_id = reply_message_id(command, config.domain)
    message["Message-ID"] = message_id
    thread = thread_of(command, config.domain)
    message["In-Reply-To"] = thread[-1]
    message["References"] = " ".join(thread)
    message["X-Helpdesk-Ticket"] = command.reference
    message["X-Helpdesk-Ticket-Id"] = command.ticket_id
    message["X-Helpdesk-Reply"] = command.purpose.value
    _set_text_bodies(message, text, None)
    _fix_boundaries(message, command.message_id.hex)
    return OutgoingEmail(message=message, recipients=config.to + config.cc, message_id=message_id)
