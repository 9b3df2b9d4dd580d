"""What the simulated employees do: the helpdesk journey, and the same actions against a floor bot.

The helpdesk journey is the fault tests' scripted employee (tests/e2e/faults/people.py): /start,
the work email, the code from the email, /new, a category, a photo with the description as its
caption, skip the place, Done, Send — nine actions, each timed from the moment it is sent to
the first bot message after it. A floor user does the same nine kinds of action (commands, texts,
a photo, button presses) against a floor bot that answers each with one message. Both press
their last button (Send) all at the same moment (see `Gate`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from helpdesk_harness.employees.chats import ChatWatcher, WideClient
from helpdesk_harness.employees.mail import SpoolIndex
from helpdesk_harness.employees.people import Action, Employee, Filing
from helpdesk_harness.fake_telegram import ChatMessage, User

FLOOR_SCRIPT = ("command", "text", "text", "command", "press", "photo", "press", "press", "press")
"""The helpdesk journey's kinds of action, in its order."""


@dataclass
class Journey:
    employee: Employee
    filing: Filing | None = None
    error: str | None = None
    actions: list[Action] = field(default_factory=list)


class Gate:
    """Holds everyone until all who are still on their way have arrived (or a timeout passed
    since the first did): then all go at once."""

    def __init__(
        self, expected: int, timeout: float, on_open: Callable[[], None] | None = None
    ) -> None:
        self.expected = expected
        self.timeout = timeout
        self.on_open = on_open
        """Called at the moment the gate opens (the benchmark reads CPU times then)."""
        self.arrived = 0
        self.opened_at = 0.0
        """time.monotonic() when the gate opened."""
        self._open = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        self._check()
        try:
            await asyncio.wait_for(self._open.wait(), self.timeout)
        except TimeoutError:
            self._release()

    def drop_out(self) -> None:
        """Someone will never arrive."""
        self.expected -= 1
        self._check()

    def _check(self) -> None:
        if self.arrived >= self.expected:
            self._release()

    def _release(self) -> None:
        if not self._open.is_set():
            self.opened_at = time.monotonic()
            if self.on_open is not None:
                self.on_open()
            self._open.set()


async def helpdesk_journey(
    employee: Employee, spool: SpoolIndex, description: str, gate: Gate
) -> Journey:
    journey = Journey(employee)
    try:
        await employee.sign_in(spool.code_for)
        journey.filing = await employee.file_ticket(description, timeout=600, before_send=gate.wait)
    except (TimeoutError, LookupError) as error:
        journey.error = f"{type(error).__name__}: {error}"
        gate.drop_out()
    journey.actions = list(employee.actions)
    return journey


async def floor_user(
    tg: WideClient,
    watcher: ChatWatcher,
    user: User,
    photo: bytes,
    gate: Gate,
    timeout: float,  # noqa: ASYNC109 - per answer
) -> list[Action]:
    """The nine actions against a floor bot, each waiting for its answer; the last one (Send's
    counterpart) pressed by everyone at once, as the helpdesk's employees press Send."""
    inbox = await watcher.watch(user.id)
    actions: list[Action] = []
    last: ChatMessage | None = None
    for number, kind in enumerate(FLOOR_SCRIPT):
        if number == len(FLOOR_SCRIPT) - 1:
            await gate.wait()
        action = Action(kind, time.monotonic())
        if kind == "command":
            await tg.send_command(user, "start")
        elif kind == "text":
            await tg.send_text(user, f"text {number}")
        elif kind == "photo":
            await tg.send_photo(user, photo, caption="The network is down in my room")
        else:
            assert last is not None, "a press needs a message with a button"
            await tg.press_button(user, last.message_id, "next")
        seen = await asyncio.wait_for(inbox.get(), timeout)
        action.answered = seen.at
        actions.append(action)
        last = seen.message
    return actions
