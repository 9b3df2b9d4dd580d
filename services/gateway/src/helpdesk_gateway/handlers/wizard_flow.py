"""The new-ticket wizard's moves (ask a step, show the preview, go on, cancel), shared by the
wizard's handlers. The draft lives in the FSM data; every button carries its draft id."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.drafts import Step, TicketDraft
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu, wizard
from helpdesk_gateway.states import NewTicket
from helpdesk_gateway.ticket_wizard import TicketWizard
from helpdesk_gateway.views import preview_text

STEP_STATE: dict[Step, State] = {
    Step.CATEGORY: NewTicket.category,
    Step.DESCRIPTION: NewTicket.description,
    Step.LOCATION: NewTicket.location,
    Step.PHOTOS: NewTicket.photos,
}
NEXT_STEP: dict[Step, Step] = {
    Step.CATEGORY: Step.DESCRIPTION,
    Step.DESCRIPTION: Step.LOCATION,
    Step.LOCATION: Step.PHOTOS,
}
WIZARD_STATES = frozenset(s.state for s in NewTicket.__states__)
PROMPT_KEY = "prompt_message_id"
"""FSM data: the wizard's latest question, whose buttons go when the next one is asked."""
_closed: ContextVar[tuple[int, int] | None] = ContextVar("wizard_buttons_closed", default=None)


def buttons_closed(chat_id: int, message_id: int) -> None:
    """The handler took the buttons off the pressed message: when it was the latest question,
    retiring it asks Telegram for nothing (which would refuse: not modified)."""
    _closed.set((chat_id, message_id))


async def load_draft(state: FSMContext) -> TicketDraft | None:
    raw = (await state.get_data()).get("draft")
    return TicketDraft.model_validate(raw) if raw else None


async def save_draft(state: FSMContext, draft: TicketDraft) -> None:
    await state.update_data(draft=draft.model_dump(mode="json"))


async def draft_for(
    state: FSMContext, draft_id: str, states: Collection[State] = ()
) -> TicketDraft | None:
    """The current draft if a button belongs to it (and the wizard is at one of `states`)."""
    draft = await load_draft(state)
    if draft is None or draft.draft_id != draft_id:
        return None
    if states and await state.get_state() not in {s.state for s in states}:
        return None
    return draft


@dataclass
class Wizard:
    """The wizard as the employee sees it: its questions and preview in one chat."""

    bot: Bot
    chat_id: int
    state: FSMContext
    t: Texts
    use: TicketWizard
    user: GatewayUser

    async def start(self) -> None:
        draft = self.use.new_draft()
        await self.state.set_state(NewTicket.category)
        await self.state.set_data({"draft": draft.model_dump(mode="json")})
        await self.prompt(Step.CATEGORY, draft)

    async def prompt(self, step: Step, draft: TicketDraft) -> None:
        """Ask for a step (and remember that the wizard is there)."""
        t, limits = self.t, self.use.limits
        await self.state.set_state(STEP_STATE[step])
        await save_draft(self.state, draft)
        if step == Step.CATEGORY:
            roots = self.use.catalogue.current.children(None)
            sent = await self.bot.send_message(
                self.chat_id,
                t("wizard-choose-category"),
                reply_markup=wizard.categories(t, draft.draft_id, roots, back=False),
            )
        elif step == Step.DESCRIPTION:
            sent = await self.bot.send_message(
                self.chat_id,
                t("wizard-ask-description", max=limits.description_max),
                reply_markup=wizard.cancel_only(t, draft.draft_id),
            )
        elif step == Step.LOCATION:
            last = self.user.last_location
            sent = await self.bot.send_message(
                self.chat_id,
                t("wizard-ask-location-last") if last else t("wizard-ask-location"),
                reply_markup=wizard.location(t, draft.draft_id, last),
            )
        else:
            sent = await self.bot.send_message(
                self.chat_id,
                t("wizard-ask-photos", max=limits.max_photos, count=len(draft.photos)),
                reply_markup=wizard.photos(t, draft.draft_id, len(draft.photos)),
            )
        await self._retire_prompt(sent)

    async def preview(self, draft: TicketDraft) -> None:
        draft.editing = False
        await self.state.set_state(NewTicket.preview)
        await save_draft(self.state, draft)
        sent = await self.bot.send_message(
            self.chat_id,
            preview_text(self.t, draft, self.use.catalogue.current),
            reply_markup=wizard.preview(self.t, draft.draft_id),
        )
        await self._retire_prompt(sent)

    async def _retire_prompt(self, current: Message | None) -> None:
        """Take the buttons off the previous question: its step is over (for real Telegram
        too, where old buttons stay pressable)."""
        previous = (await self.state.get_data()).get(PROMPT_KEY)
        if current is not None:
            await self.state.update_data({PROMPT_KEY: current.message_id})
        if (
            isinstance(previous, int)
            and (self.chat_id, previous) != _closed.get()
            and (current is None or previous != current.message_id)
        ):
            # Already without buttons (edited by its own handler) or deleted: nothing to do.
            with suppress(TelegramBadRequest):
                await self.bot.edit_message_reply_markup(chat_id=self.chat_id, message_id=previous)

    async def advance(self, draft: TicketDraft, done: Step) -> None:
        """After a step: the next one, or back to the preview when editing from it."""
        if draft.editing or done not in NEXT_STEP:
            await self.preview(draft)
        else:
            await self.prompt(NEXT_STEP[done], draft)

    async def resume(self, draft: TicketDraft) -> None:
        """Ask again whatever the wizard is waiting for."""
        current = await self.state.get_state()
        for step, step_state in STEP_STATE.items():
            if current == step_state.state:
                await self.prompt(step, draft)
                return
        await self.preview(draft)

    async def cancel(self, draft: TicketDraft | None) -> None:
        await self.use.drop(draft)
        await self._retire_prompt(None)
        await self.state.clear()
        await self.bot.send_message(
            self.chat_id, self.t("wizard-cancelled"), reply_markup=menu.main_menu(self.t)
        )
