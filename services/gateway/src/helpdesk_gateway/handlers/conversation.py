"""Talking about a filed ticket: «Ответить» / «Добавить комментарий» or a Telegram reply to any
bot message that names the ticket (a comment), «Проблема решена?» (rating or reopen), and
«Отменить заявку». Each goes out as a SendTicketReply (the `conversation` use case).

Every button names its ticket; `OwnedTicket` lets only the author's own through."""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from helpdesk_contracts.ticket.v1 import MAX_CONVERSATION_TEXT, ReplyKind

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.bot.middlewares import RequireAuthorized
from helpdesk_gateway.callbacks import ConversationAction, ConversationCb
from helpdesk_gateway.comment_files import CommentFiles, FileRefusedError
from helpdesk_gateway.conversation import Conversation
from helpdesk_gateway.domain.tickets import RATABLE, EmailState, TicketRecord
from helpdesk_gateway.handlers.filters import OwnedTicket
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.keyboards.conversation import cancel_input, confirm_cancel
from helpdesk_gateway.keyboards.tickets import stars
from helpdesk_gateway.ratings import Ratings
from helpdesk_gateway.states import Conversation as Talk
from helpdesk_gateway.states import Rating
from helpdesk_gateway.views import ticket_label

_REFERENCE = re.compile(r"\bTG-[0-9A-Z]{6}\b")
DATA_KEY = "conversation"
TALK_STATES = (Talk.comment.state, Talk.reopen.state)


def referenced(message: Message) -> str | None:
    """The one ticket reference in the bot message being replied to, if exactly one."""
    original = message.reply_to_message
    if original is None or original.from_user is None or not original.from_user.is_bot:
        return None
    found = set(_REFERENCE.findall(original.text or original.caption or ""))
    return found.pop() if len(found) == 1 else None


def _refusal(t: Texts, ticket: TicketRecord, text: str, has_file: bool) -> str | None:
    """Why the message cannot go as a comment, in the employee's words; None when it can."""
    if not text and not has_file:
        return t("conversation-text-only")
    if len(text) > MAX_CONVERSATION_TEXT:
        return t("conversation-too-long", max=MAX_CONVERSATION_TEXT)
    if ticket.email_state is not EmailState.SENT:
        return t("conversation-not-emailed", ticket=ticket_label(t, ticket))
    return None


async def _deliver(
    message: Message,
    bot: Bot,
    t: Texts,
    conversation: Conversation,
    files: CommentFiles,
    ticket: TicketRecord,
    user: GatewayUser,
    purpose: ReplyKind = ReplyKind.COMMENT,
) -> bool:
    """Send the message (text, or a photo or document with its caption) as a comment, or with
    a reopen request; False (and the reason told) when it cannot go."""
    text = (message.text or message.caption or "").strip()
    has_file = bool(message.photo or message.document)
    refusal = _refusal(t, ticket, text, has_file)
    if refusal is not None:
        await message.answer(refusal)
        return False
    try:
        file = await files.take(bot, message, t, ticket.id) if has_file else None
    except FileRefusedError as exc:
        await message.answer(str(exc))
        return False
    await conversation.send(ticket, user, purpose, text, [file] if file else [])
    queued = "reopen-queued" if purpose is ReplyKind.REOPEN else "conversation-comment-queued"
    await message.answer(t(queued, ticket=ticket_label(t, ticket)), reply_markup=menu.main_menu(t))
    return True


async def _leave(state: FSMContext) -> None:
    """Out of the conversation states, leaving any other FSM data as it was."""
    await state.set_state(None)
    await state.update_data({DATA_KEY: None})


async def _talked_about(
    message: Message, state: FSMContext, t: Texts, conversation: Conversation, user: GatewayUser
) -> TicketRecord | None:
    """The ticket the employee was asked to write about; if it is gone they are told so."""
    ticket_id = (await state.get_data()).get(DATA_KEY)
    ticket = await conversation.ticket(ticket_id, user.telegram_user_id)
    if ticket is None:
        await _leave(state)
        await message.answer(t("ticket-not-found"), reply_markup=menu.main_menu(t))
    return ticket


