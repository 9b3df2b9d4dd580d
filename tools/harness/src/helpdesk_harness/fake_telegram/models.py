"""Plain records shared by the fake server and its client, and their JSON form.

They travel over the control API (`/_test/...`) as JSON, so bytes are base64 there and every
record has `to_json` / `from_json`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class User:
    """A Telegram user the test plays; the private chat with the bot has the same id."""

    id: int
    first_name: str = "Тест"
    username: str | None = None
    last_name: str | None = None
    language_code: str = "ru"

    def to_api(self) -> dict[str, Any]:
        """The Bot API `User` object."""
        result: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            result["last_name"] = self.last_name
        if self.username is not None:
            result["username"] = self.username
        result["language_code"] = self.language_code
        return result

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "username": self.username,
            "last_name": self.last_name,
            "language_code": self.language_code,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            id=int(data["id"]),
            first_name=str(data.get("first_name") or "Тест"),
            username=data.get("username"),
            last_name=data.get("last_name"),
            language_code=str(data.get("language_code") or "ru"),
        )


@dataclass
class ChatMessage:
    """One message in a private chat, as it stands now (after edits and deletes).

    `text`/`caption` are what the bot sent (markup included); `visible_text` is what the user
    reads: the text or caption with HTML/Markdown rendered away.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    kind: str  # text | photo | document | sticker | other
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    visible_text: str = ""
    reply_markup: dict[str, Any] | None = None
    media: dict[str, Any] | None = None  # the Bot API fragment, e.g. {"photo": [...]}
    file_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    data: bytes | None = None  # the file's bytes for photo/document/sticker messages
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    update_id: int | None = None  # for user messages: the update that delivered it
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def photo(self) -> bytes | None:
        return self.data if self.kind == "photo" else None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        if self.reply_markup is None:
            return []
        rows: list[list[dict[str, Any]]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def button_rows(self) -> list[list[str]]:
        """Button captions as the user sees them, row by row (inline or reply keyboard)."""
        if self.reply_markup is None:
            return []
        rows = self.reply_markup.get("inline_keyboard") or self.reply_markup.get("keyboard") or []
        return [
            [button if isinstance(button, str) else str(button.get("text", "")) for button in row]
            for row in rows
        ]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.button_rows for text in row]

    def callback_data(self, button_text: str) -> str:
        """The callback_data of the inline button captioned exactly `button_text`."""
        for row in self.inline_keyboard:
            for button in row:
                if button.get("text") == button_text and "callback_data" in button:
                    return str(button["callback_data"])
        raise LookupError(
            f"message {self.message_id} has no inline button {button_text!r}; "
            f"it shows {self.button_rows!r}"
        )

    def to_json(self, *, include_bytes: bool = True) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "date": self.date,
            "kind": self.kind,
            "text": self.text,
            "caption": self.caption,
            "parse_mode": self.parse_mode,
            "visible_text": self.visible_text,
            "reply_markup": self.reply_markup,
            "media": self.media,
            "file_id": self.file_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "data_b64": b64encode(self.data) if include_bytes and self.data is not None else None,
            "media_group_id": self.media_group_id,
            "reply_to_message_id": self.reply_to_message_id,
            "update_id": self.update_id,
            "edits": self.edits,
            "deleted": self.deleted,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatMessage:
        raw = data.get("data_b64")
        return cls(
            message_id=int(data["message_id"]),
            chat_id=int(data["chat_id"]),
            from_bot=bool(data["from_bot"]),
            date=int(data["date"]),
            kind=str(data["kind"]),
            text=data.get("text"),
            caption=data.get("caption"),
            parse_mode=data.get("parse_mode"),
            visible_text=str(data.get("visible_text", "")),
            reply_markup=data.get("reply_markup"),
            media=data.get("media"),
            file_id=data.get("file_id"),
            file_name=data.get("file_name"),
            mime_type=data.get("mime_type"),
            data=b64decode(raw) if raw is not None else None,
            media_group_id=data.get("media_group_id"),
            reply_to_message_id=data.get("reply_to_message_id"),
            update_id=data.get("update_id"),
            edits=list(data.get("edits") or []),
            deleted=bool(data.get("deleted", False)),
        )


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made, with its parameters decoded from JSON where possible.

    Uploaded files appear in `params` as {"upload": filename, "size": n}.
    """

    method: str
    params: dict[str, Any]
    time: float
    ok: bool
    error_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": self.params,
            "time": self.time,
            "ok": self.ok,
            "error_code": self.error_code,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Call:
        return cls(
            method=str(data["method"]),
            params=dict(data["params"]),
            time=float(data["time"]),
            ok=bool(data["ok"]),
            error_code=data.get("error_code"),
        )


@dataclass(frozen=True)
class UserMessage:
    """What a test-side user action created: the update queued for the bot and the message."""

    update_id: int
    message_id: int
    chat_id: int
    file_id: str | None = None
    media_group_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "file_id": self.file_id,
            "media_group_id": self.media_group_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserMessage:
        return cls(
            update_id=int(data["update_id"]),
            message_id=int(data["message_id"]),
            chat_id=int(data["chat_id"]),
            file_id=data.get("file_id"),
            media_group_id=data.get("media_group_id"),
        )


@dataclass(frozen=True)
class ButtonPress:
    """A callback query the user caused by pressing an inline button."""

    update_id: int
    callback_query_id: str
    chat_id: int
    message_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "callback_query_id": self.callback_query_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ButtonPress:
        return cls(
            update_id=int(data["update_id"]),
            callback_query_id=str(data["callback_query_id"]),
            chat_id=int(data["chat_id"]),
            message_id=int(data["message_id"]),
        )
