"""The new-ticket wizard: category, description, location, (photos: photos.py), preview, Send.

The use case (`wizard`, a TicketWizard from the dispatcher's workflow data) keeps the draft's
rules and stores the ticket; these handlers ask, answer and move the wizard along."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.bot.middlewares import DraftExpiry, RequireAuthorized
from helpdesk_gateway.callbacks import WizardAction, WizardCb
from helpdesk_gateway.domain.drafts import Problem, Step, TicketDraft
from helpdesk_gateway.handlers.filters import CurrentDraft, Label
from helpdesk_gateway.handlers.rating import pending_rating
from helpdesk_gateway.handlers.wizard_flow import (
    WIZARD_STATES,
    Wizard,
    buttons_closed,
    draft_for,
    load_draft,
    save_draft,
)
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.keyboards import wizard as buttons
from helpdesk_gateway.ratings import Ratings
from helpdesk_gateway.states import NewTicket
from helpdesk_gateway.ticket_wizard import CategoryGoneError, TicketWizard

log = logging.getLogger("helpdesk.gateway.wizard")


def flow(
    bot: Bot, chat_id: int, state: FSMContext, t: Texts, wizard: TicketWizard, user: GatewayUser
) -> Wizard:
    return Wizard(bot=bot, chat_id=chat_id, state=state, t=t, use=wizard, user=user)


def problem_text(t: Texts, problem: Problem) -> str:
    return t(problem.key, **problem.values)


async def _close_buttons(query: CallbackQuery, text: str | None = None) -> None:
    """Leave the pressed message in the history without its (now used) buttons."""
    message = query.message
    if isinstance(message, Message):
        if text is not None:
            await message.edit_text(text, reply_markup=None)
        elif message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        buttons_closed(message.chat.id, message.message_id)


async def new_ticket(
    message: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    ratings: Ratings,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """'New ticket' (button or /new): starts the wizard, or offers the unfinished draft."""
    current = await state.get_state()
    if current in WIZARD_STATES:
        draft = await load_draft(state)
        if draft is not None:
            await message.answer(
                t("wizard-in-progress"), reply_markup=buttons.resume(t, draft.draft_id)
            )
            return
    pending = await pending_rating(state)
    if pending is not None:
        await ratings.finish(pending.ticket_id, None)
    await flow(bot, message.chat.id, state, t, wizard, user).start()


async def continue_or_restart(
    query: CallbackQuery,
    callback_data: WizardCb,
    draft: TicketDraft,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """'Continue' / 'Start over' under the unfinished-draft question."""
    await query.answer()
    await _close_buttons(query)
    moves = flow(bot, query.from_user.id, state, t, wizard, user)
    if callback_data.action == WizardAction.CONTINUE:
        await moves.resume(draft)
    else:
        await wizard.drop(draft)
        await moves.start()


async def category(
    query: CallbackQuery,
    callback_data: WizardCb,
    draft: TicketDraft,
    pressed: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """A category button: shows its sub-categories, or takes it and asks for the description."""
    catalogue = wizard.catalogue.current
    entry = catalogue.get(callback_data.value)
    await query.answer()
    if entry is None:
        await pressed.edit_text(
            t("wizard-category-gone"),
            reply_markup=buttons.categories(
                t, draft.draft_id, catalogue.children(None), back=False
            ),
        )
        return
    if not entry.is_leaf:
        await pressed.edit_text(
            t("wizard-choose-subcategory", category=entry.title(t.locale)),
            reply_markup=buttons.categories(
                t, draft.draft_id, catalogue.children(entry.code), back=True
            ),
        )
        return
    draft.category = entry.code
    await _close_buttons(
        query, t("wizard-category-chosen", category=catalogue.path_title(entry.code, t.locale))
    )
    await flow(bot, query.from_user.id, state, t, wizard, user).advance(draft, Step.CATEGORY)


async def back(
    query: CallbackQuery, draft: TicketDraft, pressed: Message, t: Texts, wizard: TicketWizard
) -> None:
    """'Back' under sub-categories: the top level again."""
    await query.answer()
    await pressed.edit_text(
        t("wizard-choose-category"),
        reply_markup=buttons.categories(
            t, draft.draft_id, wizard.catalogue.current.children(None), back=False
        ),
    )


async def description(
    message: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """Text at the description step: checked for length, then the location is asked."""
    await _typed_step(message, state, t, wizard, user, bot, wizard.describe, Step.DESCRIPTION)


async def location(
    message: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """Text at the location step: the room or place, then photos are asked."""
    await _typed_step(message, state, t, wizard, user, bot, wizard.locate, Step.LOCATION)


async def _typed_step(
    message: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
    take: Callable[[TicketDraft, str], Problem | None],
    step: Step,
) -> None:
    """The text a step asked for: taken into the draft unless a limit says no (then the
    employee is told why and stays at the step), and the wizard moves on."""
    draft = await load_draft(state)
    if draft is None:
        await state.clear()
        return
    problem = take(draft, message.text or "")
    if problem is not None:
        await message.answer(problem_text(t, problem))
        return
    await flow(bot, message.chat.id, state, t, wizard, user).advance(draft, step)


async def location_button(
    query: CallbackQuery,
    callback_data: WizardCb,
    draft: TicketDraft,
    pressed: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """The last place, 'Skip', or 'Forget the saved place' at the location step."""
    await query.answer()
    if callback_data.action == WizardAction.FORGET_LOCATION:
        await wizard.forget_place(user.telegram_user_id)
        await pressed.edit_text(
            t("wizard-location-forgotten"),
            reply_markup=buttons.location(t, draft.draft_id, None),
        )
        return
    if callback_data.action == WizardAction.LAST_LOCATION:
        if not user.last_location:
            await pressed.edit_text(
                t("wizard-ask-location"), reply_markup=buttons.location(t, draft.draft_id, None)
            )
            return
        draft.location = user.last_location
        await _close_buttons(query, t("wizard-location-chosen", location=draft.location))
    else:
        draft.location = None
        await _close_buttons(query, t("wizard-location-skipped"))
    await flow(bot, query.from_user.id, state, t, wizard, user).advance(draft, Step.LOCATION)


async def photos_done(
    query: CallbackQuery,
    draft: TicketDraft,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """'Done' / 'No photos': the preview."""
    await query.answer()
    await _close_buttons(query)
    await flow(bot, query.from_user.id, state, t, wizard, user).advance(draft, Step.PHOTOS)


async def clear_photos(
    query: CallbackQuery,
    draft: TicketDraft,
    pressed: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
) -> None:
    """'Remove all photos' at the photo step."""
    await wizard.clear_photos(draft)
    await save_draft(state, draft)
    await query.answer()
    await pressed.edit_text(
        t("wizard-photos-cleared", max=wizard.limits.max_photos),
        reply_markup=buttons.photos(t, draft.draft_id, 0),
    )


async def send(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """'Send' under the preview: stores the ticket (once per draft) and confirms it."""
    draft = await draft_for(state, callback_data.draft, [NewTicket.preview])
    if draft is None:
        sent = await wizard.sent_before(callback_data.draft, user.telegram_user_id)
        if sent is not None:
            await query.answer(t("ticket-already-submitted", reference=sent.reference))
        else:
            await query.answer(t("button-stale"))
        return
    moves = flow(bot, query.from_user.id, state, t, wizard, user)
    if draft.category is None or draft.description is None:
        await query.answer()
        await moves.prompt(Step.CATEGORY if draft.category is None else Step.DESCRIPTION, draft)
        return
    try:
        ticket, created = await wizard.submit(user, draft, t.locale)
    except CategoryGoneError:
        await query.answer()
        await _close_buttons(query)
        await bot.send_message(query.from_user.id, t("wizard-category-gone-send"))
        draft.category = None
        draft.editing = True
        await moves.prompt(Step.CATEGORY, draft)
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
        wizard.announce()  # the ticket is stored either way; its event must go out
    # The draft goes only once the employee was told: a press redelivered after a crash
    # finds it, gets the same ticket back (one per draft) and confirms it.
    await state.clear()
    await _close_buttons(query)


async def edit(
    query: CallbackQuery, draft: TicketDraft, pressed: Message, state: FSMContext, t: Texts
) -> None:
    """'Edit' under the preview: which part to change."""
    await state.set_state(NewTicket.edit_menu)
    await query.answer()
    await pressed.edit_reply_markup(reply_markup=buttons.edit_menu(t, draft.draft_id))


async def back_to_preview(
    query: CallbackQuery, draft: TicketDraft, pressed: Message, state: FSMContext, t: Texts
) -> None:
    """'Back to the ticket' in the edit menu."""
    await state.set_state(NewTicket.preview)
    await query.answer()
    await pressed.edit_reply_markup(reply_markup=buttons.preview(t, draft.draft_id))


async def edit_step(
    query: CallbackQuery,
    callback_data: WizardCb,
    draft: TicketDraft,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """A part to change: that step is asked again, then the preview returns."""
    await query.answer()
    await _close_buttons(query)
    draft.editing = True
    await flow(bot, query.from_user.id, state, t, wizard, user).prompt(
        Step(callback_data.value), draft
    )


async def cancel(
    query: CallbackQuery,
    draft: TicketDraft,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    user: GatewayUser,
    bot: Bot,
) -> None:
    """'Cancel' anywhere in the wizard: the draft and its photos are dropped."""
    await query.answer()
    await _close_buttons(query)
    await flow(bot, query.from_user.id, state, t, wizard, user).cancel(draft)


async def description_not_text(message: Message, t: Texts) -> None:
    """A sticker, voice note, ... at the description step."""
    await message.answer(t("wizard-description-text-only"))


async def location_not_text(message: Message, t: Texts) -> None:
    """Anything but text at the location step."""
    await message.answer(t("wizard-location-text-only"))


async def use_buttons(message: Message, t: Texts) -> None:
    """Typing where the wizard waits for a button."""
    await message.answer(t("wizard-use-buttons"))


def _pressed(*actions: WizardAction) -> CallbackQueryFilter:
    return WizardCb.filter(F.action.in_(set(actions)))


def router() -> Router:
    r = Router(name="new_ticket")
    for observer in (r.message, r.callback_query):
        observer.middleware(RequireAuthorized())
        observer.middleware(DraftExpiry())
    button = r.callback_query.register
    r.message.register(new_ticket, Command("new"))
    r.message.register(new_ticket, Label("menu-new-ticket"))
    any_step = CurrentDraft(editable=False)
    button(continue_or_restart, _pressed(WizardAction.CONTINUE, WizardAction.RESTART), any_step)
    button(category, _pressed(WizardAction.CATEGORY), CurrentDraft(NewTicket.category))
    button(back, _pressed(WizardAction.BACK), CurrentDraft(NewTicket.category))
    r.message.register(description, NewTicket.description, F.text)
    r.message.register(location, NewTicket.location, F.text)
    button(
        location_button,
        _pressed(
            WizardAction.LAST_LOCATION, WizardAction.SKIP_LOCATION, WizardAction.FORGET_LOCATION
        ),
        CurrentDraft(NewTicket.location),
    )
    button(
        photos_done,
        _pressed(WizardAction.PHOTOS_DONE),
        CurrentDraft(NewTicket.photos, editable=False),
    )
    button(clear_photos, _pressed(WizardAction.CLEAR_PHOTOS), CurrentDraft(NewTicket.photos))
    button(send, _pressed(WizardAction.SEND))
    button(edit, _pressed(WizardAction.EDIT), CurrentDraft(NewTicket.preview))
    button(back_to_preview, _pressed(WizardAction.PREVIEW), CurrentDraft(NewTicket.edit_menu))
    button(
        edit_step,
        WizardCb.filter(
            (F.action == WizardAction.EDIT_STEP) & F.value.in_({s.value for s in Step})
        ),
        CurrentDraft(NewTicket.edit_menu, editable=False),
    )
    button(cancel, _pressed(WizardAction.CANCEL), any_step)
    r.message.register(
        description_not_text, StateFilter(NewTicket.description), ~F.photo, ~F.document
    )
    r.message.register(location_not_text, StateFilter(NewTicket.location))
    r.message.register(
        use_buttons, StateFilter(NewTicket.category, NewTicket.preview, NewTicket.edit_menu)
    )
    return r
