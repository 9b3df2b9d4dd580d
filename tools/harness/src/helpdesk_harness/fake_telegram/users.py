"""What test-side users do: write, send photos/albums/documents/stickers, press buttons.

Each action records the user's message in the chat (so message ids interleave with the bot's,
as in a real private chat) and queues the update the bot will receive from getUpdates.
"""

from __future__ import annotations

from typing import Any

from helpdesk_harness.fake_telegram.models import ButtonPress, ChatMessage, User, UserMessage
from helpdesk_harness.fake_telegram.state import ControlError, FakeTelegramState

# A 1x1 lossless WebP: what a sticker download returns.
STICKER_WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00"
    b"\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)


def _post(state: FakeTelegramState, user: User, kind: str, **fields: Any) -> UserMessage:
    chat = state.ensure_chat(user)
    message: ChatMessage = state.add_message(chat, from_bot=False, kind=kind, **fields)
    update_id = state.enqueue({"message": state.message_to_api(message)})
    message.update_id = update_id
    return UserMessage(
        update_id=update_id,
        message_id=message.message_id,
        chat_id=message.chat_id,
        file_id=message.file_id,
        media_group_id=message.media_group_id,
    )


def send_text(
    state: FakeTelegramState, user: User, text: str, *, reply_to: int | None = None
) -> UserMessage:
    if not text:
        raise ControlError("Telegram clients do not send empty messages")
    if reply_to is not None:
        chat = state.chats.get(user.id)
        if chat is None or reply_to not in chat.messages:
            raise ControlError(f"message {reply_to} does not exist in chat {user.id}")
    return _post(state, user, "text", text=text, visible_text=text, reply_to_message_id=reply_to)


def send_photo(
    state: FakeTelegramState,
    user: User,
    data: bytes,
    *,
    caption: str | None = None,
    media_group_id: str | None = None,
) -> UserMessage:
    stored = state.store_photo(data)
    return _post(
        state,
        user,
        "photo",
        caption=caption,
        visible_text=caption or "",
        media=state.media_for(stored),
        file_id=stored.file_id,
        mime_type=stored.mime_type,
        data=data,
        media_group_id=media_group_id,
    )


def send_album(
    state: FakeTelegramState, user: User, images: list[bytes], *, caption: str | None = None
) -> list[UserMessage]:
    if not 2 <= len(images) <= 10:
        raise ControlError("an album holds 2 to 10 photos")
    group = state.new_media_group_id()
    # Telegram clients put an album's caption on its first photo only.
    return [
        send_photo(state, user, image, caption=caption if i == 0 else None, media_group_id=group)
        for i, image in enumerate(images)
    ]


def send_document(
    state: FakeTelegramState,
    user: User,
    data: bytes,
    *,
    file_name: str,
    mime_type: str,
    caption: str | None = None,
) -> UserMessage:
    stored = state.store_file("document", data, file_name=file_name, mime_type=mime_type)
    return _post(
        state,
        user,
        "document",
        caption=caption,
        visible_text=caption or "",
        media=state.media_for(stored),
        file_id=stored.file_id,
        file_name=file_name,
        mime_type=mime_type,
        data=data,
    )


def send_sticker(state: FakeTelegramState, user: User, *, emoji: str = "👍") -> UserMessage:
    stored = state.store_file("sticker", STICKER_WEBP, mime_type="image/webp")
    media = state.media_for(stored)
    media["sticker"]["emoji"] = emoji
    return _post(
        state,
        user,
        "sticker",
        media=media,
        file_id=stored.file_id,
        mime_type="image/webp",
        data=STICKER_WEBP,
    )


def press_button(
    state: FakeTelegramState,
    user: User,
    message_id: int,
    callback_data: str,
    *,
    check_button: bool = True,
) -> ButtonPress:
    """A callback query for a button of a bot message the user can see.

    With check_button=False any callback_data goes, as from a modified client.
    """
    chat = state.chats.get(user.id)
    message = chat.messages.get(message_id) if chat is not None else None
    if message is None or not message.from_bot or message.deleted:
        raise ControlError(f"chat {user.id} shows no bot message {message_id}")
    if check_button:
        shown = [button.get("callback_data") for row in message.inline_keyboard for button in row]
        if callback_data not in shown:
            raise ControlError(
                f"message {message_id} has no button with callback_data {callback_data!r}; "
                f"it shows {message.inline_keyboard!r}"
            )
    query_id = state.new_callback_query(user.id, message_id, callback_data)
    query = {
        "id": query_id,
        "from": user.to_api(),
        "message": state.message_to_api(message),
        "chat_instance": state.chat_instance(user.id),
        "data": callback_data,
    }
    update_id = state.enqueue({"callback_query": query})
    return ButtonPress(update_id, query_id, user.id, message_id)


def inject_update(state: FakeTelegramState, update: dict[str, Any]) -> int:
    """Queue a raw update as given; a callback query in it becomes answerable."""
    query = update.get("callback_query")
    if isinstance(query, dict) and str(query.get("id")) not in state.callbacks:
        message = query.get("message") or {}
        state.register_callback_query(
            str(query.get("id")),
            int((message.get("chat") or {}).get("id", 0)),
            int(message.get("message_id", 0)),
            str(query.get("data", "")),
        )
    return state.enqueue(update)
