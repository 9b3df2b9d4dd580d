"""Talking about a filed ticket: «Ответить» / «Добавить комментарий» or a Telegram reply to any
bot message that names the ticket (a comment), «Проблема решена?» (rating or reopen), and
«Отменить заявку». Each goes out as a SendTicketReply."""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from helpdesk_contracts.ticket.v1 import MAX_CONVERSATION_TEXT, ReplyKind

from helpdesk_gateway import conversation, ratings
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.bot.middlewares import RequireAuthorized
from helpdesk_gateway.callbacks import ConversationAction, ConversationCb
from helpdesk_gateway.comment_files import FileRefusedError, take_file
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.tickets import RATABLE, EmailState, TicketRecord
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.keyboards.conversation import cancel_input, confirm_cancel
from helpdesk_gateway.keyboards.tickets import stars
from helpdesk_gateway.states import Conversation, Rating
from helpdesk_gateway.views import ticket_label

_REFERENCE = re.compile(r"\bTG-[0-9A-Z]{6}\b")
DATA_KEY = "conversation"


def referenced(message: Message) -> str | None:
    """The one ticket reference in the bot message being replied to, if exactly one."""
    original = message.reply_to_message
    if original is None or original.from_user is None or not original.from_user.is_bot:
        return None
    found = set(_REFERENCE.findall(original.text or original.caption or ""))
    return found.pop() if len(found) == 1 else None


async def _deliver(
    message: Message,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
    ticket: TicketRecord,
    bot: Bot,
    purpose: ReplyKind = ReplyKind.COMMENT,
) -> bool:
    """Send the message (text, or a photo or document with its caption) as a comment, or with
    a reopen request; False (and the reason told) when it cannot go."""
    text = (message.text or message.caption or "").strip()
    has_file = bool(message.photo or message.document)
    if not text and not has_file:
        await message.answer(t("conversation-text-only"))
        return False
    if len(text) > MAX_CONVERSATION_TEXT:
        await message.answer(t("conversation-too-long", max=MAX_CONVERSATION_TEXT))
        return False
    if ticket.email_state is not EmailState.SENT:
        await message.answer(t("conversation-not-emailed", ticket=ticket_label(t, ticket)))
        return False
    files = []
    if has_file:
        try:
            file = await take_file(ctx, bot, message, t, ticket.id)
        except FileRefusedError as exc:
            await message.answer(str(exc))
            return False
        files = [file] if file is not None else []
    await conversation.send_reply(ctx, ticket, user, purpose, text, files)
    queued = "reopen-queued" if purpose is ReplyKind.REOPEN else "conversation-comment-queued"
    await message.answer(t(queued, ticket=ticket_label(t, ticket)), reply_markup=menu.main_menu(t))
    return True


async def _leave(state: FSMContext) -> None:
    """Out of the conversation states, leaving any other FSM data as it was."""
    await state.set_state(None)
    await state.update_data({DATA_KEY: None})


async def start_comment(
    query: CallbackQuery,
    callback_data: ConversationCb,
    state: FSMContext,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
) -> None:
    """«Ответить» / «Добавить комментарий»: the next message is the comment."""
    owned = await _owned_ticket(query, callback_data, t, ctx, user)
    if owned is None:
        return
    ticket, shown = owned
    current = await state.get_state()
    if current is not None and current != Conversation.comment.state:
        # A draft or a rating comment is open: finishing it first keeps it intact.
        await query.answer(t("conversation-busy"), show_alert=True)
        return
    await query.answer()
    await state.set_state(Conversation.comment)
    await state.update_data({DATA_KEY: ticket.id})
    await shown.answer(
        t("conversation-ask-comment", ticket=ticket_label(t, ticket)),
        reply_markup=cancel_input(t, ticket.id),
    )


async def abandon(query: CallbackQuery, state: FSMContext, t: Texts, ctx: GatewayContext) -> None:
    """«Не отправлять» under a prompt, «Нет, оставить» under the cancel question."""
    del ctx
    if await state.get_state() in (Conversation.comment.state, Conversation.reopen.state):
        await _leave(state)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(t("conversation-abandoned"), reply_markup=menu.main_menu(t))


async def comment(
    message: Message,
    state: FSMContext,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """The comment the employee was asked for."""
    ticket_id = (await state.get_data()).get(DATA_KEY)
    ticket = (
        await ctx.tickets.of_user(ticket_id, user.telegram_user_id)
        if isinstance(ticket_id, str)
        else None
    )
    if ticket is None:
        await state.set_state(None)
        await message.answer(t("ticket-not-found"), reply_markup=menu.main_menu(t))
        return
    if await _deliver(message, t, ctx, user, ticket, bot):
        await _leave(state)


async def solved(
    query: CallbackQuery,
    callback_data: ConversationCb,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
) -> None:
    """«Да» to «Проблема решена?»: the rating question, unless rated already."""
    owned = await _owned_ticket(query, callback_data, t, ctx, user)
    if owned is None:
        return
    ticket, shown = owned
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
    callback_data: ConversationCb,
    state: FSMContext,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
) -> None:
    """«Нет, не решена» (after a resolution or a low rating): ask what is still wrong."""
    owned = await _owned_ticket(query, callback_data, t, ctx, user)
    if owned is None:
        return
    ticket, shown = owned
    if ticket.status not in RATABLE:
        await query.answer(
            t("reopen-not-resolved", ticket=ticket_label(t, ticket)), show_alert=True
        )
        return
    current = await state.get_state()
    if current == Rating.comment.state:
        # The low rating goes out without a comment; what is wrong goes to the reopen.
        await ratings.finish(ctx, ticket.id, None)
    elif current is not None and current not in (
        Conversation.comment.state,
        Conversation.reopen.state,
    ):
        await query.answer(t("conversation-busy"), show_alert=True)
        return
    await query.answer()
    await shown.edit_reply_markup(reply_markup=None)
    await state.set_state(Conversation.reopen)
    await state.update_data({DATA_KEY: ticket.id})
    await shown.answer(
        t("reopen-ask", ticket=ticket_label(t, ticket)),
        reply_markup=cancel_input(t, ticket.id),
    )


