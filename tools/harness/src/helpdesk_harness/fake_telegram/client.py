"""`FakeTelegramClient`: the test's hands on the fake Bot API, over its `/_test/...` HTTP API.

It works the same against the in-process server and the process started with
`python -m helpdesk_harness.fake_telegram`. Every method is a coroutine; open the client with
`async with FakeTelegramClient(base_url) as tg:` (or `await tg.open()` / `await tg.close()`).

`wait_for_bot_message` keeps a cursor per chat: each call returns the first bot message after the
one the previous call returned, so a reply that arrives before the test starts waiting is never
missed and never returned twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import aiohttp

from helpdesk_harness.fake_telegram.models import (
    ButtonPress,
    Call,
    ChatMessage,
    User,
    UserMessage,
    b64encode,
)

MessagePredicate = Callable[[ChatMessage], bool]
CallPredicate = Callable[[Call], bool]


class FakeTelegramError(RuntimeError):
    """The fake refused a test-side request (e.g. pressing a button the message does not show)."""


class FakeTelegramClient:
    def __init__(self, base_url: str, *, request_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None
        self._info: dict[str, Any] | None = None
        self._cursor: dict[int, int] = {}

    # -- lifecycle and identity -----------------------------------------------------------------

    async def open(self) -> FakeTelegramClient:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._info = await self._get("/_test/info")
        return self

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FakeTelegramClient:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def token(self) -> str:
        """The only bot token the fake accepts."""
        return str(self._opened()["token"])

    @property
    def bot(self) -> dict[str, Any]:
        """The bot as getMe describes it (id, username, first_name, ...)."""
        bot: dict[str, Any] = self._opened()["bot"]
        return bot

    @property
    def bot_id(self) -> int:
        return int(self.bot["id"])

    @property
    def bot_username(self) -> str:
        return str(self.bot["username"])

    def _opened(self) -> dict[str, Any]:
        if self._info is None:
            raise RuntimeError("open the FakeTelegramClient first (async with / await open())")
        return self._info

    # -- acting as users ------------------------------------------------------------------------

    async def add_user(self, user: User) -> None:
        """Open the user's chat without a message (as if they had pressed Start long ago)."""
        await self._post("/_test/users", {"user": user.to_json()})

    async def send_text(self, user: User, text: str, *, reply_to: int | None = None) -> UserMessage:
        body = {"user": user.to_json(), "text": text, "reply_to": reply_to}
        return UserMessage.from_json(await self._post("/_test/send_text", body))

    async def send_command(self, user: User, command: str, args: str | None = None) -> UserMessage:
        """`/command args` with the bot_command entity a Telegram client adds."""
        body = {"user": user.to_json(), "command": command, "args": args}
        return UserMessage.from_json(await self._post("/_test/send_command", body))

    async def send_photo(
        self,
        user: User,
        image: bytes,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> UserMessage:
        body = {
            "user": user.to_json(),
            "image_b64": b64encode(image),
            "caption": caption,
            "media_group_id": media_group_id,
        }
        return UserMessage.from_json(await self._post("/_test/send_photo", body))

    async def send_album(
        self, user: User, images: list[bytes], caption: str | None = None
    ) -> list[UserMessage]:
        """2-10 photo messages sharing one media_group_id; the caption goes on the first."""
        body = {
            "user": user.to_json(),
            "images_b64": [b64encode(image) for image in images],
            "caption": caption,
        }
        answer = await self._post("/_test/send_album", body)
        return [UserMessage.from_json(message) for message in answer["messages"]]

    async def send_document(
        self,
        user: User,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
    ) -> UserMessage:
        body = {
            "user": user.to_json(),
            "data_b64": b64encode(data),
            "file_name": file_name,
            "mime_type": mime_type,
            "caption": caption,
        }
        return UserMessage.from_json(await self._post("/_test/send_document", body))

    async def send_sticker(self, user: User, emoji: str = "👍") -> UserMessage:
        body = {"user": user.to_json(), "emoji": emoji}
        return UserMessage.from_json(await self._post("/_test/send_sticker", body))

    async def press_button(
        self, user: User, message_id: int, callback_data: str, *, check_button: bool = True
    ) -> ButtonPress:
        """Press an inline button of a bot message; with check_button=False, forge any data."""
        body = {
            "user": user.to_json(),
            "message_id": message_id,
            "callback_data": callback_data,
            "check_button": check_button,
        }
        return ButtonPress.from_json(await self._post("/_test/press_button", body))

    async def inject_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update as is (an update_id is assigned if missing); returns its id."""
        answer = await self._post("/_test/inject_update", {"update": update})
        return int(answer["update_id"])

    # -- reading what the bot did ---------------------------------------------------------------

    async def bot_messages(
        self, chat_id: int, *, include_deleted: bool = False
    ) -> list[ChatMessage]:
        """The bot's messages in the chat as they stand now (edits applied), oldest first."""
        side = "bot"
        return (await self._messages(chat_id, side=side, include_deleted=include_deleted))[1]

    async def history(self, chat_id: int) -> list[ChatMessage]:
        """Both sides of the chat, deleted messages included, oldest first."""
        return (await self._messages(chat_id, side="all", include_deleted=True))[1]

    async def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard the user currently sees under the input field, if any."""
        keyboard: dict[str, Any] | None = (await self._chat_state(chat_id))["reply_keyboard"]
        return keyboard

    async def chat_actions(self, chat_id: int) -> list[str]:
        """Every sendChatAction action ("typing", "upload_photo", ...) sent to the chat."""
        return [str(action) for action in (await self._chat_state(chat_id))["actions"]]

    async def calls(self, method: str | None = None) -> list[Call]:
        """Bot API calls in the order they finished (`time` is when each arrived)."""
        answer = await self._get("/_test/calls", {"method": method or ""})
        return [Call.from_json(call) for call in answer["calls"]]

    async def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        """How the bot answered a button press: {text, show_alert, url, cache_time} or None."""
        answer: dict[str, Any] | None = (
            await self._get(f"/_test/callback_answers/{callback_query_id}")
        )["answer"]
        return answer

    async def pending_updates(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet (each {"update": ..., "delivered": bool})."""
        pending: list[dict[str, Any]] = (await self._get("/_test/updates/pending"))["pending"]
        return pending

    async def commands(
        self, *, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        """The command menu set with setMyCommands for that scope and language."""
        query = {"scope": json.dumps(scope or {"type": "default"})}
        if language_code:
            query["language_code"] = language_code
        commands: list[dict[str, Any]] = (await self._get("/_test/commands", query))["commands"]
        return commands

    async def webhook(self) -> dict[str, Any] | None:
        hook: dict[str, Any] | None = (await self._get("/_test/webhook"))["webhook"]
        return hook

    async def file_bytes(self, file_id: str) -> bytes:
        async with self._http().get(
            f"{self.base_url}/_test/files/{file_id}", timeout=self._timeout()
        ) as response:
            if response.status != 200:
                raise FakeTelegramError(await response.text())
            return await response.read()

    # -- waiting --------------------------------------------------------------------------------

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: MessagePredicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline spanning many requests
        after: int | None = None,
    ) -> ChatMessage:
        """The first bot message after the cursor (or after message id `after`) that matches.

        Deleted messages are skipped. The cursor moves to the message returned.
        """
        floor = self._cursor.get(chat_id, 0) if after is None else after
        wanted = "a" if predicate is None else "a matching"

        async def probe() -> tuple[int, ChatMessage | None]:
            version, messages = await self._messages(chat_id, side="bot", include_deleted=False)
            for message in messages:
                if message.message_id > floor and (predicate is None or predicate(message)):
                    return version, message
            return version, None

        found = await self._wait(
            probe, timeout, lambda: self._describe(chat_id, f"{wanted} bot message after #{floor}")
        )
        self._cursor[chat_id] = max(self._cursor.get(chat_id, 0), found.message_id)
        return found

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        predicate: MessagePredicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline spanning many requests
    ) -> ChatMessage:
        """The bot message once it has been edited or deleted (and matches the predicate)."""

        async def probe() -> tuple[int, ChatMessage | None]:
            version, messages = await self._messages(chat_id, side="bot", include_deleted=True)
            for message in messages:
                if (
                    message.message_id == message_id
                    and (message.edits or message.deleted)
                    and (predicate is None or predicate(message))
                ):
                    return version, message
            return version, None

        return await self._wait(
            probe, timeout, lambda: self._describe(chat_id, f"an edit of message #{message_id}")
        )

    async def wait_for_call(
        self,
        method: str,
        predicate: CallPredicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline spanning many requests
    ) -> Call:
        """The first logged call of `method` (case-insensitive) that matches the predicate."""

        async def probe() -> tuple[int, Call | None]:
            answer = await self._get("/_test/calls", {"method": method})
            for raw in answer["calls"]:
                call = Call.from_json(raw)
                if predicate is None or predicate(call):
                    return int(answer["version"]), call
            return int(answer["version"]), None

        async def describe() -> str:
            seen = [f"{c.method}({c.params}) ok={c.ok}" for c in await self.calls(method)]
            return f"no matching {method} call within {timeout}s; seen: {seen}"

        return await self._wait(probe, timeout, describe)

    async def assert_no_bot_message(
        self, chat_id: int, *, within: float = 0.5, after: int | None = None
    ) -> None:
        """Fail if the bot sends anything new to the chat within `within` seconds."""
        try:
            extra = await self.wait_for_bot_message(chat_id, timeout=within, after=after)
        except TimeoutError:
            return
        raise AssertionError(
            f"the bot sent an unexpected message #{extra.message_id}: {extra.visible_text!r}"
        )

    # -- faults ---------------------------------------------------------------------------------

    async def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = None,
        times: int = 1,
        *,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (optionally only for one chat) with an error.

        429 carries `parameters.retry_after` (default 1) and "Too Many Requests: retry after N".
        """
        body = {
            "method": method,
            "error_code": error_code,
            "retry_after": retry_after,
            "times": times,
            "description": description,
            "chat_id": chat_id,
        }
        await self._post("/_test/fail_next", body)

    async def block_chat(self, chat_id: int) -> None:
        """The user blocks the bot: sends and edits to the chat answer 403."""
        await self._post("/_test/block_chat", {"chat_id": chat_id})

    async def unblock_chat(self, chat_id: int) -> None:
        await self._post("/_test/unblock_chat", {"chat_id": chat_id})

    # -- plumbing -------------------------------------------------------------------------------

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("open the FakeTelegramClient first (async with / await open())")
        return self._session

    def _timeout(self, seconds: float | None = None) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=seconds or self.request_timeout)

    async def _get(
        self, path: str, query: dict[str, Any] | None = None, *, seconds: float | None = None
    ) -> dict[str, Any]:
        params = {key: str(value) for key, value in (query or {}).items()}
        async with self._http().get(
            self.base_url + path, params=params, timeout=self._timeout(seconds)
        ) as response:
            return await self._decode(response)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._http().post(
            self.base_url + path, json=body, timeout=self._timeout()
        ) as response:
            return await self._decode(response)

    @staticmethod
    async def _decode(response: aiohttp.ClientResponse) -> dict[str, Any]:
        text = await response.text()
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if response.status != 200 or not isinstance(answer, dict):
            error = answer.get("error", text) if isinstance(answer, dict) else text
            raise FakeTelegramError(f"{response.method} {response.url.path}: {error}")
        return answer

    async def _messages(
        self, chat_id: int, *, side: str, include_deleted: bool
    ) -> tuple[int, list[ChatMessage]]:
        query = {"side": side, "include_deleted": int(include_deleted)}
        answer = await self._get(f"/_test/chats/{chat_id}/messages", query)
        messages = [ChatMessage.from_json(message) for message in answer["messages"]]
        return int(answer["version"]), messages

    async def _chat_state(self, chat_id: int) -> dict[str, Any]:
        return await self._get(f"/_test/chats/{chat_id}/state")

    async def _wait[T](
        self,
        probe: Callable[[], Awaitable[tuple[int, T | None]]],
        seconds: float,
        describe: Callable[[], Awaitable[str]],
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            version, found = await probe()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(await describe())
            # Sleep on the server until anything changes rather than polling in a loop.
            await self._get(
                "/_test/changes",
                {"after": version, "timeout": remaining},
                seconds=remaining + self.request_timeout,
            )

    async def _describe(self, chat_id: int, wanted: str) -> str:
        shown = [
            f"#{m.message_id} {m.kind} {m.visible_text!r} buttons={m.button_rows}"
            + (" (deleted)" if m.deleted else "")
            for m in await self.bot_messages(chat_id, include_deleted=True)
        ]
        return f"timed out waiting for {wanted} in chat {chat_id}; the bot's messages: {shown}"
