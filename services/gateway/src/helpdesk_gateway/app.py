"""The gateway service as a FastStream app (`helpdesk-gateway`, or `faststream run
helpdesk_gateway.app:create_app --factory`).

One process runs both sides: FastStream consumes auth, ticket and admin messages; aiogram talks to
Telegram (polling or webhook) as a background job. Background jobs: the Telegram runner, the
outbox relay (TicketSubmitted, TicketRated), the notifier (messages caused by events) and the
scheduler (rating reminders).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.memory import SimpleEventIsolation
from faststream import FastStream
from helpdesk_contracts.base import utc_now
from helpdesk_runtime.config import load_settings
from helpdesk_runtime.outbox import OutboxRelay
from helpdesk_runtime.service import (
    ServiceRuntime,
    create_runtime,
    create_service_app,
    run,
)
from PIL import Image

from helpdesk_gateway.accounts import Accounts
from helpdesk_gateway.adapters import notifications, tickets, updates, users
from helpdesk_gateway.adapters.attachments import AttachmentStore
from helpdesk_gateway.adapters.conversation import ConversationStore
from helpdesk_gateway.adapters.drafts import AbandonedDrafts
from helpdesk_gateway.bot.albums import AlbumCollector
from helpdesk_gateway.bot.answers import LateCallbackAnswers
from helpdesk_gateway.bot.dispatcher import GatewayDispatcher
from helpdesk_gateway.bot.fsm import FsmAccess
from helpdesk_gateway.bot.limits import OutgoingLimitMiddleware
from helpdesk_gateway.bot.middlewares import UserContextMiddleware
from helpdesk_gateway.bot.responses import PinnedResponseModels
from helpdesk_gateway.bot.runner import TelegramRunner
from helpdesk_gateway.bot.storage import FSM_COLLECTION, SharedClientStorage
from helpdesk_gateway.comment_files import CommentFiles
from helpdesk_gateway.consumers import TRANSIENT, build_consumers
from helpdesk_gateway.context import Clock, GatewayContext
from helpdesk_gateway.conversation import Conversation
from helpdesk_gateway.domain.catalogue import CatalogueHolder
from helpdesk_gateway.domain.drafts import DraftLimits
from helpdesk_gateway.domain.limiter import OutgoingLimiter
from helpdesk_gateway.handlers import build_router
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.lifecycle import TicketLifecycle
from helpdesk_gateway.messages import Messages
from helpdesk_gateway.notifications import Notifications
from helpdesk_gateway.notifier import Notifier
from helpdesk_gateway.ratings import Ratings
from helpdesk_gateway.scheduler import Scheduler
from helpdesk_gateway.settings import GatewaySettings
from helpdesk_gateway.ticket_wizard import TicketWizard

SERVICE = "gateway"


@dataclass
class UseCases:
    """The gateway's use cases, handed to aiogram as workflow data: a handler names the one it
    needs in its signature (`wizard: TicketWizard`)."""

    wizard: TicketWizard
    ratings: Ratings
    conversation: Conversation
    notifications: Notifications
    lifecycle: TicketLifecycle
    comment_files: CommentFiles
    messages: Messages

    def workflow_data(self) -> dict[str, object]:
        return {
            "wizard": self.wizard,
            "ratings": self.ratings,
            "conversation": self.conversation,
            "comment_files": self.comment_files,
        }


@dataclass
class Gateway:
    """The assembled service; tests reach its parts through it."""

    runtime: ServiceRuntime
    ctx: GatewayContext
    use: UseCases
    bot: Bot
    dispatcher: GatewayDispatcher
    telegram: TelegramRunner
    notifier: Notifier
    scheduler: Scheduler
    app: FastStream


def create_bot(settings: GatewaySettings, middleware: OutgoingLimitMiddleware) -> Bot:
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_base),
        timeout=settings.telegram_request_timeout_seconds,
    )
    session.middleware(middleware)
    session.middleware(LateCallbackAnswers())
    session.middleware(PinnedResponseModels())
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )


def build_use_cases(ctx: GatewayContext) -> UseCases:
    """The use cases, each given only what it uses."""
    settings, clock = ctx.settings, ctx.clock
    messages = Messages(ctx.i18n)
    limits = DraftLimits(
        description_min=settings.description_min_length,
        description_max=settings.description_max_length,
        location_max=settings.location_max_length,
        max_photos=settings.max_photos,
    )
    thread = ConversationStore(ctx.tickets.collection)
    return UseCases(
        wizard=TicketWizard(
            ctx.catalogue, ctx.tickets, ctx.attachments, ctx.users, limits, clock, ctx.relay.notify
        ),
        ratings=Ratings(
            tickets=ctx.tickets,
            users=ctx.users,
            queue=ctx.notifications,
            messages=messages,
            clock=clock,
            wake_notifier=ctx.wake_notifier,
            wake_relay=ctx.relay.notify,
            remind_after=timedelta(seconds=settings.rating_reminder_after_seconds),
            comment_timeout=timedelta(seconds=settings.rating_comment_timeout_seconds),
        ),
        conversation=Conversation(ctx.tickets, thread, clock, ctx.relay.notify),
        notifications=Notifications(
            tickets=ctx.tickets,
            users=ctx.users,
            thread=thread,
            queue=ctx.notifications,
            messages=messages,
            clock=clock,
            wake_notifier=ctx.wake_notifier,
            waiting_reminder_after=timedelta(seconds=settings.waiting_reminder_after_seconds),
        ),
        lifecycle=TicketLifecycle(
            ctx.tickets, ctx.users, ctx.notifications, messages, clock, ctx.wake_notifier
        ),
        comment_files=CommentFiles(settings, ctx.attachments, clock),
        messages=messages,
    )


def _outgoing_limits(
    settings: GatewaySettings, user_repo: users.UserRepository, clock: Clock
) -> OutgoingLimitMiddleware:
    async def on_blocked(chat_id: int) -> None:
        await user_repo.set_reachable(chat_id, False, clock())

    limiter = OutgoingLimiter(
        per_chat_rate=settings.per_chat_rate,
        per_chat_burst=settings.per_chat_burst,
        global_rate=settings.global_rate,
        global_burst=settings.global_burst,
    )
    return OutgoingLimitMiddleware(
        limiter,
        attempts=settings.send_attempts,
        retry_after_max=settings.retry_after_max_seconds,
        on_blocked=on_blocked,
        sleep=asyncio.sleep,
    )


def _context(
    settings: GatewaySettings,
    runtime: ServiceRuntime,
    user_repo: users.UserRepository,
    attachments: AttachmentStore,
    notifier: Notifier,
    clock: Clock,
) -> GatewayContext:
    db = runtime.db
    return GatewayContext(
        settings=settings,
        i18n=I18n.load(),
        catalogue=CatalogueHolder(settings.catalogue_path),
        users=user_repo,
        tickets=tickets.TicketRepository(db[tickets.COLLECTION]),
        attachments=attachments,
        notifications=notifier.queue,
        updates=updates.UpdateLog(
            db[updates.COLLECTION], ttl_seconds=settings.update_dedup_ttl_seconds
        ),
        publisher=runtime.publisher,
        relay=OutboxRelay(runtime.publisher, [db[tickets.COLLECTION]]),
        clock=clock,
        timezone=ZoneInfo(settings.display_timezone),
        wake_notifier=notifier.notify,
    )


def _dispatcher(runtime: ServiceRuntime, ctx: GatewayContext, use: UseCases) -> GatewayDispatcher:
    """aiogram's dispatcher; what handlers and filters take by name is its workflow data."""
    settings = ctx.settings
    dispatcher = GatewayDispatcher(
        update_log=ctx.updates,
        albums=AlbumCollector(settings.album_quiet_seconds),
        clock=ctx.clock,
        storage=SharedClientStorage(runtime.mongo, settings.infra.mongo_db),
        events_isolation=SimpleEventIsolation(),
        ctx=ctx,
        i18n=ctx.i18n,
        tickets=ctx.tickets,
        **use.workflow_data(),
    )
    dispatcher.update.outer_middleware(UserContextMiddleware(ctx))
    dispatcher.include_router(build_router())
    return dispatcher


