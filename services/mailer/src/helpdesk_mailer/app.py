"""The mailer as a FastStream app: `faststream run helpdesk_mailer.app:create_app --factory`.

Start-up needs RabbitMQ and MongoDB, not the SMTP relay: the first message opens the connection,
and a relay that is down only delays mail (retried), it never stops the service.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from faststream import FastStream
from helpdesk_runtime.config import load_settings
from helpdesk_runtime.outbox import OutboxRelay
from helpdesk_runtime.service import create_runtime, create_service_app, run

from helpdesk_mailer.adapters.attachments import AttachmentReader
from helpdesk_mailer.adapters.smtp import SmtpOptions, SmtpTransport
from helpdesk_mailer.adapters.store import COLLECTION, OutgoingMailStore
from helpdesk_mailer.compose import ComposeConfig
from helpdesk_mailer.consumers import SERVICE, TRANSIENT, build_router
from helpdesk_mailer.delivery import Deliveries
from helpdesk_mailer.retry import RetryPolicy
from helpdesk_mailer.settings import MailerSettings
from helpdesk_mailer.templates import Templates, required_names


def create_app(settings: MailerSettings | None = None) -> FastStream:
    """Build the app; settings come from the environment unless given (tests pass them)."""
    settings = settings or load_settings(MailerSettings, program="helpdesk-mailer")
    runtime = create_runtime(SERVICE, settings.infra)

    templates = Templates(settings.templates_dir)
    templates.check(required_names(html=settings.html_body))  # a broken template stops start-up

    collection = runtime.db[COLLECTION]
    store = OutgoingMailStore(
        collection,
        owner=f"{SERVICE}-{uuid.uuid4().hex[:12]}",
        lease=timedelta(seconds=settings.send_lease_seconds),
        retention=timedelta(days=settings.log_retention_days),
    )
    relay = OutboxRelay(runtime.publisher, [collection])
    runtime.jobs.append(relay.run)
    runtime.stoppers.append(relay.stop)
    transport = SmtpTransport(SmtpOptions.from_settings(settings), size=settings.smtp_pool_size)

    deliveries = Deliveries(
        config=ComposeConfig.from_settings(settings),
        templates=templates,
        store=store,
        reader=AttachmentReader(runtime.db, max_bytes=settings.attachment_max_bytes),
        transport=transport,
        envelope_from=settings.sender,
        ticket_retry=RetryPolicy(
            base_seconds=settings.retry_base_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
            total_seconds=settings.ticket_retry_total_seconds,
        ),
        mail_retry=RetryPolicy(
            base_seconds=settings.retry_base_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
            total_seconds=settings.mail_retry_total_seconds,
        ),
        notify=relay.notify,
    )
    return create_service_app(
        runtime,
        routers=[build_router(deliveries, runtime.retry(TRANSIENT))],
        setup=store.ensure_indexes,
        teardown=transport.close,
    )


def main() -> None:
    run(create_app)
