"""Read quarantined mail again: after a rules change, or once its ticket became known.

A mail that now matches is applied like fresh mail (its TicketStatusChanged goes to the outbox,
which the running service's relay publishes) and its quarantine entry is marked resolved. A mail
that still does not match stays open with the new reason; it is not reported a second time.
Mail over the size limit was never downloaded (only its headers are kept), so it is skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from helpdesk_contracts.base import utc_now
from helpdesk_runtime.logs import configure_logging
from helpdesk_runtime.mongo import Document, create_mongo_client, ping
from helpdesk_runtime.settings import InfraSettings

from helpdesk_inbox.adapters.links import LinkStore
from helpdesk_inbox.adapters.quarantine import QuarantineStore
from helpdesk_inbox.parse import parse_message
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
            mail.raw,
            mailbox=mail.mailbox,
            uidl=mail.uidl,
            received_at=mail.quarantined_at,
            may_defer=False,
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


def _summary(doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {"quarantine_id": str(doc["_id"])}
    for key in (
        "state",
        "reason",
        "detail",
        "sender",
        "subject",
        "message_id",
        "ticket_id",
        "raw_size",
        "truncated",
        "headers_only",
        "mailbox",
        "uidl",
        "received_at",
        "quarantined_at",
    ):
        value = doc.get(key)
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


async def quarantine_command(args: argparse.Namespace) -> int:
    """`helpdesk-inbox quarantine list|show|export|requeue` against the service's database."""
    if args.action == "requeue":
        return await requeue_command(limit=args.limit)
    infra = InfraSettings()
    client = create_mongo_client(infra, app_name="helpdesk-inbox-quarantine")
    try:
        await ping(client)
        store = QuarantineStore(client[infra.mongo_db])
        if args.action == "list":
            entries = await store.entries(
                reason=args.reason, include_resolved=args.all, limit=args.limit
            )
            for entry in entries:
                print(json.dumps(_summary(entry), ensure_ascii=False))
            return 0
        doc = await store.get(args.id)
    finally:
        await client.close()
    if doc is None:
        print(f"no quarantine entry {args.id}", file=sys.stderr)
        return 1
    raw = bytes(doc.get("raw") or b"")
    if args.action == "export":
        if args.out is None:
            sys.stdout.buffer.write(raw)
        else:
            args.out.write_bytes(raw)
        return 0
    parsed = parse_message(raw, load_rules(), headers_only=bool(doc.get("headers_only")))
    shown = _summary(doc) | {
        "parsed": parsed.model_dump(
            mode="json",
            include={"token", "number", "status", "raw_status", "comment", "problems"},
        ),
        "from_addresses": list(parsed.from_addresses),
    }
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


async def requeue_command(*, limit: int) -> int:
    """The CLI: uses the service's own settings (run it where the service runs)."""
    settings = InboxSettings()
    configure_logging("inbox", level=settings.infra.log_level, fmt=settings.infra.log_format)
    client = create_mongo_client(settings.infra, app_name="helpdesk-inbox-requeue")
    try:
        await ping(client)
        db = client[settings.infra.mongo_db]
        quarantine = QuarantineStore(db)
        processor = MailProcessor(
            LinkStore(db),
            quarantine,
            load_rules(settings.rules_file),
            senders=settings.sender_policy(),
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