def _add_jobs(
    runtime: ServiceRuntime,
    relay: OutboxRelay,
    notifier: Notifier,
    scheduler: Scheduler,
    telegram: TelegramRunner,
) -> None:
    # Named jobs: the "started" log line lists them.
    async def outbox_relay() -> None:
        await relay.run()

    async def notifications_sender() -> None:
        await notifier.run()

    async def rating_scheduler() -> None:
        await scheduler.run()

    async def telegram_updates() -> None:
        await telegram.run()

    runtime.jobs += [outbox_relay, notifications_sender, rating_scheduler, telegram_updates]
    # Updates in flight finish first, then the relay's last pass publishes what they wrote.
    runtime.stoppers += [telegram.stop, relay.stop]


async def _ensure_indexes(ctx: GatewayContext) -> None:
    await ctx.users.ensure_indexes()
    await ctx.tickets.ensure_indexes()
    await ctx.attachments.ensure_indexes()
    await ctx.notifications.ensure_indexes()
    await ctx.updates.ensure_indexes()


def build_gateway(settings: GatewaySettings, *, clock: Clock = utc_now) -> Gateway:
    # Pillow's own bomb check, in addition to the explicit one in domain/photos.py.
    Image.MAX_IMAGE_PIXELS = settings.photo_max_pixels
    runtime = create_runtime(SERVICE, settings.infra, settings=settings)
    db = runtime.db
    user_repo = users.UserRepository(db[users.COLLECTION])
    bot = create_bot(settings, _outgoing_limits(settings, user_repo, clock))
    queue = notifications.NotificationQueue(db[notifications.COLLECTION])
    attachments = AttachmentStore(db)
    notifier = Notifier(
        queue, bot, clock, workers=settings.notification_workers, files=attachments.read
    )
    ctx = _context(settings, runtime, user_repo, attachments, notifier, clock)
    use = build_use_cases(ctx)
    dispatcher = _dispatcher(runtime, ctx, use)
    telegram = TelegramRunner(bot, dispatcher, settings, ctx.i18n)
    drafts = AbandonedDrafts(db[FSM_COLLECTION], ctx.attachments)
    scheduler = Scheduler(ctx, use.ratings, use.notifications, drafts)
    accounts = Accounts(
        users=ctx.users,
        tickets=ctx.tickets,
        photos=ctx.attachments,
        fsm=FsmAccess(dispatcher, bot.id),
        queue=ctx.notifications,
        messages=use.messages,
        clock=clock,
        wake_notifier=ctx.wake_notifier,
        erasure_grace=timedelta(days=settings.personal_data_grace_days),
    )
    _add_jobs(runtime, ctx.relay, notifier, scheduler, telegram)
    consumers = build_consumers(
        ctx, accounts, use.lifecycle, use.notifications, runtime.retry(TRANSIENT)
    )
    app = create_service_app(
        runtime,
        routers=[consumers],
        setup=functools.partial(_ensure_indexes, ctx),
        teardown=bot.session.close,
    )
    return Gateway(runtime, ctx, use, bot, dispatcher, telegram, notifier, scheduler, app)


def create_app(settings: GatewaySettings | None = None, *, clock: Clock = utc_now) -> FastStream:
    """Build the app; settings come from the environment unless given (tests pass them)."""
    return build_gateway(settings or GatewaySettings(), clock=clock).app


def main() -> None:
    # A missing token or a bad value exits 78 after one log line naming every problem.
    run(lambda: create_app(load_settings(GatewaySettings, program="helpdesk-gateway")))
