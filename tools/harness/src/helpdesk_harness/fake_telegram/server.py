"""The fake Bot API as an aiohttp app, and `FakeTelegramServer`, which runs it in a thread.

The same app serves both modes: in-process (this module, a background thread with its own event
loop) and as a process (`python -m helpdesk_harness.fake_telegram`). Tests always talk to it over
HTTP through `FakeTelegramClient`, so there is one code path and no state shared across threads.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from helpdesk_harness.fake_telegram.botapi import call_method
from helpdesk_harness.fake_telegram.client import FakeTelegramClient
from helpdesk_harness.fake_telegram.control import STATE_KEY, add_control_routes
from helpdesk_harness.fake_telegram.params import Params, read_request
from helpdesk_harness.fake_telegram.state import ApiError, FakeTelegramState

DEFAULT_BOT_USERNAME = "helpdesk_test_bot"
DEFAULT_BOT_NAME = "Helpdesk (test)"
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


def new_token() -> str:
    """A token shaped like Telegram's: `<bot id>:<35 url-safe characters>`."""
    return f"{7_000_000_000 + secrets.randbelow(10**9)}:{secrets.token_urlsafe(26)[:35]}"


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def handle_bot_api(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    name = request.match_info["method"]
    if request.match_info["token"] != state.token:
        state.record_call(name, {}, ok=False, error_code=401)
        return _json(_UNAUTHORIZED, status=401)
    try:
        values, uploads = await read_request(request)
    except ApiError as error:
        return _json(error.body(), status=error.error_code)
    except ValueError:
        return _json(ApiError(400, "Bad Request: can't parse request body").body(), status=400)
    status, body = await call_method(state, name, Params(values, uploads))
    return _json(body, status=status)


async def handle_file(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    if request.match_info["token"] != state.token:
        return _json(_UNAUTHORIZED, status=401)
    stored = state.files_by_path.get(request.match_info["path"])
    if stored is None:
        return _json({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
    mime_type = stored.mime_type or "application/octet-stream"
    return web.Response(body=stored.data, content_type=mime_type)


def create_app(state: FakeTelegramState) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", "/bot{token}/{method}", handle_bot_api)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
    add_control_routes(app)
    app.on_shutdown.append(state.close)
    return app


async def serve(
    state: FakeTelegramState,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    on_ready: Callable[[str], None],
) -> None:
    """Serve until `stop` is set; `on_ready` gets the base URL once the port is bound."""
    runner = web.AppRunner(
        create_app(state), handle_signals=False, access_log=None, shutdown_timeout=2.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        url_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        on_ready(f"http://{url_host}:{bound_port}")
        await stop.wait()
    finally:
        await runner.cleanup()


class FakeTelegramServer:
    """The fake Bot API on a free port, served from a background thread with its own loop.

    Use as `with FakeTelegramServer() as server:` (or start()/stop()). Point aiogram at
    `server.base_url` with `server.token`; drive and inspect it with `server.client()`, an
    async `FakeTelegramClient` that talks HTTP, so it works from any test event loop.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_NAME,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token or new_token()
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self._base_url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`: give it to `TelegramAPIServer.from_base`."""
        if self._base_url is None:
            raise RuntimeError("the fake Telegram server is not running")
        return self._base_url

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    def client(self) -> FakeTelegramClient:
        return FakeTelegramClient(self.base_url)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="fake-telegram", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=15):
            raise RuntimeError("the fake Telegram server did not start within 15 s")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("the fake Telegram server failed to start") from self._error

    def stop(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("the fake Telegram server thread did not stop")
        self._thread = self._loop = self._stop = None
        self._base_url = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to start(); a thread has no one else to tell
            self._error = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        state = FakeTelegramState(
            token=self.token, bot_username=self.bot_username, bot_first_name=self.bot_first_name
        )
        await serve(state, host=self.host, port=self.port, stop=self._stop, on_ready=self._ready_at)

    def _ready_at(self, base_url: str) -> None:
        self._base_url = base_url
        self._ready.set()

    def __enter__(self) -> FakeTelegramServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
