"""The Bot API methods the fake implements, answered the way api.telegram.org answers them.

Each handler returns the `result` of a successful call or raises ApiError; `call_method` adds
what every method shares: the call log, injected faults, blocked chats and unknown methods.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from helpdesk_harness.fake_telegram.markup import EntityParseError, render, utf16_len
from helpdesk_harness.fake_telegram.media import image_size
from helpdesk_harness.fake_telegram.models import ChatMessage
from helpdesk_harness.fake_telegram.params import Params, Upload
from helpdesk_harness.fake_telegram.state import (
    ApiError,
    Chat,
    FakeTelegramState,
    StoredFile,
    bad_request,
)

Handler = Callable[[FakeTelegramState, Params], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}

MAX_DOWNLOAD = 20 * 1024 * 1024
# Methods that act on a chat and so fail with 403 once the user has blocked the bot.
_CHAT_ACTIONS = ("send", "edit", "copy", "forward")
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data", "url", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay",
    }
)  # fmt: skip
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name.lower()] = handler
        return handler

    return register


async def call_method(
    state: FakeTelegramState, name: str, params: Params
) -> tuple[int, dict[str, Any]]:
    """Answer one Bot API call: (HTTP status, JSON body)."""
    arrived = time.time()
    chat_id = _chat_id_or_none(params)
    try:
        handler = HANDLERS.get(name.lower())
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        fault = state.take_fault(name, chat_id)
        if fault is not None:
            raise fault
        chat = state.chats.get(chat_id) if chat_id is not None else None
        if chat is not None and chat.blocked and name.lower().startswith(_CHAT_ACTIONS):
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        result = await handler(state, params)
    except ApiError as error:
        state.record_call(name, params.for_log(), ok=False, error_code=error.error_code, at=arrived)
        return error.error_code, error.body()
    state.record_call(name, params.for_log(), ok=True, at=arrived)
    return 200, {"ok": True, "result": result}


def _chat_id_or_none(params: Params) -> int | None:
    value = params.values.get("chat_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# -- shared checks ------------------------------------------------------------------------------


def rendered(text: str, parse_mode: str | None, *, caption: bool = False) -> str:
    try:
        visible = render(text, parse_mode)
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    if utf16_len(visible) > (1024 if caption else 4096):
        raise bad_request("message caption is too long" if caption else "message is too long")
    return visible


def checked_markup(markup: dict[str, Any] | None, *, inline_only: bool = False) -> Any:
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            if not _BUTTON_ACTIONS & button.keys():
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
        return markup
    if not inline_only and markup.keys() & {"keyboard", "remove_keyboard", "force_reply"}:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def reply_target(chat: Chat, params: Params) -> int | None:
    reply = params.get_dict("reply_parameters")
    if reply is not None:
        target, allow = reply.get("message_id"), bool(reply.get("allow_sending_without_reply"))
    else:
        target = params.get_int("reply_to_message_id")
        allow = params.get_bool("allow_sending_without_reply")
    if target is None:
        return None
    message = chat.messages.get(int(target))
    if message is None or message.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return int(target)


def add_bot_message(
    state: FakeTelegramState, chat: Chat, kind: str, params: Params, **fields: Any
) -> ChatMessage:
    markup = checked_markup(params.get_dict("reply_markup"))
    reply_to = reply_target(chat, params)
    message = state.add_message(
        chat, from_bot=True, kind=kind, reply_markup=markup, reply_to_message_id=reply_to, **fields
    )
    if markup is not None and "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup is not None and markup.get("remove_keyboard"):
        chat.reply_keyboard = None
    return message


def resolve_file(state: FakeTelegramState, source: Upload | str, kind: str) -> StoredFile:
    if isinstance(source, Upload):
        if kind == "photo":
            if image_size(source.data) is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            return state.store_photo(source.data)
        # Telegram names the type after the file name, as aiogram sends no part content type.
        mime = mimetypes.guess_type(source.filename)[0] or "application/octet-stream"
        return state.store_file(kind, source.data, file_name=source.filename, mime_type=mime)
    stored = state.files.get(source)
    if stored is None:
        # The fake has no network, so it cannot fetch HTTP URLs either.
        raise bad_request("wrong file identifier/HTTP URL specified")
    if kind == "photo" and stored.kind != "photo":
        raise bad_request(f"can't use file of type {stored.kind.title()} as Photo")
    return stored


def media_fields(state: FakeTelegramState, stored: StoredFile) -> dict[str, Any]:
    return {
        "media": state.media_for(stored),
        "file_id": stored.file_id,
        "file_name": stored.file_name,
        "mime_type": stored.mime_type,
        "data": stored.data,
    }


def caption_fields(caption: str | None, parse_mode: str | None) -> dict[str, Any]:
    visible = rendered(caption, parse_mode, caption=True) if caption else ""
    return {"caption": caption or None, "parse_mode": parse_mode, "visible_text": visible}


# -- identity, updates, webhook -------------------------------------------------------------------


@method("getMe")
async def get_me(state: FakeTelegramState, params: Params) -> Any:
    return state.get_me()


@method("getUpdates")
async def get_updates(state: FakeTelegramState, params: Params) -> Any:
    if state.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    limit = min(max(params.get_int("limit") or 100, 1), 100)
    timeout = min(max(params.get_int("timeout") or 0, 0), 50)
    allowed = params.get_list("allowed_updates")
    if allowed is not None:
        state.allowed_updates = [str(kind) for kind in allowed]
    state.confirm(params.get_int("offset"))
    # A newer poll ends an older one with 409, as Telegram does when two bots share a token.
    state.poll_generation += 1
    generation = state.poll_generation
    state.changes.bump()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if generation != state.poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        batch = state.take_updates(limit)
        remaining = deadline - loop.time()
        if batch or state.closing or remaining <= 0:
            return batch
        await state.changes.wait(remaining)


@method("setWebhook")
async def set_webhook(state: FakeTelegramState, params: Params) -> Any:
    state.webhook = {**params.values, "url": params.require_str("url")}
    if params.get_bool("drop_pending_updates"):
        state.pending.clear()
    return True


@method("deleteWebhook")
async def delete_webhook(state: FakeTelegramState, params: Params) -> Any:
    state.webhook = None
    if params.get_bool("drop_pending_updates"):
        state.pending.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(state: FakeTelegramState, params: Params) -> Any:
    url = state.webhook["url"] if state.webhook is not None else ""
    return {"url": url, "has_custom_certificate": False, "pending_update_count": len(state.pending)}


# -- commands -------------------------------------------------------------------------------------


def commands_key(params: Params) -> str:
    scope = params.get_dict("scope") or {"type": "default"}
    return f"{json.dumps(scope, sort_keys=True)}|{params.get_str('language_code') or ''}"


@method("setMyCommands")
async def set_my_commands(state: FakeTelegramState, params: Params) -> Any:
    commands = params.get_list("commands") or []
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_NAME.match(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    state.commands[commands_key(params)] = commands
    return True


@method("getMyCommands")
async def get_my_commands(state: FakeTelegramState, params: Params) -> Any:
    return state.commands.get(commands_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(state: FakeTelegramState, params: Params) -> Any:
    state.commands.pop(commands_key(params), None)
    return True


async def acknowledge(state: FakeTelegramState, params: Params) -> Any:
    return True


for _name in (
    "close", "logOut", "setMyDescription", "setMyShortDescription", "setMyName",
    "setChatMenuButton",
):  # fmt: skip
    method(_name)(acknowledge)


# -- sending --------------------------------------------------------------------------------------


@method("sendMessage")
async def send_message(state: FakeTelegramState, params: Params) -> Any:
    chat = state.chat_for_bot(params.chat_id())
    text = params.get_str("text") or ""
    parse_mode = params.get_str("parse_mode")
    visible = rendered(text, parse_mode) if text.strip() else ""
    if not visible.strip():
        raise bad_request("message text is empty")
    message = add_bot_message(
        state, chat, "text", params, text=text, parse_mode=parse_mode, visible_text=visible
    )
    return state.message_to_api(message)


async def send_file(state: FakeTelegramState, params: Params, kind: str) -> Any:
    chat = state.chat_for_bot(params.chat_id())
    source = params.require_file(kind)
    captions = caption_fields(params.get_str("caption"), params.get_str("parse_mode"))
    checked_markup(params.get_dict("reply_markup"))
    reply_target(chat, params)
    stored = resolve_file(state, source, kind)
    message = add_bot_message(state, chat, kind, params, **captions, **media_fields(state, stored))
    return state.message_to_api(message)


@method("sendPhoto")
async def send_photo(state: FakeTelegramState, params: Params) -> Any:
    return await send_file(state, params, "photo")


@method("sendDocument")
async def send_document(state: FakeTelegramState, params: Params) -> Any:
    return await send_file(state, params, "document")


@method("sendMediaGroup")
async def send_media_group(state: FakeTelegramState, params: Params) -> Any:
    chat = state.chat_for_bot(params.chat_id())
    items = params.get_list("media") or []
    if not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media: an album holds 2-10 items")
    prepared: list[tuple[str, Upload | str, dict[str, Any]]] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
            raise bad_request("can't parse InputMedia: the fake supports photo and document")
        captions = caption_fields(item.get("caption"), item.get("parse_mode"))
        prepared.append((str(item["type"]), params.input_file(item.get("media")), captions))
    if len({kind for kind, _, _ in prepared}) > 1:
        raise bad_request("documents can't be mixed with other media types")
    reply_target(chat, params)
    stored = [resolve_file(state, source, kind) for kind, source, _ in prepared]
    group = state.new_media_group_id()
    messages = [
        add_bot_message(
            state,
            chat,
            kind,
            params,
            media_group_id=group,
            **captions,
            **media_fields(state, file),
        )
        for (kind, _, captions), file in zip(prepared, stored, strict=True)
    ]
    return [state.message_to_api(message) for message in messages]


@method("sendChatAction")
async def send_chat_action(state: FakeTelegramState, params: Params) -> Any:
    chat = state.chat_for_bot(params.chat_id())
    chat.actions.append(params.require_str("action"))
    state.changes.bump()
    return True


# -- editing and deleting -------------------------------------------------------------------------


def message_to_edit(state: FakeTelegramState, params: Params) -> ChatMessage:
    if params.has("inline_message_id"):
        raise bad_request("inline messages are not supported by the fake")
    chat = state.chat_for_bot(params.chat_id())
    message = chat.messages.get(params.require_int("message_id"))
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def new_markup(message: ChatMessage, params: Params) -> Any:
    """An edit replaces the inline keyboard (none given: removed); a reply keyboard stays."""
    markup = checked_markup(params.get_dict("reply_markup"), inline_only=True)
    if markup is None and message.reply_markup and "inline_keyboard" not in message.reply_markup:
        return message.reply_markup
    return markup


def apply_edit(
    state: FakeTelegramState, message: ChatMessage, name: str, **changes: Any
) -> dict[str, Any]:
    before = {key: getattr(message, key) for key in changes}
    if before == changes:
        raise bad_request(_NOT_MODIFIED)
    message.edits.append({"method": name, "date": int(time.time()), "before": before})
    for key, value in changes.items():
        setattr(message, key, value)
    state.changes.bump()
    return state.message_to_api(message)


@method("editMessageText")
async def edit_message_text(state: FakeTelegramState, params: Params) -> Any:
    message = message_to_edit(state, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text = params.get_str("text") or ""
    parse_mode = params.get_str("parse_mode")
    visible = rendered(text, parse_mode) if text.strip() else ""
    if not visible.strip():
        raise bad_request("message text is empty")
    return apply_edit(
        state,
        message,
        "editMessageText",
        text=text,
        parse_mode=parse_mode,
        visible_text=visible,
        reply_markup=new_markup(message, params),
    )


@method("editMessageCaption")
async def edit_message_caption(state: FakeTelegramState, params: Params) -> Any:
    message = message_to_edit(state, params)
    if message.kind not in ("photo", "document"):
        raise bad_request("there is no caption in the message to edit")
    captions = caption_fields(params.get_str("caption"), params.get_str("parse_mode"))
    return apply_edit(
        state,
        message,
        "editMessageCaption",
        **captions,
        reply_markup=new_markup(message, params),
    )


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(state: FakeTelegramState, params: Params) -> Any:
    message = message_to_edit(state, params)
    return apply_edit(
        state, message, "editMessageReplyMarkup", reply_markup=new_markup(message, params)
    )


@method("deleteMessage")
async def delete_message(state: FakeTelegramState, params: Params) -> Any:
    chat = state.chat_for_bot(params.chat_id())
    message = chat.messages.get(params.require_int("message_id"))
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    message.deleted = True
    state.changes.bump()
    return True


@method("deleteMessages")
async def delete_messages(state: FakeTelegramState, params: Params) -> Any:
    chat = state.chat_for_bot(params.chat_id())
    for message_id in params.get_list("message_ids") or []:
        message = chat.messages.get(int(message_id))
        if message is not None:
            message.deleted = True
    state.changes.bump()
    return True


# -- callbacks and files --------------------------------------------------------------------------


@method("answerCallbackQuery")
async def answer_callback_query(state: FakeTelegramState, params: Params) -> Any:
    record = state.callbacks.get(params.require_str("callback_query_id"))
    if record is None or record.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    record.answer = {
        "text": params.get_str("text"),
        "show_alert": params.get_bool("show_alert"),
        "url": params.get_str("url"),
        "cache_time": params.get_int("cache_time"),
    }
    state.changes.bump()
    return True


@method("getFile")
async def get_file(state: FakeTelegramState, params: Params) -> Any:
    stored = state.files.get(params.require_str("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return stored.api_file()
