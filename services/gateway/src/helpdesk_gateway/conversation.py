"""Talking about a filed ticket: engineers' comments to the employee, the employee's comments
to InfraManager (emailed into the ticket's thread by the mailer), and what became of them.

Every message to the employee is queued in `gateway_notifications` keyed by the event that
caused it, so a redelivered event says nothing twice. The employee's comment is queued as a
SendTicketReply in the ticket's outbox together with its record in the ticket (one write).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    ConversationFile,
    ReplyKind,
    SendTicketReply,
    TicketCancelRequested,
    TicketCommentAdded,
    TicketReopenRequested,
    TicketReplyFailed,
)

from helpdesk_gateway.adapters.conversation import ConversationStore
from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards.conversation import answer_button
from helpdesk_gateway.notifier import markup_to_doc
from helpdesk_gateway.views import ticket_label

log = logging.getLogger("helpdesk.gateway.conversation")


def _store(ctx: GatewayContext) -> ConversationStore:
    return ConversationStore(ctx.tickets.collection)


async def _ticket_for(ctx: GatewayContext, ticket_id: str, reference: str) -> TicketRecord | None:
    ticket = await ctx.tickets.get(ticket_id)
    if ticket is None or ticket.reference != reference:
        log.warning(
            "conversation event for a ticket the gateway does not know",
            extra={"ticket_id": ticket_id, "reference": reference},
        )
        return None
    return ticket


async def _texts(ctx: GatewayContext, ticket: TicketRecord) -> tuple[Texts, int]:
    user = await ctx.users.get(ticket.user_id)
    t = ctx.i18n.texts(user.locale if user else ticket.locale)
    return t, user.chat_id if user else ticket.chat_id


async def _tell(ctx: GatewayContext, notification: Notification) -> None:
    if await ctx.notifications.enqueue(notification, ctx.clock()):
        ctx.wake_notifier()


TELEGRAM_PHOTO_MAX_BYTES = 10 * 1024 * 1024
TELEGRAM_DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


def too_big_for_telegram(file: ConversationFile) -> bool:
    return file.size > TELEGRAM_DOCUMENT_MAX_BYTES


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


async def on_comment_added(ctx: GatewayContext, event: TicketCommentAdded) -> None:
    """An engineer's comment: to the employee, with «Ответить». The employee's own: «sent»."""
    ticket = await _ticket_for(ctx, event.ticket_id, event.reference)
    if ticket is None:
        return
    t, chat_id = await _texts(ctx, ticket)
    if event.author is CommentAuthor.SUPPORT:
        await _store(ctx).remember_thread(
            ticket.id, event.email_message_id, event.email_subject, event.itsm_number
        )
        text = support_comment_text(t, ticket, event)
        markup = markup_to_doc(answer_button(t, ticket.id))
    else:
        await _store(ctx).reply_settled(ticket.id, event.correlation_id, "sent")
        text = t("conversation-comment-sent", ticket=ticket_label(t, ticket))
        markup = None
    await _tell(
        ctx,
        Notification(
            key=f"conversation:{event.message_id}", chat_id=chat_id, text=text, markup=markup
        ),
    )
    if event.author is CommentAuthor.SUPPORT:
        for index, file in enumerate(event.files):
            if too_big_for_telegram(file):
                continue
            await _tell(ctx, file_notification(t, ticket, event, index, file, chat_id))


async def on_reply_failed(ctx: GatewayContext, event: TicketReplyFailed) -> None:
    """The mailer could not email the employee's comment (or request): they are told so."""
    ticket = await _ticket_for(ctx, event.ticket_id, event.reference)
    if ticket is None:
        return
    await _store(ctx).reply_settled(ticket.id, event.correlation_id, "failed")
    t, chat_id = await _texts(ctx, ticket)
    key = f"conversation-{event.purpose.value}-failed"
    await _tell(
        ctx,
        Notification(
            key=f"conversation:{event.message_id}",
            chat_id=chat_id,
            text=t(key, ticket=ticket_label(t, ticket)),
        ),
    )


async def on_request_sent(
    ctx: GatewayContext, event: TicketReopenRequested | TicketCancelRequested
) -> None:
    """The reopen or cancel email left: the employee hears what happens next."""
    ticket = await _ticket_for(ctx, event.ticket_id, event.reference)
    if ticket is None:
        return
    await _store(ctx).reply_settled(ticket.id, event.correlation_id, "sent")
    t, chat_id = await _texts(ctx, ticket)
    key = "reopen-sent" if isinstance(event, TicketReopenRequested) else "cancel-sent"
    await _tell(
        ctx,
        Notification(
            key=f"conversation:{event.message_id}",
            chat_id=chat_id,
            text=t(key, ticket=ticket_label(t, ticket)),
        ),
    )


async def send_reply(
    ctx: GatewayContext,
    ticket: TicketRecord,
    user: GatewayUser,
    purpose: ReplyKind,
    text: str,
    files: list[ConversationFile],
) -> bool:
    """Queue the employee's comment (or request) for the mailer; False if the ticket vanished."""
    command = SendTicketReply(
        ticket_id=ticket.id,
        reference=ticket.reference,
        purpose=purpose,
        requester=user.requester(),
        text=text,
        files=files,
        itsm_number=ticket.itsm_number,
        thread_ids=list(ticket.thread.message_ids),
        itsm_subject=ticket.thread.subject,
        locale=user.locale,
    )
    queued = await _store(ctx).queue_reply(command, ctx.clock())
    if queued:
        ctx.relay.notify()
    return queued


async def ticket_by_reference(
    ctx: GatewayContext, reference: str, user_id: int
) -> TicketRecord | None:
    """The user's own ticket with this reference."""
    doc = await ctx.tickets.collection.find_one(
        {"reference": reference, "user_id": user_id}, {"_id": 1}
    )
    return await ctx.tickets.of_user(str(doc["_id"]), user_id) if doc else None


async def send_waiting_reminders(ctx: GatewayContext) -> int:
    """One reminder per waiting period to an employee IT support is waiting for."""
    now = ctx.clock()
    cutoff = now - timedelta(seconds=ctx.settings.waiting_reminder_after_seconds)
    store = _store(ctx)
    sent = 0
    for doc in await store.waiting_since_before(cutoff):
        since = doc["status_changed_at"]
        if not await store.mark_waiting_reminded(doc["_id"], since):
            continue
        ticket = await ctx.tickets.get(str(doc["_id"]))
        if ticket is None:
            continue
        t, chat_id = await _texts(ctx, ticket)
        notification = Notification(
            key=f"waiting-reminder:{ticket.id}:{since.isoformat()}",
            chat_id=chat_id,
            text=t("waiting-reminder", ticket=ticket_label(t, ticket)),
            markup=markup_to_doc(answer_button(t, ticket.id)),
        )
        if await ctx.notifications.enqueue(notification, now):
            sent += 1
    if sent:
        ctx.wake_notifier()
        log.info("waiting reminders queued", extra={"count": sent})
    return sent
