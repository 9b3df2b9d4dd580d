"""The Telegram side of the process, run as a background job of the FastStream app.

Waits until the Bot API answers (a Telegram outage delays the bot, it does not stop the service),
publishes the command menu, then receives updates by long polling (default) or by webhook (an
aiohttp server checking Telegram's secret-token header). `stop()` (or cancelling the job) stops
receiving and lets updates in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import BotCommand
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from helpdesk_gateway.bot.dispatcher import GatewayDispatcher
from helpdesk_gateway.i18n import DEFAULT_LOCALE, LOCALES, I18n
from helpdesk_gateway.settings import GatewaySettings

log = logging.getLogger("helpdesk.gateway.telegram")

COMMANDS = ("new", "tickets", "help", "cancel", "start")
DRAIN_SECONDS = 10.0
MAX_WAIT_SECONDS = 60.0


class TelegramRunner:
    def __init__(
        self, bot: Bot, dispatcher: GatewayDispatcher, settings: GatewaySettings, i18n: I18n
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.settings = settings
        self.i18n = i18n
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._finished: asyncio.Event | None = None  # None: never ran; set: run() returned

    async def run(self) -> None:
        self._stop.clear()
        finished = self._finished = asyncio.Event()
        try:
            if not await self.wait_for_api():
                return  # stopped before Telegram ever answered
            await self.set_commands()
            if self.settings.mode == "webhook":
                await self.serve_webhook()
            else:
                await self.poll()
        finally:
            finished.set()

    async def stop(self) -> None:
        """Stop receiving updates and wait for those in flight to finish."""
        finished = self._finished
        if finished is None or finished.is_set():
            return
        self._stop.set()
        await finished.wait()

    async def _until_stopped(self, work: asyncio.Task[None] | None = None) -> None:
        """Wait for stop() (or for `work` to end by itself)."""
        stop = asyncio.create_task(self._stop.wait())
        waiting: list[asyncio.Future[Any]] = [stop] if work is None else [stop, work]
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()

    async def wait_for_api(self) -> bool:
        """Wait until the Bot API answers getMe; False if stop() came first."""
        delay = 1.0
        while True:
            try:
                me = await self.bot.me()
            except TelegramUnauthorizedError:
                log.error("Telegram refused the bot token; check GATEWAY_BOT_TOKEN")
                raise
            except (TelegramAPIError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning(
                    "Telegram Bot API not reachable yet",
                    extra={"error": type(exc).__name__, "retry_in": delay},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                if self._stop.is_set():
                    return False
                delay = min(delay * 2, MAX_WAIT_SECONDS)
                continue
            log.info("Telegram Bot API reachable", extra={"bot": me.username})
            return True

    async def set_commands(self) -> None:
        for locale in LOCALES:
            t = self.i18n.texts(locale)
            commands = [BotCommand(command=c, description=t(f"command-{c}")) for c in COMMANDS]
            try:
                await self.bot.set_my_commands(
                    commands, language_code=None if locale == DEFAULT_LOCALE else locale
                )
            except TelegramAPIError as exc:
                log.warning("could not set the command menu", extra={"error": str(exc)})

    async def poll(self) -> None:
        # getUpdates is refused while a webhook is set (e.g. after switching modes).
        await self.bot.delete_webhook(drop_pending_updates=False)
        # Not aiogram's start_polling: it confirms an update as soon as it is received, so a
        # crash mid-update would lose it. GatewayDispatcher.poll confirms it once handled.
        polling = asyncio.create_task(
            self.dispatcher.poll_updates(
                self.bot,
                polling_timeout=self.settings.polling_timeout_seconds,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
        )
        self.ready.set()
        try:
            await self._until_stopped(polling)
            if polling.done():
                await polling  # ended by itself: surface its error to the job guard
        finally:
            if not polling.done():
                polling.cancel()  # only the long poll: updates being handled go on
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await polling
            await self.dispatcher.drain(DRAIN_SECONDS)

    async def serve_webhook(self) -> None:
        settings = self.settings
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        handler = SimpleRequestHandler(self.dispatcher, self.bot, secret_token=secret)
        app = web.Application()
        # Registered by hand: handler.register() would close the bot session on shutdown.
        app.router.add_post(settings.webhook_path, handler.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
            await self.bot.set_webhook(
                settings.webhook_url or "",
                secret_token=secret,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                drop_pending_updates=False,
            )
            log.info("webhook listening", extra={"path": settings.webhook_path})
            self.ready.set()
            await self._until_stopped()
        finally:
            await runner.cleanup()
            await self.dispatcher.drain(DRAIN_SECONDS)
