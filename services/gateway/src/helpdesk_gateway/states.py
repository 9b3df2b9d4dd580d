"""FSM states of the conversation, stored in MongoDB: a restart keeps every flow where it was."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class SignIn(StatesGroup):
    email = State()
    code = State()


class NewTicket(StatesGroup):
    category = State()
    description = State()
    location = State()
    photos = State()
    preview = State()
    edit_menu = State()


class Rating(StatesGroup):
    comment = State()


class Conversation(StatesGroup):
    comment = State()  # the employee writes a comment on a filed ticket
    reopen = State()  # ... says what is still wrong with a resolved one
