"""Read quarantined mail again: after a rules change, or once its ticket became known.

A mail that now matches is applied like fresh mail (its TicketStatusChanged goes to the outbox,
which the running service's relay publishes) and its quarantine entry is marked resolved. A mail
that still does not match stays open with the new reason; it is not reported a second time.
Mail over the size limit was never downloaded (only its headers are kept), so it is skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from helpdesk_contracts.base import utc_now
from helpdesk_runtime.logs import configure_logging
from helpdesk_runtime.mongo import create_mongo_client, ping

from helpdesk_inbox.adapters.links import LinkStore
from helpdesk_inbox.adapters.quarantine import QuarantineStore
from helpdesk_inbox.process import Clock, Kind, MailProcessor
from helpdesk_inbox.rules import load_rules
from helpdesk_inbox.settings import InboxSettings


async def requeue(
    processor: MailProcessor,
    quarantine: QuarantineStore,
    *,
    limit: int = 0,
    clock: Clock = utc_now,
) -> list[dict[str, Any]]:
    """Process open quarantine entries again; one result per entry, oldest first."""
    results: list[dict[str, Any]] = []
    async for mail in quarantine.open_entries(limit):
        result: dict[str, Any] = {
            "quarantine_id": mail.quarantine_id,
            "mailbox": mail.mailbox,
            "uidl": mail.uidl,
            "was": mail.reason,
        }
        if mail.headers_only:
            results.append(result | {"result": "skipped", "detail": "only headers were kept"})
            continue
        outcome = await processor.process(
            mail.raw, mailbox=mail.mailbox, uidl=mail.uidl, may_defer=False
        )
        if outcome.kind in (Kind.ANNOUNCED, Kind.UNCHANGED) and outcome.ticket_id:
            await quarantine.resolve(mail.quarantine_id, ticket_id=outcome.ticket_id, now=clock())
        results.append(
            result
            | {
                "result": outcome.kind.value,
                "detail": outcome.detail,
                "ticket_id": outcome.ticket_id,
            }
        )
    return results


async def requeue_command(*, limit: int) -> int:
    """The CLI: uses the service's own settings (run it where the service runs)."""
    settings = InboxSettings()
    configure_logging(
        "inbox",
        level=settings.infra.log_level,
        fmt=settings.infra.log_format,
        secrets_from=[settings],
    )
    client = create_mongo_client(settings.infra, app_name="helpdesk-inbox-requeue")
    try:
        await ping(client)
        db = client[settings.infra.mongo_db]
        quarantine = QuarantineStore(db)
        processor = MailProcessor(
            LinkStore(db),
            quarantine,
            load_rules(settings.rules_file),
            match_grace=timedelta(0),
        )
        results = await requeue(processor, quarantine, limit=limit)
    finally:
        await client.close()
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    summary = Counter(str(r["result"]) for r in results)
    print(json.dumps({"summary": dict(summary), "total": len(results)}))
    return 0
