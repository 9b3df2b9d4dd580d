"""The test-side control API under `/_test/...`: act as users, read what the bot did, inject faults.

Every route speaks JSON (bytes as base64) except `GET /_test/files/{file_id}`, which returns the
raw file so a web page can show it. A request the fake cannot honour answers 400 {"error": ...}.
`FakeTelegramClient` is the Python face of these routes. A user is {"id", "first_name",
"username", "last_name", "language_code"}; messages are `ChatMessage.to_json()`.

GET  /_test/info                           {token, bot}
POST /_test/users                          {user}: open the chat without a message
POST /_test/send_text                      {user, text, reply_to?}         -> UserMessage
POST /_test/send_command                   {user, command, args?}          -> UserMessage
POST /_test/send_photo                     {user, image_b64, caption?, media_group_id?}
POST /_test/send_album                     {user, images_b64: [...], caption?} -> {messages}
POST /_test/send_document                  {user, data_b64, file_name, mime_type, caption?}
POST /_test/send_sticker                   {user, emoji?}
POST /_test/press_button                   {user, message_id, callback_data, check_button?}
POST /_test/inject_update                  {update}                        -> {update_id}
GET  /_test/chats                          {version, chats: [{chat_id, user, blocked, ...}]}
GET  /_test/chats/{id}/messages            ?side=bot|user|all &include_deleted=0|1 &bytes=1|0
GET  /_test/chats/{id}/state               {reply_keyboard, actions, blocked, exists}
GET  /_test/calls?method=                  {version, calls}
GET  /_test/callback_answers/{query_id}    {answer}
GET  /_test/updates/pending                {pending: [{update, delivered}]}
GET  /_test/commands?scope=&language_code= {commands}
GET  /_test/webhook                        {webhook}
GET  /_test/files/{file_id}                raw bytes
GET  /_test/changes?after=V&timeout=S      long poll until the version passes V -> {version}
POST /_test/fail_next                      {method, error_code, retry_after?, times?,
                                            description?, chat_id?}
POST /_test/block_chat | /_test/unblock_chat  {chat_id}
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from helpdesk_harness.fake_telegram import users
from helpdesk_harness.fake_telegram.models import User, b64decode
from helpdesk_harness.fake_telegram.state import ControlError, FakeTelegramState

STATE_KEY = web.AppKey("fake_telegram_state", FakeTelegramState)
MAX_WAIT = 60.0

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(route: Route) -> Route:
    @functools.wraps(route)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await route(request)
        except (ControlError, KeyError, ValueError, TypeError) as error:
            return web.json_response({"error": f"{type(error).__name__}: {error}"}, status=400)

    return wrapper


def _state(request: web.Request) -> FakeTelegramState:
    return request.app[STATE_KEY]


async def _body(request: web.Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise ControlError("the request body must be a JSON object")
    return body


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes")


# -- acting as users ------------------------------------------------------------------------------


async def info(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    return web.json_response({"token": state.token, "bot": state.get_me()})


async def add_user(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    _state(request).ensure_chat(User.from_json(body["user"]))
    return web.json_response({})


async def send_text(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    sent = users.send_text(
        _state(request),
        User.from_json(body["user"]),
        str(body["text"]),
        reply_to=body.get("reply_to"),
    )
    return web.json_response(sent.to_json())


async def send_command(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    text = "/" + str(body["command"]).lstrip("/")
    if body.get("args"):
        text += " " + str(body["args"])
    sent = users.send_text(_state(request), User.from_json(body["user"]), text)
    return web.json_response(sent.to_json())


async def send_photo(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    sent = users.send_photo(
        _state(request),
        User.from_json(body["user"]),
        b64decode(body["image_b64"]),
        caption=body.get("caption"),
        media_group_id=body.get("media_group_id"),
    )
    return web.json_response(sent.to_json())


async def send_album(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    sent = users.send_album(
        _state(request),
        User.from_json(body["user"]),
        [b64decode(image) for image in body["images_b64"]],
        caption=body.get("caption"),
    )
    return web.json_response({"messages": [message.to_json() for message in sent]})


async def send_document(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    sent = users.send_document(
        _state(request),
        User.from_json(body["user"]),
        b64decode(body["data_b64"]),
        file_name=str(body["file_name"]),
        mime_type=str(body["mime_type"]),
        caption=body.get("caption"),
    )
    return web.json_response(sent.to_json())


async def send_sticker(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    sent = users.send_sticker(
        _state(request), User.from_json(body["user"]), emoji=str(body.get("emoji") or "👍")
    )
    return web.json_response(sent.to_json())


async def press_button(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    pressed = users.press_button(
        _state(request),
        User.from_json(body["user"]),
        int(body["message_id"]),
        str(body["callback_data"]),
        check_button=bool(body.get("check_button", True)),
    )
    return web.json_response(pressed.to_json())


async def inject_update(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    update = body["update"]
    if not isinstance(update, dict):
        raise ControlError("update must be a JSON object")
    return web.json_response({"update_id": users.inject_update(_state(request), update)})


# -- reading what happened ------------------------------------------------------------------------


async def chats(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    listed = [
        {
            "chat_id": chat_id,
            "user": chat.user.to_json(),
            "blocked": chat.blocked,
            "message_count": len(chat.messages),
        }
        for chat_id, chat in state.chats.items()
    ]
    return web.json_response({"version": state.changes.version, "chats": listed})


async def chat_messages(request: web.Request) -> web.StreamResponse:
    """Messages of one chat; `?side=bot|user|all` (bot), `include_deleted`, `bytes` (1)."""
    state = _state(request)
    chat = state.chats.get(int(request.match_info["chat_id"]))
    side = request.query.get("side", "bot")
    if side not in ("bot", "user", "all"):
        raise ControlError("side must be bot, user or all")
    include_deleted = _flag(request, "include_deleted", False)
    include_bytes = _flag(request, "bytes", True)
    messages = [
        message.to_json(include_bytes=include_bytes)
        for message in (chat.messages.values() if chat is not None else [])
        if (side == "all" or message.from_bot == (side == "bot"))
        and (include_deleted or not message.deleted)
    ]
    return web.json_response({"version": state.changes.version, "messages": messages})


async def chat_state(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    chat = state.chats.get(int(request.match_info["chat_id"]))
    return web.json_response(
        {
            "version": state.changes.version,
            "exists": chat is not None,
            "reply_keyboard": chat.reply_keyboard if chat is not None else None,
            "actions": chat.actions if chat is not None else [],
            "blocked": chat.blocked if chat is not None else False,
        }
    )


async def calls(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    wanted = request.query.get("method", "").lower()
    listed = [call.to_json() for call in state.calls if not wanted or call.method.lower() == wanted]
    return web.json_response({"version": state.changes.version, "calls": listed})


async def callback_answer(request: web.Request) -> web.StreamResponse:
    record = _state(request).callbacks.get(request.match_info["query_id"])
    if record is None:
        raise ControlError(f"no callback query {request.match_info['query_id']}")
    return web.json_response({"answer": record.answer})


async def pending_updates(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    listed = [
        {"update": pending.update, "delivered": pending.delivered} for pending in state.pending
    ]
    return web.json_response({"version": state.changes.version, "pending": listed})


async def commands(request: web.Request) -> web.StreamResponse:
    scope = json.loads(request.query.get("scope") or '{"type": "default"}')
    key = f"{json.dumps(scope, sort_keys=True)}|{request.query.get('language_code', '')}"
    return web.json_response({"commands": _state(request).commands.get(key, [])})


async def webhook(request: web.Request) -> web.StreamResponse:
    return web.json_response({"webhook": _state(request).webhook})


async def file_content(request: web.Request) -> web.StreamResponse:
    stored = _state(request).files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(f"no file {request.match_info['file_id']}")
    mime_type = stored.mime_type or "application/octet-stream"
    return web.Response(body=stored.data, content_type=mime_type)


async def changes(request: web.Request) -> web.StreamResponse:
    """Long poll: answers once the fake's version exceeds `after`, or after `timeout` seconds."""
    state = _state(request)
    after = int(request.query["after"])
    deadline = asyncio.get_running_loop().time() + min(float(request.query["timeout"]), MAX_WAIT)
    while state.changes.version <= after and not state.closing:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        await state.changes.wait(remaining)
    return web.json_response({"version": state.changes.version})


