"""Photos in the wizard: at the photo step, and at the description step (the caption is the
description). Albums arrive as one update and get one reply."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.bot.middlewares import DraftExpiry, RequireAuthorized
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.drafts import Step, TicketDraft
from helpdesk_gateway.handlers.new_ticket import flow, problem_text
from helpdesk_gateway.handlers.wizard_flow import load_draft, save_draft
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import wizard as buttons
from helpdesk_gateway.photo_intake import IntakeResult, PhotoIntake, Progress
from helpdesk_gateway.states import NewTicket
from helpdesk_gateway.ticket_wizard import TicketWizard


def summary(t: Texts, limit: int, result: IntakeResult, draft: TicketDraft) -> list[str]:
    """What happened to the photos just sent, one line per fact."""
    lines = []
    if result.saved:
        lines.append(t("photo-saved", saved=result.saved, count=len(draft.photos), max=limit))
    lines += result.problems
    if result.over_limit:
        lines.append(t("photo-limit", max=limit, skipped=result.over_limit))
    return lines


async def photos(
    message: Message,
    state: FSMContext,
    t: Texts,
    ctx: GatewayContext,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
    album: list[Message] | None = None,
) -> None:
    """A photo, an image file or an album: stored and counted; at the description step a
    caption becomes the description."""
    draft = await load_draft(state)
    if draft is None:
        await state.clear()
        return
    messages = album or [message]
    at_description = await state.get_state() == NewTicket.description.state
    progress = None
    if len(messages) > 1:
        started = await message.answer(t("photo-progress-start", total=len(messages)))
        progress = Progress(started)
    result = await PhotoIntake(ctx).take(bot, messages, draft, t, progress=progress)
    lines = summary(t, wizard.limits.max_photos, result, draft)
    moves = flow(bot, message.chat.id, state, t, wizard, user)
    markup: InlineKeyboardMarkup | None
    if at_description:
        caption = next((m.caption for m in messages if m.caption and m.caption.strip()), None)
        problem = wizard.describe(draft, caption) if caption else None
        if caption and problem is None:
            await _reply(message, progress, lines, None)
            await moves.advance(draft, Step.DESCRIPTION)
            return
        lines.append(problem_text(t, problem) if problem else t("wizard-description-after-photo"))
        markup = buttons.cancel_only(t, draft.draft_id)
    else:
        full = len(draft.photos) >= wizard.limits.max_photos
        lines.append(t("wizard-photos-full") if full else t("wizard-photos-more"))
        markup = buttons.photos(t, draft.draft_id, len(draft.photos))
    await save_draft(state, draft)
    await _reply(message, progress, lines, markup)


async def not_a_photo(message: Message, state: FSMContext, t: Texts) -> None:
    """Text or a sticker at the photo step."""
    draft = await load_draft(state)
    count = len(draft.photos) if draft else 0
    await message.answer(
        t("wizard-photos-hint"),
        reply_markup=buttons.photos(t, draft.draft_id, count) if draft else None,
    )


def router() -> Router:
    r = Router(name="wizard_photos")
    r.message.middleware(RequireAuthorized())
    r.message.middleware(DraftExpiry())
    r.message.register(
        photos, StateFilter(NewTicket.description, NewTicket.photos), F.photo | F.document
    )
    r.message.register(not_a_photo, StateFilter(NewTicket.photos))
    return r


async def _reply(
    message: Message,
    progress: Progress | None,
    lines: list[str],
    markup: InlineKeyboardMarkup | None,
) -> None:
    text = "\n".join(lines)
    if progress is not None:
        await progress.finish(text, markup)
    elif text:
        await message.answer(text, reply_markup=markup)
