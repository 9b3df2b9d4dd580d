"""The new-ticket wizard: category, description, location, (photos: photos.py), preview, Send."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from helpdesk_gateway import ratings
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.bot.middlewares import DraftExpiry, RequireAuthorized
from helpdesk_gateway.callbacks import WizardAction, WizardCb
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.drafts import RatingData, Step, TicketDraft
from helpdesk_gateway.handlers.filters import CurrentDraft
from helpdesk_gateway.handlers.wizard_flow import (
    WIZARD_STATES,
    Wizard,
    buttons_closed,
    draft_for,
    load_draft,
    save_draft,
)
from helpdesk_gateway.i18n import I18n, Texts
from helpdesk_gateway.keyboards import menu, wizard
from helpdesk_gateway.states import NewTicket, Rating
from helpdesk_gateway.submission import CategoryGoneError, submit_ticket

log = logging.getLogger("helpdesk.gateway.wizard")


def _wizard(
    bot: Bot, chat_id: int, state: FSMContext, t: Texts, ctx: GatewayContext, user: GatewayUser
) -> Wizard:
    return Wizard(bot=bot, chat_id=chat_id, state=state, t=t, ctx=ctx, user=user)


async def _stale(query: CallbackQuery, t: Texts) -> None:
    await query.answer(t("button-stale"))


async def _close_buttons(query: CallbackQuery, text: str | None = None) -> None:
    """Leave the pressed message in the history without its (now used) buttons."""
    message = query.message
    if isinstance(message, Message):
        if text is not None:
            await message.edit_text(text, reply_markup=None)
        elif message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        buttons_closed(message.chat.id, message.message_id)


def router(i18n: I18n) -> Router:
    r = Router(name="new_ticket")
    r.message.middleware(RequireAuthorized())
    r.callback_query.middleware(RequireAuthorized())
    r.message.middleware(DraftExpiry())
    r.callback_query.middleware(DraftExpiry())

    @r.message(Command("new"))
    @r.message(F.text.in_(i18n.variants("menu-new-ticket")))
    async def new_ticket(
        message: Message,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """'New ticket' (button or /new): starts the wizard, or offers the unfinished draft."""
        current = await state.get_state()
        if current in WIZARD_STATES:
            draft = await load_draft(state)
            if draft is not None:
                await message.answer(
                    t("wizard-in-progress"), reply_markup=wizard.resume(t, draft.draft_id)
                )
                return
        if current == Rating.comment.state:
            pending = RatingData.model_validate((await state.get_data()).get("rating") or {})
            await ratings.finish(ctx, pending.ticket_id, None)
        await _wizard(bot, message.chat.id, state, t, ctx, user).start()

    @r.callback_query(
        WizardCb.filter(F.action.in_({WizardAction.CONTINUE, WizardAction.RESTART})),
        CurrentDraft(editable=False),
    )
    async def continue_or_restart(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """'Continue' / 'Start over' under the unfinished-draft question."""
        await query.answer()
        await _close_buttons(query)
        flow = _wizard(bot, query.from_user.id, state, t, ctx, user)
        if callback_data.action == WizardAction.CONTINUE:
            await flow.resume(draft)
        else:
            await ctx.attachments.discard(draft.photo_ids())
            await flow.start()

    @r.callback_query(
        WizardCb.filter(F.action == WizardAction.CATEGORY), CurrentDraft(NewTicket.category)
    )
    async def category(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        pressed: Message,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """A category button: shows its sub-categories, or takes it and asks for the description."""
        catalogue = ctx.catalogue.current
        entry = catalogue.get(callback_data.value)
        if entry is None:
            await query.answer()
            await pressed.edit_text(
                t("wizard-category-gone"),
                reply_markup=wizard.categories(
                    t, draft.draft_id, catalogue.children(None), back=False
                ),
            )
            return
        await query.answer()
        if not entry.is_leaf:
            await pressed.edit_text(
                t("wizard-choose-subcategory", category=entry.title(t.locale)),
                reply_markup=wizard.categories(
                    t, draft.draft_id, catalogue.children(entry.code), back=True
                ),
            )
            return
        draft.category = entry.code
        await _close_buttons(
            query, t("wizard-category-chosen", category=catalogue.path_title(entry.code, t.locale))
        )
        await _wizard(bot, query.from_user.id, state, t, ctx, user).advance(draft, Step.CATEGORY)

    @r.callback_query(
        WizardCb.filter(F.action == WizardAction.BACK), CurrentDraft(NewTicket.category)
    )
    async def back(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        pressed: Message,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
    ) -> None:
        """'Back' under sub-categories: the top level again."""
        await query.answer()
        await pressed.edit_text(
            t("wizard-choose-category"),
            reply_markup=wizard.categories(
                t, draft.draft_id, ctx.catalogue.current.children(None), back=False
            ),
        )

    @r.message(NewTicket.description, F.text)
    async def description(
        message: Message,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """Text at the description step: checked for length, then the location is asked."""
        draft = await load_draft(state)
        if draft is None:
            await state.clear()
            return
        problem = description_problem(t, ctx, message.text or "")
        if problem is not None:
            await message.answer(problem)
            return
        draft.description = (message.text or "").strip()
        await _wizard(bot, message.chat.id, state, t, ctx, user).advance(draft, Step.DESCRIPTION)

    @r.message(NewTicket.location, F.text)
    async def location(
        message: Message,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """Text at the location step: the room or place, then photos are asked."""
        draft = await load_draft(state)
        if draft is None:
            await state.clear()
            return
        text = " ".join((message.text or "").split())
        if len(text) > ctx.settings.location_max_length:
            await message.answer(
                t("wizard-location-too-long", max=ctx.settings.location_max_length)
            )
            return
        if not text:
            await message.answer(t("wizard-location-text-only"))
            return
        draft.location = text
        await _wizard(bot, message.chat.id, state, t, ctx, user).advance(draft, Step.LOCATION)

    @r.callback_query(
        WizardCb.filter(
            F.action.in_(
                {
                    WizardAction.LAST_LOCATION,
                    WizardAction.SKIP_LOCATION,
                    WizardAction.FORGET_LOCATION,
                }
            )
        ),
        CurrentDraft(NewTicket.location),
    )
    async def location_button(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        pressed: Message,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """The last place, 'Skip', or 'Forget the saved place' at the location step."""
        await query.answer()
        if callback_data.action == WizardAction.FORGET_LOCATION:
            await ctx.users.clear_location(user.telegram_user_id)
            await pressed.edit_text(
                t("wizard-location-forgotten"),
                reply_markup=wizard.location(t, draft.draft_id, None),
            )
            return
        if callback_data.action == WizardAction.LAST_LOCATION:
            if not user.last_location:
                await pressed.edit_text(
                    t("wizard-ask-location"), reply_markup=wizard.location(t, draft.draft_id, None)
                )
                return
            draft.location = user.last_location
            await _close_buttons(query, t("wizard-location-chosen", location=draft.location))
        else:
            draft.location = None
            await _close_buttons(query, t("wizard-location-skipped"))
        await _wizard(bot, query.from_user.id, state, t, ctx, user).advance(draft, Step.LOCATION)

    @r.callback_query(
        WizardCb.filter(F.action == WizardAction.PHOTOS_DONE),
        CurrentDraft(NewTicket.photos, editable=False),
    )
    async def photos_done(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """'Done' / 'No photos': the preview."""
        await query.answer()
        await _close_buttons(query)
        await _wizard(bot, query.from_user.id, state, t, ctx, user).advance(draft, Step.PHOTOS)

    @r.callback_query(
        WizardCb.filter(F.action == WizardAction.CLEAR_PHOTOS), CurrentDraft(NewTicket.photos)
    )
    async def clear_photos(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        pressed: Message,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
    ) -> None:
        """'Remove all photos' at the photo step."""
        await ctx.attachments.discard(draft.photo_ids())
        draft.photos = []
        await save_draft(state, draft)
        await query.answer()
        await pressed.edit_text(
            t("wizard-photos-cleared", max=ctx.settings.max_photos),
            reply_markup=wizard.photos(t, draft.draft_id, 0),
        )

    @r.callback_query(WizardCb.filter(F.action == WizardAction.SEND))
    async def send(
        query: CallbackQuery,
        callback_data: WizardCb,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """'Send' under the preview: stores the ticket (once per draft) and confirms it."""
        draft = await draft_for(state, callback_data.draft, [NewTicket.preview])
        if draft is None:
            sent = await ctx.tickets.by_draft(callback_data.draft)
            if sent is not None and sent.user_id == user.telegram_user_id:
                await query.answer(t("ticket-already-submitted", reference=sent.reference))
            else:
                await _stale(query, t)
            return
        flow = _wizard(bot, query.from_user.id, state, t, ctx, user)
        if draft.category is None or draft.description is None:
            await query.answer()
            await flow.prompt(Step.CATEGORY if draft.category is None else Step.DESCRIPTION, draft)
            return
        try:
            ticket, created = await submit_ticket(ctx, user, draft, t.locale)
        except CategoryGoneError:
            await query.answer()
            await _close_buttons(query)
            await bot.send_message(query.from_user.id, t("wizard-category-gone-send"))
            draft.category = None
            draft.editing = True
            await flow.prompt(Step.CATEGORY, draft)
            return
        await query.answer()
        log.info(
            "ticket submitted",
            extra={"reference": ticket.reference, "new": created, "photos": len(draft.photos)},
        )
        try:
            # The confirmation takes the first place in this chat's pacing queue, before the
            # relay is woken, so "emailed" cannot arrive ahead of "submitted".
            await bot.send_message(
                query.from_user.id,
                t("ticket-submitted", reference=ticket.reference),
                reply_markup=menu.main_menu(t),
            )
        finally:
            ctx.relay.notify()  # the ticket is stored either way; its event must go out
        # The draft goes only once the employee was told: a press redelivered after a crash
        # finds it, gets the same ticket back (one per draft) and confirms it.
        await state.clear()
        await _close_buttons(query)

    @r.callback_query(
        WizardCb.filter(F.action == WizardAction.EDIT), CurrentDraft(NewTicket.preview)
    )
    async def edit(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        pressed: Message,
        state: FSMContext,
        t: Texts,
    ) -> None:
        """'Edit' under the preview: which part to change."""
        await state.set_state(NewTicket.edit_menu)
        await query.answer()
        await pressed.edit_reply_markup(reply_markup=wizard.edit_menu(t, draft.draft_id))

    @r.callback_query(
        WizardCb.filter(F.action == WizardAction.PREVIEW), CurrentDraft(NewTicket.edit_menu)
    )
    async def back_to_preview(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        pressed: Message,
        state: FSMContext,
        t: Texts,
    ) -> None:
        """'Back to the ticket' in the edit menu."""
        await state.set_state(NewTicket.preview)
        await query.answer()
        await pressed.edit_reply_markup(reply_markup=wizard.preview(t, draft.draft_id))

    @r.callback_query(WizardCb.filter(F.action == WizardAction.EDIT_STEP))
    async def edit_step(
        query: CallbackQuery,
        callback_data: WizardCb,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """A part to change: that step is asked again, then the preview returns."""
        draft = await draft_for(state, callback_data.draft, [NewTicket.edit_menu])
        if draft is None or callback_data.value not in {s.value for s in Step}:
            await _stale(query, t)
            return
        await query.answer()
        await _close_buttons(query)
        draft.editing = True
        await _wizard(bot, query.from_user.id, state, t, ctx, user).prompt(
            Step(callback_data.value), draft
        )

    @r.callback_query(
        WizardCb.filter(F.action == WizardAction.CANCEL), CurrentDraft(editable=False)
    )
    async def cancel(
        query: CallbackQuery,
        callback_data: WizardCb,
        draft: TicketDraft,
        state: FSMContext,
        t: Texts,
        ctx: GatewayContext,
        user: GatewayUser,
        bot: Bot,
    ) -> None:
        """'Cancel' anywhere in the wizard: the draft and its photos are dropped."""
        await query.answer()
        await _close_buttons(query)
        await _wizard(bot, query.from_user.id, state, t, ctx, user).cancel(draft)

    @r.message(StateFilter(NewTicket.description), ~F.photo, ~F.document)
    async def description_not_text(message: Message, t: Texts) -> None:
        """A sticker, voice note, ... at the description step."""
        await message.answer(t("wizard-description-text-only"))

    @r.message(StateFilter(NewTicket.location))
    async def location_not_text(message: Message, t: Texts) -> None:
        """Anything but text at the location step."""
        await message.answer(t("wizard-location-text-only"))

    @r.message(StateFilter(NewTicket.category, NewTicket.preview, NewTicket.edit_menu))
    async def use_buttons(message: Message, t: Texts) -> None:
        """Typing where the wizard waits for a button."""
        await message.answer(t("wizard-use-buttons"))

    return r


def description_problem(t: Texts, ctx: GatewayContext, text: str) -> str | None:
    """Why a description cannot be taken, in the user's words; None when it can."""
    settings = ctx.settings
    length = len(text.strip())
    if length > settings.description_max_length:
        return t("wizard-description-too-long", length=length, max=settings.description_max_length)
    if length < settings.description_min_length:
        return t("wizard-description-too-short", min=settings.description_min_length)
    return None
