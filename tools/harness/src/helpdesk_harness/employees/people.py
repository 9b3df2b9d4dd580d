"""Scripted employees for fault runs and the benchmark: they read what the bot says and answer.

An employee does not follow a fixed script: each bot message is recognised (from the gateway's
own locale texts) and answered the way a person would — choose the category, send a photo with
the description as its caption, skip the place, press Done, press Send. So a reply that comes
late, twice, or after a restart of the gateway still leads to a filed ticket. When the bot says
nothing for a long time although it has taken the update, the employee does what a person
would: presses Send again while the button is still there (the answer tells whether the ticket
already went), waits when the button is gone (the press was taken: the gateway handles every
update at least once, so its answer comes), or sends /new, which offers the unfinished draft.
"""

from __future__ import annotations

import asyncio
import re
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from helpdesk_gateway.i18n import I18n, Texts

from helpdesk_harness.employees.chats import ChatWatcher, Seen, WideClient
from helpdesk_harness.fake_telegram import ChatMessage, User

REFERENCE = re.compile(r"\bTG-[0-9A-Z]{6}\b")
CATEGORY = "network"  # a category without sub-categories: one press


class Kind(StrEnum):
    """What a bot message is, as far as a scripted employee cares."""

    WELCOME = "sign-in-welcome"
    CHECKING = "sign-in-checking"
    CODE_SENT = "sign-in-code-sent"
    VERIFYING = "sign-in-verifying"
    SIGNED_IN = "sign-in-done"
    ALREADY_SIGNED_IN = "sign-in-already"
    CHOOSE_CATEGORY = "wizard-choose-category"
    ASK_DESCRIPTION = "wizard-ask-description"
    DESCRIPTION_AFTER_PHOTO = "wizard-description-after-photo"
    PHOTO_SAVED = "photo-saved"
    ASK_LOCATION = "wizard-ask-location"
    ASK_LOCATION_LAST = "wizard-ask-location-last"
    LOCATION_TEXT_ONLY = "wizard-location-text-only"
    ASK_PHOTOS = "wizard-ask-photos"
    PHOTOS_HINT = "wizard-photos-hint"
    PREVIEW = "wizard-preview"
    SUBMITTED = "ticket-submitted"
    UNFINISHED = "wizard-in-progress"
    CANCELLED = "wizard-cancelled"
    USE_BUTTONS = "wizard-use-buttons"
    TRY_AGAIN = "something-went-wrong"
    UNAVAILABLE = "service-unavailable"
    MENU_HINT = "menu-hint"
    EMAILED = "notify-emailed"
    EMAIL_RETRYING = "notify-email-retrying"
    EMAIL_FAILED = "notify-email-failed"
    REGISTERED = "notify-status-registered"
    IN_PROGRESS = "notify-status-in-progress"
    RESOLVED = "notify-status-resolved"
    OTHER = ""


class BotTexts:
    """The gateway's texts in one locale, and recognising a message by the text it was made of."""

    def __init__(self, locale: str = "en") -> None:
        self.t: Texts = I18n.load().texts("en" if locale == "en" else "ru")
        self._patterns = [
            (kind, self._pattern(kind.value)) for kind in Kind if kind is not Kind.OTHER
        ]

    def __call__(self, key: str, **fields: object) -> str:
        return self.t(key, **fields)

    def _pattern(self, key: str) -> re.Pattern[str]:
        # The template itself (t(key) without fields) with each {field} matching any text;
        # anchored at the start only: some messages get a line appended (a comment).
        parts = []
        for literal, name, _, _ in string.Formatter().parse(self.t(key)):
            parts.append(re.escape(literal))
            if name:
                parts.append(r"[\s\S]+?")
        return re.compile("".join(parts))

    def kind(self, text: str) -> Kind:
        # Longest template first: "Where are you?" is a prefix of its "... last place" variant.
        best: tuple[int, Kind] = (0, Kind.OTHER)
        for kind, pattern in self._patterns:
            match = pattern.match(text)
            if match is not None and match.end() > best[0]:
                best = (match.end(), kind)
        return best[1]


@dataclass
class Action:
    """One thing the employee did and how long the bot took to answer it."""

    name: str
    started: float
    answered: float | None = None

    @property
    def latency(self) -> float | None:
        return None if self.answered is None else self.answered - self.started


@dataclass
class Filing:
    reference: str
    started: float
    sent_at: float
    """time.monotonic() when Send was pressed (the last time, if it had to be pressed again)."""
    sent_wall: float
    """The same moment on the wall clock (the SMTP sink stamps mail with it)."""
    recoveries: int


Settled = Callable[[], Awaitable[None]]


async def _always_settled() -> None:
    return None


