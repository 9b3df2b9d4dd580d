"""What an employee is told when something happens to their ticket or their sign-in, as
Telegram messages.

The use cases (lifecycle.py, notifications.py, ratings.py, accounts.py) decide that an
employee hears about something; this presenter, handed to them in app.py, turns that into a
queued `Notification`: the text in the employee's language and the buttons under it. It is the
only place besides the handlers that knows texts and keyboards.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from aiogram.types import ReplyKeyboardRemove
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    RevokeReason,
    UserAuthorized,
    UserRevoked,
)
from helpdesk_contracts.ticket.v1 import (
    ConversationFile,
    TicketCancelRequested,
    TicketCommentAdded,
    TicketEmailed,
    TicketEmailFailed,
    TicketReopenRequested,
    TicketReplyFailed,
    TicketStatus,
    TicketStatusChanged,
)

from helpdesk_gateway.accounts import notification_key
from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.i18n import DEFAULT_LOCALE, I18n, Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.keyboards.conversation import answer_button, solved_question
from helpdesk_gateway.keyboards.sign_in import code_sent as code_sent_keyboard
from helpdesk_gateway.keyboards.tickets import stars
from helpdesk_gateway.notifier import markup_to_doc
from helpdesk_gateway.views import duration_text, reject_text, status_text, ticket_label

TicketEvent = TicketEmailed | TicketEmailFailed | TicketStatusChanged

TELEGRAM_PHOTO_MAX_BYTES = 10 * 1024 * 1024
TELEGRAM_DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


def too_big_for_telegram(file: ConversationFile) -> bool:
    return file.size > TELEGRAM_DOCUMENT_MAX_BYTES


def render(t: Texts, ticket: TicketRecord, event: TicketEvent, *, ask_rating: bool) -> Notification:
    """A lifecycle event's news (sent to the ticket's chat)."""
    markup = None
    if isinstance(event, TicketEmailed):
        text = t("notify-emailed", reference=ticket.reference)
        if event.attachments_omitted:
            text += "\n" + t("notify-photos-omitted", omitted=event.attachments_omitted)
    elif isinstance(event, TicketEmailFailed):
        key = "notify-email-failed" if event.permanent else "notify-email-retrying"
        text = t(key, reference=ticket.reference)
    else:
        text = status_text(t, ticket, event, ask_rating=ask_rating)
        if event.status is TicketStatus.RESOLVED:
            # Every resolution asks «Проблема решена?»: «Да» leads to the rating, «Нет» reopens.
            markup = markup_to_doc(solved_question(t, ticket.id))
        elif event.status is TicketStatus.WAITING and event.comment:
            # InfraManager waits for the requester and says why: they can answer at once.
            text += "\n\n" + t("conversation-how-to-answer")
            markup = markup_to_doc(answer_button(t, ticket.id))
        elif ask_rating:
            markup = markup_to_doc(stars(t, ticket.id))
    return Notification(
        key=f"ticket:{event.message_id}", chat_id=ticket.chat_id, text=text, markup=markup
    )


def file_notification(
    t: Texts,
    ticket: TicketRecord,
    event: TicketCommentAdded,
    index: int,
    file: ConversationFile,
    chat_id: int,
) -> Notification:
    """One of IT support's files, under the comment: a photo if Telegram shows it as one."""
    as_photo = file.content_type in PHOTO_TYPES and file.size <= TELEGRAM_PHOTO_MAX_BYTES
    caption = t("conversation-file-caption", ticket=ticket_label(t, ticket, event.itsm_number))
    return Notification(
        key=f"conversation:{event.message_id}:file:{index}",
        chat_id=chat_id,
        text=caption,
        file={"file_id": file.file_id, "filename": file.filename, "as_photo": as_photo},
    )


def support_comment_text(t: Texts, ticket: TicketRecord, event: TicketCommentAdded) -> str:
    label = ticket_label(t, ticket, event.itsm_number)
    key = "conversation-support-question" if event.question else "conversation-support-comment"
    text = t(key, ticket=label, text=event.text)
    # Files Telegram cannot take are named, not sent.
    omitted = [*event.files_omitted, *(f.filename for f in event.files if too_big_for_telegram(f))]
    if omitted:
        text += "\n\n" + t("conversation-files-not-sent", names=", ".join(omitted))
    return text + "\n\n" + t("conversation-how-to-answer")


