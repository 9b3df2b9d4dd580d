"""Rating a resolved ticket: 1-5 stars, then an optional comment; TicketRated goes out once.

The stars' buttons name the ticket; `OwnedTicket` lets only the author's own through."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from helpdesk_contracts.ticket.v1 import MAX_COMMENT_LENGTH

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.bot.middlewares import RequireAuthorized
from helpdesk_gateway.callbacks import RatingCb, RatingCommentCb
from helpdesk_gateway.domain.drafts import RatingData
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.handlers.filters import OwnedTicket
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.keyboards.conversation import with_reopen
from helpdesk_gateway.keyboards.tickets import no_comment
from helpdesk_gateway.ratings import Ratings
from helpdesk_gateway.states import Rating
from helpdesk_gateway.views import stars_text

LOW_RATING = 2
"""At most this many stars: the comment question also offers «Нет, не решена»."""


async def pending_rating(state: FSMContext) -> RatingData | None:
    """The rating whose comment the employee was asked for, if that is where they are."""
    if await state.get_state() != Rating.comment.state:
        return None
    raw = (await state.get_data()).get("rating")
    return RatingData.model_validate(raw) if raw else None


async def rate(
    query: CallbackQuery,
    callback_data: RatingCb,
    ticket: TicketRecord,
    state: FSMContext,
    t: Texts,
    ratings: Ratings,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """A star button: the rating is kept (once) and a comment is offered."""
    refusal = await ratings.rate(ticket, user.telegram_user_id, callback_data.stars)
    if refusal is not None:
        await query.answer(t(refusal), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            (query.message.text or "")
            + "\n\n"
            + t("rating-chosen", stars=stars_text(callback_data.stars)),
            reply_markup=None,
        )
    previous = await pending_rating(state)
    current = await state.get_state()
    if previous is not None:
        await ratings.finish(previous.ticket_id, None)
    elif current is not None:
        # In the middle of something else (a draft): no comment question, nothing clobbered.
        await ratings.finish(ticket.id, None)
        await bot.send_message(query.from_user.id, t("rating-thanks"))
        return
    await state.set_state(Rating.comment)
    await state.update_data(rating=RatingData(ticket_id=ticket.id).model_dump())
    prompt = await bot.send_message(
        query.from_user.id,
        t("rating-ask-comment"),
        reply_markup=_comment_buttons(t, ticket, callback_data.stars),
    )
    pending = RatingData(ticket_id=ticket.id, prompt_message_id=prompt.message_id)
    await state.update_data(rating=pending.model_dump())


def _comment_buttons(t: Texts, ticket: TicketRecord, stars: int) -> InlineKeyboardMarkup:
    markup = no_comment(t, ticket.id)
    # «Нет, не решена» only while it can work: the ticket still awaits the confirmation.
    if stars <= LOW_RATING and ticket.awaiting_confirmation:
        markup = with_reopen(t, markup, ticket.id)
    return markup


async def comment(
    message: Message, state: FSMContext, t: Texts, ratings: Ratings, bot: Bot
) -> None:
    """The optional comment: TicketRated is queued with it."""
    pending = await pending_rating(state)
    text = (message.text or "").strip()
    if pending is None:
        await state.clear()
        return
    if len(text) > MAX_COMMENT_LENGTH:
        await message.answer(t("rating-comment-too-long", max=MAX_COMMENT_LENGTH))
        return
    await ratings.finish(pending.ticket_id, text or None)
    await state.clear()
    await message.answer(t("rating-thanks"), reply_markup=menu.main_menu(t))
    if pending.prompt_message_id is not None:
        # The question is answered: its "No comment" button goes, as the step is over.
        with suppress(TelegramBadRequest):
            await bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=pending.prompt_message_id
            )


async def comment_not_text(message: Message, t: Texts) -> None:
    """A sticker or photo where the comment is expected."""
    await message.answer(t("rating-comment-text-only"))


async def skip_comment(
    query: CallbackQuery, ticket: TicketRecord, state: FSMContext, t: Texts, ratings: Ratings
) -> None:
    """'No comment': TicketRated is queued without one."""
    if ticket.rating.value is None:
        await query.answer(t("button-stale"))
        return
    published = await ratings.finish(ticket.id, None)
    pending = await pending_rating(state)
    if pending is not None and pending.ticket_id == ticket.id:
        await state.clear()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=None)
    if not published:
        # The rating went out already (a comment was typed): an old button repeats nothing.
        await query.answer(t("button-stale"))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("rating-thanks"), reply_markup=menu.main_menu(t))


def router() -> Router:
    r = Router(name="rating")
    r.message.middleware(RequireAuthorized())
    r.callback_query.middleware(RequireAuthorized())
    r.callback_query.register(
        rate, RatingCb.filter(F.stars.in_(range(1, 6))), OwnedTicket(editable=False)
    )
    r.message.register(comment, Rating.comment, F.text)
    r.message.register(comment_not_text, Rating.comment)
    r.callback_query.register(skip_comment, RatingCommentCb.filter(), OwnedTicket(editable=False))
    return r