@dataclass
class Employee:
    """One person with a Telegram client; `open()` before use."""

    user: User
    email: str
    tg: WideClient
    watcher: ChatWatcher
    texts: BotTexts
    patience: float = 10.0
    """Seconds without any answer, after the gateway took the update, before acting again."""
    settled: Settled = _always_settled
    """Waits until the gateway is up and has been for a while (the fault runner's view)."""
    photo: bytes | None = None
    expect_timeout: float = 60.0
    """How long `expect` waits for a message of the wanted kind."""
    actions: list[Action] = field(default_factory=list)
    known_references: set[str] = field(default_factory=set)
    _inbox: asyncio.Queue[Seen] | None = None
    _open_action: Action | None = None

    async def open(self) -> None:
        self._inbox = await self.watcher.watch(self.user.id)

    # -- acting ------------------------------------------------------------------------------------

    def _begin(self, name: str) -> None:
        self._open_action = Action(name, time.monotonic())
        self.actions.append(self._open_action)

    async def command(self, command: str) -> None:
        self._begin(f"/{command}")
        await self.tg.send_command(self.user, command)

    async def say(self, text: str, name: str = "text") -> None:
        self._begin(name)
        await self.tg.send_text(self.user, text)

    async def send_photo(self, caption: str | None) -> None:
        self._begin("photo")
        assert self.photo is not None
        await self.tg.send_photo(self.user, self.photo, caption=caption)

    async def press(self, message: ChatMessage, caption: str, name: str) -> str:
        """Press a button; returns the callback query id (to read the bot's answer to it)."""
        return await self.press_data(message, message.callback_data(caption), name)

    async def press_data(self, message: ChatMessage, data: str, name: str) -> str:
        self._begin(name)
        press = await self.tg.press_button(self.user, message.message_id, data)
        return press.callback_query_id

    # -- reading -----------------------------------------------------------------------------------

    async def next_message(self, timeout: float) -> Seen | None:  # noqa: ASYNC109 - a deadline
        assert self._inbox is not None, "open() the employee first"
        try:
            seen = await asyncio.wait_for(self._inbox.get(), timeout)
        except TimeoutError:
            return None
        if self._open_action is not None:
            self._open_action.answered = seen.at
            self._open_action = None
        return seen

    async def expect(self, *kinds: Kind, timeout: float | None = None) -> Seen:  # noqa: ASYNC109
        """The next message of one of these kinds (others in between are skipped)."""
        timeout = self.expect_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            seen = await self.next_message(left)
            if seen is not None and self.texts.kind(seen.message.visible_text) in kinds:
                return seen
        raise TimeoutError(f"{self.user.id}: no {[k.value for k in kinds]} within {timeout}s")

    async def _waiting_on_gateway(self) -> bool:
        """True while the fake still holds an update of ours the gateway has not taken."""
        for pending in await self.tg.pending_updates():
            if _chat_of(pending["update"]) == self.user.id:
                return True
        return False

    async def _still_shows(self, message: ChatMessage, button: str) -> bool:
        """Whether the bot's message still carries this button (a handled press removes it)."""
        for current in await self.tg.bot_messages(self.user.id):
            if current.message_id == message.message_id:
                return any(button in row for row in current.button_rows)
        return False

    async def _quiet(self) -> bool:
        """No answer for `patience` seconds although the gateway is up and took our update."""
        await self.settled()
        return not await self._waiting_on_gateway()

    # -- flows -------------------------------------------------------------------------------------

    async def sign_in(self, code: Callable[[str], Awaitable[str]]) -> None:
        """/start, the work email, the code from the email (read by `code(email)`)."""
        await self.command("start")
        seen = await self.expect(Kind.WELCOME, Kind.ALREADY_SIGNED_IN)
        if self.texts.kind(seen.message.visible_text) is Kind.ALREADY_SIGNED_IN:
            return
        await self.say(self.email, "email")
        await self.expect(Kind.CODE_SENT)
        await self.say(await code(self.email), "code")
        await self.expect(Kind.SIGNED_IN)

    async def file_ticket(
        self,
        description: str,
        *,
        timeout: float = 300.0,  # noqa: ASYNC109 - a deadline over many steps
        before_send: Callable[[], Awaitable[None]] | None = None,
    ) -> Filing:
        """The wizard from /new to Send; returns the ticket's reference. `before_send` is awaited
        once, with the preview on screen, before Send is first pressed (the benchmark presses
        Send for everyone at the same moment)."""
        attempt = _Attempt(started=time.monotonic(), before_send=before_send)
        deadline = attempt.started + timeout
        await self.command("new")
        while time.monotonic() < deadline:
            seen = await self.next_message(self.patience)
            if seen is None:
                reference = await self._recover(attempt)
            else:
                reference = await self._answer(seen.message, description, attempt)
            if reference is not None:
                return self._filed(reference, attempt)
        raise TimeoutError(f"{self.user.id} could not file a ticket within {timeout}s")

    async def _recover(self, attempt: _Attempt) -> str | None:
        """The bot went quiet: ask the Send button whether the ticket went, press it again, or
        start over with /new. Returns the reference when the button's answer carries it."""
        if not await self._quiet():
            return None
        attempt.recoveries += 1
        if attempt.send_press and attempt.preview is not None:
            # Was the ticket taken before the reply got lost? The button says so.
            answer = await self.tg.callback_answer(attempt.send_press)
            said = str((answer or {}).get("text") or "")
            found = REFERENCE.search(said)
            if found:
                return found.group(0)
            if said != self.texts("button-stale"):
                if not await self._still_shows(attempt.preview, self.texts("button-send")):
                    return None  # the press was taken: its answer is on its way
                await self._press_send(attempt, attempt.preview)
                return None
        attempt.send_press, attempt.preview = "", None
        await self.command("new")
        return None

    async def _answer(
        self, message: ChatMessage, description: str, attempt: _Attempt
    ) -> str | None:
        """Answer one bot message; returns the reference once the bot says the ticket went."""
        kind = self.texts.kind(message.visible_text)
        found = REFERENCE.search(message.visible_text)
        if found and found.group(0) in self.known_references:
            return None  # news of an earlier ticket
        if kind is Kind.SUBMITTED and found:
            return found.group(0)
        if kind is Kind.EMAILED and found and attempt.send_press:
            # "Sent to IT support" of the ticket this Send made: its own reply was lost.
            return found.group(0)
        if not message.inline_keyboard and kind in _PROMPTS_WITH_BUTTONS:
            return None  # its buttons were already used (an edited copy of an older prompt)
        await self._take_step(message, kind, description, attempt)
        return None

    async def _take_step(
        self, message: ChatMessage, kind: Kind, description: str, attempt: _Attempt
    ) -> None:
        """The wizard step this message asks for, as a person would take it."""
        if kind is Kind.CHOOSE_CATEGORY:
            await self.press_data(message, _button_data(message, CATEGORY), "category")
        elif kind in (Kind.ASK_DESCRIPTION, Kind.DESCRIPTION_AFTER_PHOTO):
            if self.photo is not None and kind is Kind.ASK_DESCRIPTION:
                await self.send_photo(description)
            else:
                await self.say(description, "description")
        elif kind in (Kind.ASK_LOCATION, Kind.ASK_LOCATION_LAST):
            await self.press(message, self.texts("button-skip-location"), "skip location")
        elif kind is Kind.LOCATION_TEXT_ONLY:
            await self.say("Room 101", "location")
        elif kind in (Kind.ASK_PHOTOS, Kind.PHOTOS_HINT):
            if message.inline_keyboard:
                await self.press(message, message.button_rows[0][0], "photos done")
        elif kind is Kind.PREVIEW:
            attempt.preview = message
            if attempt.before_send is not None:
                await attempt.before_send()
                attempt.before_send = None
            await self._press_send(attempt, message)
        elif kind is Kind.UNFINISHED:
            await self.press(message, self.texts("button-continue"), "continue")
        elif kind in _START_OVER:
            await self.command("new")
        # Anything else (statuses of earlier tickets, "photo saved", ...) needs no answer.

    async def _press_send(self, attempt: _Attempt, preview: ChatMessage) -> None:
        attempt.send_press = await self.press(preview, self.texts("button-send"), "send")
        attempt.sent_at, attempt.sent_wall = time.monotonic(), time.time()

    def _filed(self, reference: str, attempt: _Attempt) -> Filing:
        self.known_references.add(reference)
        return Filing(
            reference,
            attempt.started,
            attempt.sent_at or time.monotonic(),
            attempt.sent_wall,
            attempt.recoveries,
        )


