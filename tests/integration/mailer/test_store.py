"""outgoing_mail on the Mongo-wire server: claims, leases, final states with their events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpdesk_contracts.ticket.v1 import TicketEmailed
from helpdesk_mailer.adapters.store import Busy, Claimed, Finished, OutgoingMailStore
from helpdesk_mailer.errors import TransientDeliveryError
from helpdesk_runtime.outbox import outbox_entry
from pymongo.asynchronous.database import AsyncDatabase

from tests.unit.mailer import factories as f

pytestmark = pytest.mark.integration

# The server's TTL index (expire_at, retention one day) runs on its own clock: the records must be
# written relative to the real now (tests/README.md). Milliseconds: what BSON dates keep.
T0 = datetime.now(UTC).replace(microsecond=0)
KEY = f"ticket:{f.TICKET_ID}"


def store(db: AsyncDatabase[dict[str, Any]], owner: str) -> OutgoingMailStore:
    return OutgoingMailStore(
        db["outgoing_mail"], owner=owner, lease=timedelta(seconds=60), retention=timedelta(days=1)
    )


async def test_claims_leases_and_final_states(mongo_db: AsyncDatabase[dict[str, Any]]) -> None:
    one, two = store(mongo_db, "one"), store(mongo_db, "two")
    await one.ensure_indexes()

    assert await one.claim(KEY, {"kind": "ticket"}, T0) == Claimed(1, T0, False)
    # Another replica (or a duplicate message) while the lease holds: wait until it ends.
    assert await two.claim(KEY, {}, T0 + timedelta(seconds=5)) == Busy(T0 + timedelta(seconds=60))
    # The holder died; after the lease the other one takes over (attempt 2).
    later = T0 + timedelta(seconds=61)
    assert await two.claim(KEY, {}, later) == Claimed(2, T0, False)
    doc = await mongo_db["outgoing_mail"].find_one({"_id": KEY})
    assert doc is not None
    assert (doc["state"], doc["lease_owner"]) == ("sending", "two")

    error = TransientDeliveryError("deferred", smtp_code=451, smtp_reply="4.3.0 later")
    assert await two.mark_retrying(
        KEY,
        error=error,
        reason=error.describe(),
        next_attempt_at=later + timedelta(seconds=5),
        now=later,
        outbox=[{"message_id": "m1", "body": "{}"}],
    )
    # A retry claims at once (the lease was released) and remembers the user was told.
    assert await one.claim(KEY, {}, later + timedelta(seconds=5)) == Claimed(3, T0, True)

    event = TicketEmailed(
        ticket_id=f.TICKET_ID,
        reference=f.REFERENCE,
        email_message_id="<x@y>",
        sent_at=later,
    )
    assert await one.mark_sent(
        KEY, email_message_id="<x@y>", reply="250 ok", now=later, outbox=[outbox_entry(event)]
    )
    # Final: no second "sent" (no second event), no further claims.
    assert not await two.mark_sent(KEY, email_message_id="<x@y>", reply="", now=later, outbox=[])
    assert await two.claim(KEY, {}, later + timedelta(hours=1)) == Finished("sent")
    doc = await mongo_db["outgoing_mail"].find_one({"_id": KEY})
    assert doc is not None
    assert [entry["message_id"] for entry in doc["outbox"]] == ["m1", str(event.message_id)]
    assert doc["last_error"] == {
        "reason": error.describe(),
        "smtp_code": 451,
        "smtp_reply": "4.3.0 later",
    }
    assert doc["expire_at"] == later + timedelta(days=1)