async def reopen_reason(
    message: Message,
    state: FSMContext,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """What is still wrong: a reopen request in the ticket's thread."""
    ticket_id = (await state.get_data()).get(DATA_KEY)
    ticket = (
        await ctx.tickets.of_user(ticket_id, user.telegram_user_id)
        if isinstance(ticket_id, str)
        else None
    )
    if ticket is None:
        await _leave(state)
        await message.answer(t("ticket-not-found"), reply_markup=menu.main_menu(t))
        return
    if await _deliver(message, t, ctx, user, ticket, bot, ReplyKind.REOPEN):
        await _leave(state)


async def ask_cancel(
    query: CallbackQuery,
    callback_data: ConversationCb,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
) -> None:
    """«Отменить заявку» under its details: asked once more, it cannot be undone."""
    owned = await _owned_ticket(query, callback_data, t, ctx, user)
    if owned is None:
        return
    ticket, shown = owned
    if not await _cancellable(query, t, ticket):
        return
    await query.answer()
    await shown.answer(
        t("cancel-ask", ticket=ticket_label(t, ticket)),
        reply_markup=confirm_cancel(t, ticket.id),
    )


async def cancel(
    query: CallbackQuery,
    callback_data: ConversationCb,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
) -> None:
    """«Да, отменить»: a cancellation email goes into the ticket's thread."""
    owned = await _owned_ticket(query, callback_data, t, ctx, user)
    if owned is None:
        return
    ticket, shown = owned
    if not await _cancellable(query, t, ticket):
        return
    await query.answer()
    await shown.edit_reply_markup(reply_markup=None)
    await conversation.send_reply(ctx, ticket, user, ReplyKind.CANCEL, "", [])
    await shown.answer(
        t("cancel-queued", ticket=ticket_label(t, ticket)), reply_markup=menu.main_menu(t)
    )


async def reply(
    message: Message, t: Texts, ctx: GatewayContext, user: GatewayUser, bot: Bot
) -> None:
    """A Telegram reply to a bot message about a ticket: a comment on that ticket."""
    reference = referenced(message)
    ticket = (
        await conversation.ticket_by_reference(ctx, reference, user.telegram_user_id)
        if reference
        else None
    )
    if ticket is None:
        await message.answer(t("conversation-reply-no-ticket"), reply_markup=menu.main_menu(t))
        return
    await _deliver(message, t, ctx, user, ticket, bot)


def router() -> Router:
    r = Router(name="conversation")
    r.message.middleware(RequireAuthorized())
    r.callback_query.middleware(RequireAuthorized())
    r.callback_query.register(
        start_comment, ConversationCb.filter(F.action == ConversationAction.COMMENT)
    )
    r.callback_query.register(
        abandon, ConversationCb.filter(F.action == ConversationAction.ABANDON)
    )
    r.message.register(comment, Conversation.comment)
    r.callback_query.register(solved, ConversationCb.filter(F.action == ConversationAction.SOLVED))
    r.callback_query.register(
        not_solved, ConversationCb.filter(F.action == ConversationAction.REOPEN)
    )
    r.message.register(reopen_reason, Conversation.reopen)
    r.callback_query.register(
        ask_cancel, ConversationCb.filter(F.action == ConversationAction.CANCEL)
    )
    r.callback_query.register(
        cancel, ConversationCb.filter(F.action == ConversationAction.CANCEL_CONFIRM)
    )
    r.message.register(reply, StateFilter(None), F.reply_to_message)
    return r


async def _owned_ticket(
    query: CallbackQuery,
    callback_data: ConversationCb,
    t: Texts,
    ctx: GatewayContext,
    user: GatewayUser,
) -> tuple[TicketRecord, Message] | None:
    """The presser's own ticket the button names and the message it sits on; otherwise the
    press is answered as a stale button and None is returned."""
    ticket = await ctx.tickets.of_user(callback_data.ticket, user.telegram_user_id)
    if ticket is None or not isinstance(query.message, Message):
        await query.answer(t("button-stale"))
        return None
    return ticket, query.message


async def _cancellable(query: CallbackQuery, t: Texts, ticket: TicketRecord) -> bool:
    """Whether the ticket can still be withdrawn; if not, the press is answered with why."""
    if ticket.cancellable:
        return True
    await query.answer(t("cancel-not-possible", ticket=ticket_label(t, ticket)), show_alert=True)
    return False