@dataclass
class _Attempt:
    """One employee's way from /new to a filed ticket, as far as it went."""

    started: float
    before_send: Callable[[], Awaitable[None]] | None
    """Awaited once, before Send is first pressed; None afterwards."""
    send_press: str = ""
    """The callback query of the last press of Send ("" before it, or after starting over)."""
    preview: ChatMessage | None = None
    sent_at: float = 0.0
    sent_wall: float = 0.0
    recoveries: int = 0


# Prompts whose buttons are the answer: without them the message is a used, edited copy.
_PROMPTS_WITH_BUTTONS = (
    Kind.CHOOSE_CATEGORY,
    Kind.ASK_LOCATION,
    Kind.ASK_LOCATION_LAST,
    Kind.ASK_PHOTOS,
    Kind.PREVIEW,
    Kind.UNFINISHED,
)
# The wizard is over or not running: /new starts (or offers) it again.
_START_OVER = (
    Kind.CANCELLED,
    Kind.ALREADY_SIGNED_IN,
    Kind.SIGNED_IN,
    Kind.MENU_HINT,
    Kind.USE_BUTTONS,
    Kind.TRY_AGAIN,
    Kind.UNAVAILABLE,
)


def _button_data(message: ChatMessage, value: str) -> str:
    """The callback data of the button whose packed value is `value` (e.g. a category code)."""
    for row in message.inline_keyboard:
        for button in row:
            data = str(button.get("callback_data", ""))
            if data.endswith(f":{value}"):
                return data
    raise LookupError(f"no button for {value!r} in {message.button_rows}")


def _chat_of(update: dict[str, Any]) -> int | None:
    if "message" in update:
        return int(update["message"]["chat"]["id"])
    if "callback_query" in update:
        return int(update["callback_query"]["from"]["id"])
    return None