# -- faults ---------------------------------------------------------------------------------------


async def fail_next(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    _state(request).add_fail_rule(
        str(body["method"]),
        error_code=int(body.get("error_code", 429)),
        retry_after=body.get("retry_after"),
        times=int(body.get("times", 1)),
        description=body.get("description"),
        chat_id=body.get("chat_id"),
    )
    return web.json_response({})


def _set_blocked(blocked: bool) -> Route:
    async def route(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        state = _state(request)
        chat_id = int(body["chat_id"])
        chat = state.chats.get(chat_id)
        if chat is None:
            raise ControlError(f"no chat {chat_id}: a user must write (or be added) first")
        chat.blocked = blocked
        state.changes.bump()
        return web.json_response({})

    return route


def add_control_routes(app: web.Application) -> None:
    get: list[tuple[str, Route]] = [
        ("/_test/info", info),
        ("/_test/chats", chats),
        ("/_test/chats/{chat_id}/messages", chat_messages),
        ("/_test/chats/{chat_id}/state", chat_state),
        ("/_test/calls", calls),
        ("/_test/callback_answers/{query_id}", callback_answer),
        ("/_test/updates/pending", pending_updates),
        ("/_test/commands", commands),
        ("/_test/webhook", webhook),
        ("/_test/files/{file_id}", file_content),
        ("/_test/changes", changes),
    ]
    post: list[tuple[str, Route]] = [
        ("/_test/users", add_user),
        ("/_test/send_text", send_text),
        ("/_test/send_command", send_command),
        ("/_test/send_photo", send_photo),
        ("/_test/send_album", send_album),
        ("/_test/send_document", send_document),
        ("/_test/send_sticker", send_sticker),
        ("/_test/press_button", press_button),
        ("/_test/inject_update", inject_update),
        ("/_test/fail_next", fail_next),
        ("/_test/block_chat", _set_blocked(True)),
        ("/_test/unblock_chat", _set_blocked(False)),
    ]
    for path, route in get:
        app.router.add_get(path, _answer(route))
    for path, route in post:
        app.router.add_post(path, _answer(route))
