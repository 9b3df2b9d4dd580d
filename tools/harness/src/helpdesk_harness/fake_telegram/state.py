"""The fake's world: chats, messages, files, the update queue, the call log, injected faults.

Only the server's event loop touches this object (every Bot API and control request is an aiohttp
handler on that loop), so nothing here needs a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import mimetypes
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from helpdesk_harness.fake_telegram.media import image_size, thumbnail
from helpdesk_harness.fake_telegram.models import Call, ChatMessage, User

# Update types Telegram leaves out unless a bot asks for them by name.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")
_FILE_PREFIX = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}


class ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


class ControlError(ValueError):
    """A test-side request that cannot happen (e.g. pressing a button that is not shown)."""


class Changes:
    """A version counter that wakes every waiter when anything in the fake changes."""

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    photo_sizes: list[dict[str, Any]] | None = None  # for photos: thumbnail first, original last

    def api_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class Chat:
    user: User
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    blocked: bool = False
    actions: list[str] = field(default_factory=list)

    def allocate_message_id(self) -> int:
        # User and bot messages share one counter per chat, as in a real private chat.
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def to_api(self) -> dict[str, Any]:
        user = self.user
        result: dict[str, Any] = {"id": user.id, "type": "private", "first_name": user.first_name}
        if user.last_name is not None:
            result["last_name"] = user.last_name
        if user.username is not None:
            result["username"] = user.username
        return result


@dataclass
class PendingUpdate:
    seq: int
    update: dict[str, Any]
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def type(self) -> str:
        return next((key for key in self.update if key != "update_id"), "")


@dataclass
class FailRule:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None


@dataclass
class CallbackRecord:
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


def default_error_description(error_code: int, retry_after: int | None) -> str:
    if error_code == 429:
        return f"Too Many Requests: retry after {retry_after}"
    return {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: injected failure",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(error_code, f"Error {error_code}: injected failure")


class FakeTelegramState:
    def __init__(
        self, *, token: str, bot_username: str, bot_first_name: str, first_update_id: int = 1
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.changes = Changes()
        self.closing = False
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.pending: list[PendingUpdate] = []
        self.allowed_updates: list[str] | None = None
        self.poll_generation = 0
        self.calls: list[Call] = []
        self.fail_rules: list[FailRule] = []
        self.callbacks: dict[str, CallbackRecord] = {}
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        # A bot that outlives this fake (a kept sandbox) remembers the update ids it handled:
        # a new fake must not start again below them, as real Telegram never does.
        self._next_update_id = first_update_id
        self._seq = itertools.count(1)
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(4_000_000_000_000_000_001)

    # -- identities ---------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def get_me(self) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def chat_instance(self, chat_id: int) -> str:
        return str((chat_id * 2654435761 + self.bot_id) % 2**63)

    def ensure_chat(self, user: User) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = Chat(user=user)
            self.changes.bump()
        else:
            chat.user = user
        return chat

    def chat_for_bot(self, chat_id: int | str) -> Chat:
        """The chat a bot request names; Telegram knows only chats where the user wrote first."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self.chats.values():
                if chat.user.username == chat_id[1:]:
                    return chat
            raise bad_request("chat not found")
        try:
            found = self.chats.get(int(chat_id))
        except ValueError:
            found = None
        if found is None:
            raise bad_request("chat not found")
        return found

    # -- files --------------------------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        number = next(self._file_counter)
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        elif mime_type:
            extension = mimetypes.guess_extension(mime_type) or ""
        elif kind == "photo":
            extension = ".jpg"
        stored = StoredFile(
            file_id=f"{_FILE_PREFIX.get(kind, 'BAAC')}{number:06d}{secrets.token_hex(8)}",
            file_unique_id=f"AQAD{number:06d}",
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{number}{extension}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def store_photo(self, data: bytes) -> StoredFile:
        """Store a photo with the sizes Telegram lists: a thumbnail first, the original last."""
        original = self.store_file("photo", data, mime_type="image/jpeg")
        width, height = image_size(data) or (0, 0)
        sizes: list[dict[str, Any]] = []
        small = thumbnail(data)
        if small is not None and (small[1], small[2]) != (width, height):
            thumb = self.store_file("photo", small[0], mime_type="image/jpeg")
            sizes.append(self._photo_size(thumb, small[1], small[2]))
        sizes.append(self._photo_size(original, width, height))
        original.photo_sizes = sizes
        return original

    @staticmethod
    def _photo_size(stored: StoredFile, width: int, height: int) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": width,
            "height": height,
        }

    def media_for(self, stored: StoredFile) -> dict[str, Any]:
        """The Bot API fields describing a stored file inside a Message."""
        if stored.kind == "photo":
            width, height = image_size(stored.data) or (0, 0)
            return {"photo": stored.photo_sizes or [self._photo_size(stored, width, height)]}
        if stored.kind == "sticker":
            sticker = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "file_size": len(stored.data),
            }
            return {"sticker": sticker}
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name is not None:
            document["file_name"] = stored.file_name
        if stored.mime_type is not None:
            document["mime_type"] = stored.mime_type
        return {"document": document}

    # -- messages -----------------------------------------------------------------------------

    def add_message(self, chat: Chat, *, from_bot: bool, kind: str, **fields: Any) -> ChatMessage:
        message = ChatMessage(
            message_id=chat.allocate_message_id(),
            chat_id=chat.user.id,
            from_bot=from_bot,
            date=int(time.time()),
            kind=kind,
            **fields,
        )
        chat.messages[message.message_id] = message
        self.changes.bump()
        return message

    def message_to_api(self, message: ChatMessage, *, nested: bool = False) -> dict[str, Any]:
        """The Bot API `Message` object for the message as it stands now."""
        chat = self.chats[message.chat_id]
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user() if message.from_bot else chat.user.to_api(),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edits:
            result["edit_date"] = message.edits[-1]["date"]
        if message.media_group_id is not None:
            result["media_group_id"] = message.media_group_id
        if message.reply_to_message_id is not None and not nested:
            target = chat.messages.get(message.reply_to_message_id)
            if target is not None and not target.deleted:
                result["reply_to_message"] = self.message_to_api(target, nested=True)
        # Telegram returns text/caption with the markup already turned into entities.
        shown = message.visible_text if message.from_bot else None
        if message.text is not None:
            result["text"] = shown if shown is not None else message.text
            if not message.from_bot and (command := _COMMAND.match(message.text)):
                result["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(command.group(0))}
                ]
        if message.media is not None:
            result.update(message.media)
        if message.caption is not None:
            result["caption"] = shown if shown is not None else message.caption
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    def new_media_group_id(self) -> str:
        return str(13_000_000_000_000_000 + next(self._seq))

    # -- the update queue ---------------------------------------------------------------------

    def enqueue(self, update: dict[str, Any]) -> int:
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self.pending.append(PendingUpdate(seq=next(self._seq), update=update))
        self.changes.bump()
        return update_id

    def confirm(self, offset: int | None) -> None:
        """Apply getUpdates' offset.

        A positive offset confirms updates *already handed out* with a lower id. An update that was
        never handed out stays even if its id is lower: that only happens when a test re-injects an
        old update_id, and it must then reach the bot, exactly as a redelivery would.
        """
        if not offset:
            return
        before = len(self.pending)
        if offset < 0:
            self.pending = sorted(self.pending, key=_order)[offset:]
        else:
            self.pending = [p for p in self.pending if not (p.delivered and p.update_id < offset)]
        if len(self.pending) != before:
            self.changes.bump()

    def take_updates(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates or [])
        kept = [
            p
            for p in self.pending
            if (p.type in allowed if allowed else p.type not in OPT_IN_UPDATE_TYPES)
        ]
        # Telegram never creates updates of types the bot did not ask for: drop them for good.
        self.pending = kept
        batch = sorted(kept, key=_order)[:limit]
        for pending in batch:
            pending.delivered = True
        return [pending.update for pending in batch]

    # -- the call log and injected faults ------------------------------------------------------

    def record_call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        ok: bool,
        error_code: int | None = None,
        at: float | None = None,
    ) -> None:
        """Log a finished call; `at` is when it arrived (a long poll finishes much later)."""
        arrived = time.time() if at is None else at
        self.calls.append(
            Call(method=method, params=params, time=arrived, ok=ok, error_code=error_code)
        )
        self.changes.bump()

    def add_fail_rule(
        self,
        method: str,
        *,
        error_code: int,
        retry_after: int | None,
        times: int,
        description: str | None,
        chat_id: int | None,
    ) -> None:
        if error_code == 429 and retry_after is None:
            retry_after = 1
        self.fail_rules.append(
            FailRule(
                method=method.lower(),
                error_code=error_code,
                description=description or default_error_description(error_code, retry_after),
                retry_after=retry_after,
                times=times,
                chat_id=chat_id,
            )
        )

    def take_fault(self, method: str, chat_id: int | None) -> ApiError | None:
        for rule in self.fail_rules:
            if rule.method != method.lower():
                continue
            if rule.chat_id is not None and rule.chat_id != chat_id:
                continue
            rule.times -= 1
            if rule.times <= 0:
                self.fail_rules.remove(rule)
            return ApiError(rule.error_code, rule.description, retry_after=rule.retry_after)
        return None

    def new_callback_query(self, chat_id: int, message_id: int, data: str) -> str:
        query_id = str(next(self._callback_counter))
        self.register_callback_query(query_id, chat_id, message_id, data)
        return query_id

    def register_callback_query(
        self, query_id: str, chat_id: int, message_id: int, data: str
    ) -> None:
        self.callbacks[query_id] = CallbackRecord(chat_id, message_id, data)

    # -- lifecycle ----------------------------------------------------------------------------

    async def close(self, *_: object) -> None:
        """Wake every long poll so the server can stop at once."""
        self.closing = True
        self.changes.bump()


def _order(pending: PendingUpdate) -> tuple[int, int]:
    return pending.update_id, pending.seq
