"""Engineers' comments and questions: a matched notification that carries an engineer's text
becomes a TicketCommentAdded, instead of being quarantined (no status in it) or suppressed (the
same status again). Pure decisions here; the write is `CommentStore.record`.

A comment that comes with a real status change travels in TicketStatusChanged.comment (the
employee gets one message with both), so only a comment without news of status is forwarded
on its own.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass

from helpdesk_contracts.inbox.v1 import UnmatchedReason
from helpdesk_contracts.ticket.v1 import MAX_CONVERSATION_TEXT, TicketStatus

from helpdesk_inbox.correlate import Decision, LinkedTicket, Quarantine
from helpdesk_inbox.parse import ParsedMail

# InfraManager's question template ("Вопрос:", "Вопрос исполнителя:"); the rules file's comment
# patterns know comments and solutions. Text runs to the first empty line, as there.
_QUESTION = re.compile(
    r"^\s*(?:вопрос(?:\s+исполнителя|\s+специалиста)?|уточнение|question)\s*[:：]\s*"
    r"(?P<text>(?s:.+?))(?=\n\s*\n|\Z)",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTE_START = re.compile(r"^\s*(?:>|-{2,}\s*(?:original|исходное|пересылаемое))", re.I | re.M)


@dataclass(frozen=True, slots=True)
class EngineerText:
    text: str
    question: bool


@dataclass(frozen=True, slots=True)
class ForwardComment:
    """Matched, no status in it, but an engineer's text: forward the text."""

    ticket: LinkedTicket
    link_number: str | None


def _own_text(parsed: ParsedMail) -> str:
    found = _QUOTE_START.search(parsed.text)
    return parsed.text[: found.start()] if found else parsed.text


def engineer_text(parsed: ParsedMail) -> EngineerText | None:
    """The engineer's comment or question in a notification, if it has one."""
    question = _QUESTION.search(_own_text(parsed))
    if question is not None and (text := question.group("text").strip()):
        return EngineerText(text[:MAX_CONVERSATION_TEXT], question=True)
    if parsed.comment and (text := parsed.comment.strip()):
        # A comment while the ticket waits (for the requester) asks them something.
        waiting = parsed.status is TicketStatus.WAITING
        return EngineerText(text[:MAX_CONVERSATION_TEXT], question=waiting or text.endswith("?"))
    return None


def forward_instead(parsed: ParsedMail, decision: Decision) -> ForwardComment | None:
    """A matched mail about to be quarantined only for want of a status, that has a comment."""
    if not isinstance(decision, Quarantine) or decision.ticket is None:
        return None
    if decision.reason is not UnmatchedReason.UNPARSEABLE or parsed.status is not None:
        return None
    if parsed.headers_only or parsed.auto_reply or engineer_text(parsed) is None:
        return None
    return ForwardComment(ticket=decision.ticket, link_number=decision.link_number)


def comment_key(text: str) -> str:
    """Equal keys: the same comment (InfraManager may send one comment in several mails).

    A digest, not the words: `itsm_links` outlives the gateway's erasure of a person's tickets,
    so it must not keep what an engineer wrote to them."""
    normal = " ".join(text.casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MailFile:
    """A file attached to a notification."""

    filename: str
    content_type: str
    data: bytes


_CONTENT_TYPE = re.compile(r"^[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,80}$")
_UNSAFE_NAME = re.compile(r"[^\w.() -]+")


def attachments_of(raw: bytes) -> list[MailFile]:
    """The files attached to a notification (not its text bodies); never raises."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        files: list[MailFile] = []
        for part in message.walk():
            if part.is_multipart():
                continue
            name = part.get_filename()
            if part.get_content_disposition() != "attachment" and not name:
                continue  # a body, not a file
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes) or not data:
                continue
            base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
            clean = _UNSAFE_NAME.sub("_", base).strip(" ._")[:128] or f"file-{len(files) + 1}"
            kind = part.get_content_type().lower()
            files.append(
                MailFile(
                    clean, kind if _CONTENT_TYPE.match(kind) else "application/octet-stream", data
                )
            )
        return files
    except Exception:  # a broken attachment must not cost the comment itself
        return []
