"""Personal data in tickets: erased after `delete-user` and a grace period; tickets deleted after
their retention (issue 15). Real RabbitMQ, the Mongo-wire server and the fake Bot API."""

from __future__ import annotations

from typing import Any

import pytest
from helpdesk_contracts.auth.v1 import RevokeReason, UserRevoked
from helpdesk_contracts.ticket.v1 import TicketSubmitted
from helpdesk_harness.fake_telegram.models import User

from tests.integration.gateway.conftest import World, new_user

pytestmark = pytest.mark.integration

DAY = 86_400


async def file_ticket(world: World, user: User) -> dict[str, Any]:
    await world.sign_in(user)
    preview = await world.ticket_to_preview(user, description="Ноутбук Ивановой М.П. не включается")
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(
        TicketSubmitted, lambda m: m.requester.telegram_user_id == user.id
    )
    await world.settle()
    doc = await world.db["tickets"].find_one({"reference": submitted.reference})
    assert doc is not None
    return doc


async def test_delete_user_erases_the_persons_data_in_tickets_after_the_grace_period(
    world: World,
) -> None:
    user = new_user()
    ticket = await file_ticket(world, user)
    assert ticket["requester"]["email"] == "maria.ivanova@example.com"

    await world.bus.publish(
        UserRevoked(
            telegram_user_id=user.id,
            email="maria.ivanova@example.com",
            reason=RevokeReason.ADMIN_DELETED,
        )
    )
    await world.reply(user)  # told that access is closed
    await world.settle()

    grace = world.settings.personal_data_grace_days * DAY
    world.clock.advance(grace - 60)
    await world.g.scheduler.personal_data()
    kept = await world.db["tickets"].find_one({"_id": ticket["_id"]})
    assert kept is not None and kept["requester"]["display_name"] == "Иванова Мария Петровна"

    world.clock.advance(120)
    await world.g.scheduler.personal_data()
    erased = await world.db["tickets"].find_one({"_id": ticket["_id"]})
    assert erased is not None
    text = repr(erased)
    for personal in ("Иванова", "maria.ivanova", "Ноутбук", str(user.id)):
        assert personal not in text, personal
    # What the manager's figures need stays.
    assert erased["reference"] == ticket["reference"]
    assert erased["category"] == ticket["category"]
    assert erased["requester"]["department"] == "Бухгалтерия"
    assert erased["submitted_at"] == ticket["submitted_at"]


async def test_tickets_are_deleted_after_their_retention(world: World) -> None:
    user = new_user()
    ticket = await file_ticket(world, user)
    world.clock.advance(world.settings.ticket_retention_days * DAY - 60)
    await world.g.scheduler.personal_data()
    assert await world.db["tickets"].count_documents({"_id": ticket["_id"]}) == 1
    world.clock.advance(120)
    await world.g.scheduler.personal_data()
    assert await world.db["tickets"].count_documents({"_id": ticket["_id"]}) == 0