async def start_comment(
    query: CallbackQuery, ticket: TicketRecord, shown: Message, state: FSMContext, t: Texts
) -> None:
    """«Ответить» / «Добавить комментарий»: the next message is the comment."""
    current = await state.get_state()
    if current is not None and current != Talk.comment.state:
        # A draft or a rating comment is open: finishing it first keeps it intact.
        await query.answer(t("conversation-busy"), show_alert=True)
        return
    await query.answer()
    await state.set_state(Talk.comment)
    await state.update_data({DATA_KEY: ticket.id})
    await shown.answer(
        t("conversation-ask-comment", ticket=ticket_label(t, ticket)),
        reply_markup=cancel_input(t, ticket.id),
    )


async def abandon(
    query: CallbackQuery, callback_data: ConversationCb, state: FSMContext, t: Texts
) -> None:
    """«Не отправлять» under a prompt. Under an older prompt (the comment has gone, or the
    employee is writing about another ticket now) it is a stale button and changes nothing."""
    writing = await state.get_state() in TALK_STATES
    current = writing and (await state.get_data()).get(DATA_KEY) == callback_data.ticket
    if current:
        await _leave(state)
    await query.answer(None if current else t("button-stale"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if current:
            await query.message.answer(t("conversation-abandoned"), reply_markup=menu.main_menu(t))


async def keep(query: CallbackQuery, ticket: TicketRecord, shown: Message, t: Texts) -> None:
    """«Нет, оставить» under the cancel question: the ticket stays as it is."""
    await query.answer()
    await shown.edit_reply_markup(reply_markup=None)
    await shown.answer(
        t("cancel-kept", ticket=ticket_label(t, ticket)), reply_markup=menu.main_menu(t)
    )


async def comment(
    message: Message,
    state: FSMContext,
    t: Texts,
    conversation: Conversation,
    comment_files: CommentFiles,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """The comment the employee was asked for."""
    ticket = await _talked_about(message, state, t, conversation, user)
    if ticket is not None and await _deliver(
        message, bot, t, conversation, comment_files, ticket, user
    ):
        await _leave(state)


async def solved(query: CallbackQuery, ticket: TicketRecord, shown: Message, t: Texts) -> None:
    """«Да» to «Проблема решена?»: the rating question, unless rated already."""
    await query.answer()
    await shown.edit_reply_markup(reply_markup=None)
    if ticket.rating.value is None and ticket.status in RATABLE:
        await shown.answer(
            t("solved-rate", ticket=ticket_label(t, ticket)), reply_markup=stars(t, ticket.id)
        )
    else:
        await shown.answer(t("solved-thanks"), reply_markup=menu.main_menu(t))


async def not_solved(
    query: CallbackQuery,
    ticket: TicketRecord,
    shown: Message,
    state: FSMContext,
    t: Texts,
    ratings: Ratings,
) -> None:
    """«Нет, не решена» (after a resolution or a low rating): ask what is still wrong, while
    the ticket still awaits the confirmation."""
    refusal = ticket.reopen_refusal()
    if refusal is not None:
        await query.answer(t(refusal, ticket=ticket_label(t, ticket)), show_alert=True)
        return
    current = await state.get_state()
    if current == Rating.comment.state:
        # The low rating goes out without a comment; what is wrong goes to the reopen.
        await ratings.finish(ticket.id, None)
    elif current is not None and current not in TALK_STATES:
        await query.answer(t("conversation-busy"), show_alert=True)
        return
    await query.answer()
    await shown.edit_reply_markup(reply_markup=None)
    await state.set_state(Talk.reopen)
    await state.update_data({DATA_KEY: ticket.id})
    await shown.answer(
        t("reopen-ask", ticket=ticket_label(t, ticket)), reply_markup=cancel_input(t, ticket.id)
    )


async def reopen_reason(
    message: Message,
    state: FSMContext,
    t: Texts,
    conversation: Conversation,
    comment_files: CommentFiles,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """What is still wrong: a reopen request in the ticket's thread (if it still awaits the
    confirmation: it may have moved on while the employee was writing)."""
    ticket = await _talked_about(message, state, t, conversation, user)
    if ticket is None:
        return
    refusal = ticket.reopen_refusal()
    if refusal is not None:
        await _leave(state)
        await message.answer(
            t(refusal, ticket=ticket_label(t, ticket)), reply_markup=menu.main_menu(t)
        )
        return
    if await _deliver(message, bot, t, conversation, comment_files, ticket, user, ReplyKind.REOPEN):
        await _leave(state)


async def ask_cancel(query: CallbackQuery, ticket: TicketRecord, shown: Message, t: Texts) -> None:
    """«Отменить заявку» under its details: asked once more, it cannot be undone."""
    if not await _cancellable(query, t, ticket):
        return
    await query.answer()
    await shown.answer(
        t("cancel-ask", ticket=ticket_label(t, ticket)), reply_markup=confirm_cancel(t, ticket.id)
    )


async def cancel(
    query: CallbackQuery,
    ticket: TicketRecord,
    shown: Message,
    t: Texts,
    conversation: Conversation,
    user: GatewayUser,
) -> None:
    """«Да, отменить»: a cancellation email goes into the ticket's thread."""
    if not await _cancellable(query, t, ticket):
        return
    await query.answer()
    await shown.edit_reply_markup(reply_markup=None)
    await conversation.send(ticket, user, ReplyKind.CANCEL, "", [])
    await shown.answer(
        t("cancel-queued", ticket=ticket_label(t, ticket)), reply_markup=menu.main_menu(t)
    )


async def _cancellable(query: CallbackQuery, t: Texts, ticket: TicketRecord) -> bool:
    """Whether the ticket can still be withdrawn; if not, the press is answered with why."""
    if ticket.cancellable:
        return True
    await query.answer(t("cancel-not-possible", ticket=ticket_label(t, ticket)), show_alert=True)
    return False


async def reply(
    message: Message,
    t: Texts,
    conversation: Conversation,
    comment_files: CommentFiles,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """A Telegram reply to a bot message about a ticket: a comment on that ticket."""
    reference = referenced(message)
    ticket = (
        await conversation.by_reference(reference, user.telegram_user_id) if reference else None
    )
    if ticket is None:
        await message.answer(t("conversation-reply-no-ticket"), reply_markup=menu.main_menu(t))
        return
    await _deliver(message, bot, t, conversation, comment_files, ticket, user)


def _pressed(action: ConversationAction) -> CallbackQueryFilter:
    return ConversationCb.filter(F.action == action)


def router() -> Router:
    r = Router(name="conversation")
    r.message.middleware(RequireAuthorized())
    r.callback_query.middleware(RequireAuthorized())
    button = r.callback_query.register
    button(start_comment, _pressed(ConversationAction.COMMENT), OwnedTicket())
    button(abandon, _pressed(ConversationAction.ABANDON))
    r.message.register(comment, Talk.comment)
    button(solved, _pressed(ConversationAction.SOLVED), OwnedTicket())
    button(not_solved, _pressed(ConversationAction.REOPEN), OwnedTicket())
    r.message.register(reopen_reason, Talk.reopen)
    button(ask_cancel, _pressed(ConversationAction.CANCEL), OwnedTicket())
    button(cancel, _pressed(ConversationAction.CANCEL_CONFIRM), OwnedTicket())
    button(keep, _pressed(ConversationAction.CANCEL_KEEP), OwnedTicket())
    r.message.register(reply, StateFilter(None), F.reply_to_message)
    return r
