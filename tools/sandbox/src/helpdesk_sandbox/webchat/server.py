"""The web chat server: one page on 127.0.0.1 to talk to the bot as a demo employee.

The browser never sees the fake Bot API's control API: this server acts on it for the page and
passes on only what the page shows, and only for demo employees' chats (a person can play any
demo employee, nobody else). The page's API:

GET  /                          the page (self-contained HTML, no CDN)
GET  /api/people                the demo employees
GET  /api/chat/{tid}?after=V    the chat once the fake's version passes V (long poll)
POST /api/chat/{tid}/text       {"text": ...}; "/cmd args" is sent as a command
POST /api/chat/{tid}/button     {"message_id": ..., "callback_data": ...}
POST /api/chat/{tid}/photos     multipart, one to ten "photo" fields: a photo or an album
GET  /api/files/{file_id}       a photo of a chat
GET  /api/mailbox/{tid}         the employee's sandbox mailbox: mail the SMTP sink captured
*    /api/console/...           the InfraManager console (the simulator's API, see console.py)

A button press waits briefly for the bot's callback answer and returns it, so the page can show
it as Telegram does (a toast, or an alert the person closes).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from helpdesk_harness.fake_telegram import FakeTelegramClient
from helpdesk_harness.spool import SmtpSpool

from helpdesk_sandbox.demo import DEMO_PEOPLE, DemoPerson, person_by_telegram_id

MAX_WAIT = 20.0
MAX_PHOTOS = 10
MAX_UPLOAD = 48 * 1024 * 1024

TELEGRAM_KEY = web.AppKey("telegram", FakeTelegramClient)
HTTP_KEY = web.AppKey("http", aiohttp.ClientSession)
BASE_KEY = web.AppKey("base_url", str)
SPOOL_KEY = web.AppKey("spool", SmtpSpool)
CONSOLE_KEY = web.AppKey("console_url", str)
CALLBACK_WAIT = 5.0


def _person(request: web.Request) -> DemoPerson:
    try:
        found = person_by_telegram_id(int(request.match_info["tid"]))
    except ValueError:
        found = None
    if found is None:
        raise web.HTTPNotFound(text="not a demo employee")
    return found


def _button(button: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"text": str(button.get("text", ""))}
    if "callback_data" in button:
        shown["data"] = str(button["callback_data"])
    if "url" in button:
        shown["url"] = str(button["url"])
    return shown


def chat_view(raw: dict[str, Any]) -> dict[str, Any]:
    """A message of the control API as the page needs it (no bytes, no internals)."""
    markup = raw.get("reply_markup") or {}
    return {
        "id": raw["message_id"],
        "from_bot": raw["from_bot"],
        "kind": raw["kind"],
        "text": raw.get("visible_text") or "",
        "file_id": raw.get("file_id") if raw["kind"] in ("photo", "sticker") else None,
        "file_name": raw.get("file_name"),
        "inline": [[_button(b) for b in row] for row in markup.get("inline_keyboard") or []],
        # As in Telegram: taking buttons away does not mark a message edited, new text does.
        "edited": any(
            edit.get("method") != "editMessageReplyMarkup" for edit in raw.get("edits") or []
        ),
    }


def keyboard_view(keyboard: dict[str, Any] | None) -> list[list[str]]:
    """The reply keyboard under the input field, as rows of captions."""
    if not keyboard:
        return []
    rows = keyboard.get("keyboard") or []
    return [[b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in rows]


async def _control_get(request: web.Request, path: str, **query: str) -> dict[str, Any]:
    http = request.app[HTTP_KEY]
    async with http.get(request.app[BASE_KEY] + path, params=query) as response:
        response.raise_for_status()
        answer: dict[str, Any] = await response.json()
        return answer


async def index(request: web.Request) -> web.StreamResponse:
    del request
    page = importlib.resources.files("helpdesk_sandbox.webchat").joinpath("page.html")
    return web.Response(text=page.read_text(encoding="utf-8"), content_type="text/html")


async def people(request: web.Request) -> web.StreamResponse:
    del request
    return web.json_response([p.to_json() for p in DEMO_PEOPLE])


async def chat(request: web.Request) -> web.StreamResponse:
    """The chat as it stands, once anything changed since version `after` (or MAX_WAIT)."""
    person = _person(request)
    after = int(request.query.get("after", "-1"))
    tid = str(person.telegram.id)
    if after >= 0:
        await _control_get(request, "/_test/changes", after=str(after), timeout=str(MAX_WAIT))
    messages = await _control_get(
        request, f"/_test/chats/{tid}/messages", side="all", include_deleted="0", bytes="0"
    )
    state = await _control_get(request, f"/_test/chats/{tid}/state")
    return web.json_response(
        {
            "version": messages["version"],
            "messages": [chat_view(m) for m in messages["messages"]],
            "keyboard": keyboard_view(state.get("reply_keyboard")),
        }
    )


async def send_text(request: web.Request) -> web.StreamResponse:
    person = _person(request)
    text = str((await request.json()).get("text", "")).strip()
    if not text:
        raise web.HTTPBadRequest(text="empty message")
    telegram = request.app[TELEGRAM_KEY]
    if text.startswith("/") and len(text) > 1:
        command, _, args = text[1:].partition(" ")
        await telegram.send_command(person.telegram, command, args.strip() or None)
    else:
        await telegram.send_text(person.telegram, text)
    return web.json_response({"ok": True})


async def press_button(request: web.Request) -> web.StreamResponse:
    person = _person(request)
    body = await request.json()
    telegram = request.app[TELEGRAM_KEY]
    press = await telegram.press_button(
        person.telegram, int(body["message_id"]), str(body["callback_data"])
    )
    # Telegram shows the bot's answer to a press as a toast; wait a moment for it.
    answer = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CALLBACK_WAIT
    while answer is None and loop.time() < deadline:
        answer = await telegram.callback_answer(press.callback_query_id)
        if answer is None:
            await asyncio.sleep(0.1)
    shown = None
    if answer is not None and answer.get("text"):
        shown = {"text": str(answer["text"]), "alert": bool(answer.get("show_alert"))}
    return web.json_response({"ok": True, "answer": shown})


async def send_photos(request: web.Request) -> web.StreamResponse:
    person = _person(request)
    images: list[bytes] = []
    caption: str | None = None
    async for part in await request.multipart():
        if isinstance(part, aiohttp.BodyPartReader) and part.name == "photo":
            images.append(bytes(await part.read()))
        elif isinstance(part, aiohttp.BodyPartReader) and part.name == "caption":
            caption = (await part.text()).strip() or None
    if not 1 <= len(images) <= MAX_PHOTOS:
        raise web.HTTPBadRequest(text=f"send 1 to {MAX_PHOTOS} photos")
    telegram = request.app[TELEGRAM_KEY]
    if len(images) == 1:
        await telegram.send_photo(person.telegram, images[0], caption=caption)
    else:
        await telegram.send_album(person.telegram, images, caption=caption)
    return web.json_response({"ok": True, "photos": len(images)})


async def file_content(request: web.Request) -> web.StreamResponse:
    file_id = request.match_info["file_id"]
    http = request.app[HTTP_KEY]
    async with http.get(f"{request.app[BASE_KEY]}/_test/files/{file_id}") as response:
        if response.status != 200:
            raise web.HTTPNotFound(text="no such file")
        body = await response.read()
        return web.Response(body=body, content_type=response.content_type)


async def mailbox(request: web.Request) -> web.StreamResponse:
    person = _person(request)
    spool = request.app[SPOOL_KEY]
    mails = await asyncio.to_thread(spool.to, person.email)
    return web.json_response(
        {
            "address": person.email,
            "mails": [
                {
                    "id": mail.name,
                    "subject": mail.subject,
                    "date": mail.date,
                    "text": mail.text,
                    "code": mail.code,
                }
                for mail in reversed(mails)
            ],
        }
    )


async def console(request: web.Request) -> web.StreamResponse:
    """Pass a console request on to the simulator's API, as it is."""
    base = request.app[CONSOLE_KEY]
    if not base:
        raise web.HTTPNotFound(text="this sandbox runs without the InfraManager simulator")
    http = request.app[HTTP_KEY]
    headers = {}
    if "Content-Type" in request.headers:
        headers["Content-Type"] = request.headers["Content-Type"]
    async with http.request(
        request.method,
        base.rstrip("/") + "/" + request.match_info["tail"],
        data=await request.read() if request.can_read_body else None,
        headers=headers,
    ) as response:
        return web.Response(
            status=response.status,
            body=await response.read(),
            content_type=response.content_type,
        )


