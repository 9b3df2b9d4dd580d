"""The inbox as a FastStream app: `faststream run helpdesk_inbox.app:create_app --factory`."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from faststream import FastStream
from helpdesk_contracts.base import utc_now
from helpdesk_runtime.config import load_settings
from helpdesk_runtime.lease import Lease
from helpdesk_runtime.outbox import OutboxRelay
from helpdesk_runtime.service import (
    ServiceRuntime,
    create_runtime,
    create_service_app,
    run,
)

from helpdesk_inbox.adapters.links import LinkStore
from helpdesk_inbox.adapters.pop3 import Pop3Mailbox
from helpdesk_inbox.adapters.quarantine import QuarantineStore
from helpdesk_inbox.adapters.seen import SeenStore
from helpdesk_inbox.consumers import SERVICE, TRANSIENT, build_router
from helpdesk_inbox.errors import RulesError
from helpdesk_inbox.poller import Poller, PollOptions
from helpdesk_inbox.process import Clock, MailProcessor
from helpdesk_inbox.rules import load_rules
from helpdesk_inbox.settings import InboxSettings

logger = logging.getLogger("helpdesk.inbox.app")
POLL_LEASES = "inbox_poll_lease"
"""One lease per mailbox (its `_id` is the mailbox name): which replica polls it."""


@dataclass(frozen=True, slots=True)
class InboxService:
    """The app and the parts tests and the operator CLI reach into."""

    app: FastStream
    runtime: ServiceRuntime
    links: LinkStore
    quarantine: QuarantineStore
    seen: SeenStore
    processor: MailProcessor
    poller: Poller
    relay: OutboxRelay


def build_service(settings: InboxSettings, *, clock: Clock = utc_now) -> InboxService:
    runtime = create_runtime(SERVICE, settings.infra)
    try:
        rules = load_rules(settings.rules_file)
    except RulesError as exc:  # a bad rules file stops the start, loudly
        runtime.log.error("cannot load the parser rules: %s", exc)
        raise
    links = LinkStore(runtime.db)
    quarantine = QuarantineStore(runtime.db)
    seen = SeenStore(runtime.db)
    relay = OutboxRelay(runtime.publisher, [links.collection, quarantine.collection])
    processor = MailProcessor(
        links,
        quarantine,
        rules,
        senders=settings.sender_policy(),
        match_grace=timedelta(seconds=settings.match_grace_seconds),
        clock=clock,
    )
    poller = Poller(
        Pop3Mailbox(settings.pop3()),
        seen,
        processor,
        PollOptions(
            mailbox=settings.mailbox,
            max_messages=settings.max_messages_per_poll,
            max_message_bytes=settings.max_message_bytes,
            delete=settings.delete_after_processing,
            confirm_timeout=settings.confirm_timeout_seconds,
            baseline_existing=settings.baseline_existing,
        ),
        on_written=relay.notify,
        metrics=runtime.metrics,
        clock=clock,
        lease=Lease(runtime.db[POLL_LEASES], settings.mailbox, duration=settings.poll_lease),
    )
    runtime.jobs.append(relay.run)
    runtime.stoppers.append(relay.stop)
    if settings.poll_enabled:

        async def poll_mailbox() -> None:
            await poller.poll_forever(settings.poll_interval_seconds)

        runtime.jobs.append(poll_mailbox)

    async def setup() -> None:
        await links.create_indexes()
        await quarantine.create_indexes()
        try:
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, reload_rules, processor, settings.rules_file
            )
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests)
            runtime.log.debug("SIGHUP not available; rules are read at start only")

    app = create_service_app(
        runtime, routers=[build_router(links, runtime.retry(TRANSIENT))], setup=setup
    )
    return InboxService(app, runtime, links, quarantine, seen, processor, poller, relay)


def reload_rules(processor: MailProcessor, path: Path | None) -> bool:
    """Read the rules file again (SIGHUP); a bad file keeps the rules in use, loudly."""
    try:
        rules = load_rules(path)
    except RulesError as exc:
        logger.error("rules not reloaded, the old ones stay in use: %s", exc)
        return False
    processor.rules = rules
    logger.info("rules reloaded", extra={"rules": rules.source})
    return True


def create_app(settings: InboxSettings | None = None) -> FastStream:
    """Build the app; settings come from the environment unless given (tests pass them)."""
    return build_service(settings or load_settings(InboxSettings, program="helpdesk-inbox")).app


def main() -> None:
    run(create_app)