class Messages:
    """Renders the news a use case decided to tell, in the employee's language (the ticket's
    own when the employee is not known any more)."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    def _texts(self, user: GatewayUser | None, ticket: TicketRecord) -> tuple[Texts, int]:
        t = self.i18n.texts(user.locale if user else ticket.locale)
        return t, user.chat_id if user else ticket.chat_id

    def ticket_event(
        self,
        user: GatewayUser | None,
        ticket: TicketRecord,
        event: TicketEvent,
        *,
        ask_rating: bool,
    ) -> Notification:
        t, _ = self._texts(user, ticket)
        return render(t, ticket, event, ask_rating=ask_rating)

    def support_comment(
        self, user: GatewayUser | None, ticket: TicketRecord, event: TicketCommentAdded
    ) -> list[Notification]:
        """An engineer's comment with «Ответить», then the files Telegram can take."""
        t, chat_id = self._texts(user, ticket)
        comment = Notification(
            key=f"conversation:{event.message_id}",
            chat_id=chat_id,
            text=support_comment_text(t, ticket, event),
            markup=markup_to_doc(answer_button(t, ticket.id)),
        )
        files = [
            file_notification(t, ticket, event, index, file, chat_id)
            for index, file in enumerate(event.files)
            if not too_big_for_telegram(file)
        ]
        return [comment, *files]

    def comment_sent(
        self, user: GatewayUser | None, ticket: TicketRecord, event: TicketCommentAdded
    ) -> Notification:
        return self._about(user, ticket, event.message_id, "conversation-comment-sent")

    def reply_failed(
        self, user: GatewayUser | None, ticket: TicketRecord, event: TicketReplyFailed
    ) -> Notification:
        key = f"conversation-{event.purpose.value}-failed"
        return self._about(user, ticket, event.message_id, key)

    def request_sent(
        self,
        user: GatewayUser | None,
        ticket: TicketRecord,
        event: TicketReopenRequested | TicketCancelRequested,
    ) -> Notification:
        key = "reopen-sent" if isinstance(event, TicketReopenRequested) else "cancel-sent"
        return self._about(user, ticket, event.message_id, key)

    def _about(
        self, user: GatewayUser | None, ticket: TicketRecord, cause: object, key: str
    ) -> Notification:
        t, chat_id = self._texts(user, ticket)
        return Notification(
            key=f"conversation:{cause}",
            chat_id=chat_id,
            text=t(key, ticket=ticket_label(t, ticket)),
        )

    def waiting_reminder(
        self, user: GatewayUser | None, ticket: TicketRecord, since: datetime
    ) -> Notification:
        t, chat_id = self._texts(user, ticket)
        return Notification(
            key=f"waiting-reminder:{ticket.id}:{since.isoformat()}",
            chat_id=chat_id,
            text=t("waiting-reminder", ticket=ticket_label(t, ticket)),
            markup=markup_to_doc(answer_button(t, ticket.id)),
        )

    def rating_reminder(self, user: GatewayUser | None, ticket: TicketRecord) -> Notification:
        t, chat_id = self._texts(user, ticket)
        return Notification(
            key=f"rating-reminder:{ticket.id}",
            chat_id=chat_id,
            text=t("rating-reminder", ticket=ticket_label(t, ticket)),
            markup=markup_to_doc(stars(t, ticket.id)),
        )

    def code_sent(
        self, user: GatewayUser | None, event: CodeSent, valid_for: float
    ) -> Notification:
        t = self._auth_texts(user)
        text = t(
            "sign-in-code-sent",
            email=event.masked_email,
            valid=duration_text(t, max(valid_for, 1)),
            resend=duration_text(t, event.resend_after_seconds),
        )
        return self._auth(event, event.chat_id, text, markup_to_doc(code_sent_keyboard(t)))

    def code_rejected(self, user: GatewayUser | None, event: CodeRejected) -> Notification:
        return self._auth(event, event.chat_id, reject_text(self._auth_texts(user), event))

    def signed_in(
        self, user: GatewayUser | None, event: UserAuthorized, retire: str | None
    ) -> Notification:
        t = self._auth_texts(user)
        text = t("sign-in-done", name=event.profile.display_name, email=event.profile.email)
        notification = self._auth(event, event.chat_id, text, markup_to_doc(menu.main_menu(t)))
        return replace(notification, retire=retire)

    def revoked(self, user: GatewayUser, event: UserRevoked) -> Notification:
        t = self.i18n.texts(user.locale)
        key = "access-revoked-rebound" if event.reason == RevokeReason.REBOUND else "access-revoked"
        return self._auth(event, user.chat_id, t(key), markup_to_doc(ReplyKeyboardRemove()))

    def _auth_texts(self, user: GatewayUser | None) -> Texts:
        return self.i18n.texts(user.locale if user else DEFAULT_LOCALE)

    @staticmethod
    def _auth(
        cause: CodeSent | CodeRejected | UserAuthorized | UserRevoked,
        chat_id: int,
        text: str,
        markup: dict[str, Any] | None = None,
    ) -> Notification:
        return Notification(key=notification_key(cause), chat_id=chat_id, text=text, markup=markup)