def create_app(telegram_base_url: str, spool_dir: Path, console_url: str = "") -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD)
    app[BASE_KEY] = telegram_base_url.rstrip("/")
    app[SPOOL_KEY] = SmtpSpool(spool_dir)
    app[CONSOLE_KEY] = console_url

    async def clients(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=MAX_WAIT + 10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            app[HTTP_KEY] = http
            telegram = FakeTelegramClient(app[BASE_KEY])
            app[TELEGRAM_KEY] = await telegram.open()
            try:
                yield
            finally:
                await telegram.close()

    app.cleanup_ctx.append(clients)
    app.router.add_get("/", index)
    app.router.add_get("/api/people", people)
    app.router.add_get("/api/chat/{tid}", chat)
    app.router.add_post("/api/chat/{tid}/text", send_text)
    app.router.add_post("/api/chat/{tid}/button", press_button)
    app.router.add_post("/api/chat/{tid}/photos", send_photos)
    app.router.add_get("/api/files/{file_id}", file_content)
    app.router.add_get("/api/mailbox/{tid}", mailbox)
    app.router.add_route("*", "/api/console/{tail:.*}", console)
    return app


async def serve(telegram_base_url: str, spool_dir: Path, port: int, console_url: str = "") -> None:
    runner = web.AppRunner(
        create_app(telegram_base_url, spool_dir, console_url),
        handle_signals=False,
        access_log=None,
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        bound = runner.addresses[0][1]
        print(f"webchat listening on http://127.0.0.1:{bound}/", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpdesk_sandbox.webchat")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--telegram", required=True, help="base URL of the fake Bot API")
    parser.add_argument("--spool", type=Path, required=True, help="the SMTP sink's spool dir")
    parser.add_argument("--console", default="", help="the InfraManager console's API URL")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    asyncio.run(serve(args.telegram, args.spool, args.port, args.console))
