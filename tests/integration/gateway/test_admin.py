"""Admin commands: clear a saved place, broadcast, reload the catalogue, the manager's report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpdesk_contracts.admin.v1 import (
    AdminCommandCompleted,
    Broadcast,
    BuildReport,
    ClearLocation,
    Outcome,
    ReloadCategories,
)
from helpdesk_contracts.base import AdminCommand
from helpdesk_contracts.ticket.v1 import TicketStatus, TicketStatusChanged, TicketSubmitted

from tests.integration.gateway.conftest import World, new_user

pytestmark = pytest.mark.integration

OPS = "ops:test"


async def completed(world: World, command: AdminCommand) -> AdminCommandCompleted:
    await world.bus.publish(command)
    return await world.bus.wait_for(
        AdminCommandCompleted, lambda m: m.correlation_id == command.message_id
    )


async def test_clear_location(world: World) -> None:
    user = new_user()
    await world.sign_in(user)
    await world.g.ctx.users.set_last_location(user.id, "каб. 101")
    done = await completed(world, ClearLocation(requested_by=OPS, telegram_user_id=user.id))
    assert (done.outcome, done.service, done.command) == (
        Outcome.DONE,
        "gateway",
        "admin.clear_location.v1",
    )
    stored = await world.db["gateway_users"].find_one({"_id": user.id})
    assert stored is not None and "last_location" not in stored
    missing = await completed(world, ClearLocation(requested_by=OPS, telegram_user_id=123))
    assert missing.outcome == Outcome.NOT_FOUND


async def test_broadcast_reaches_active_users_and_counts(world: World) -> None:
    tg = world.tg
    alice, bob, blocked, stranger = new_user(), new_user("en"), new_user(), new_user()
    for user in (alice, bob, blocked):
        await world.sign_in(user)
    await tg.add_user(stranger)  # talked to the bot, never signed in
    await tg.block_chat(blocked.id)
    text = "Плановые работы в субботу с 10:00 до 12:00 🛠"
    done = await completed(world, Broadcast(requested_by=OPS, text=text))
    assert done.outcome == Outcome.DONE
    assert done.result == {"recipients": 3, "pending": 0, "sent": 2, "blocked": 1, "failed": 0}
    for user in (alice, bob):
        await world.reply_text(user, text)
    await tg.assert_no_bot_message(stranger.id, within=0.3)
    # The blocked user is not tried again by the next broadcast.
    again = await completed(world, Broadcast(requested_by=OPS, text="Ещё одно объявление"))
    assert again.result["recipients"] == 2


async def test_reload_categories(world: World, tmp_path: Path) -> None:
    path = tmp_path / "categories.yaml"
    path.write_text("categories:\n  - {code: old, title: Старое}\n", encoding="utf-8")
    await world.stop()
    await world.start(catalogue_path=path)
    user = new_user()
    await world.sign_in(user)
    question = await world.start_ticket(user)
    assert question.button_texts == ["Старое", "✖️ Отмена"]

    path.write_text(
        "categories:\n  - code: access\n    title: {ru: Доступы, en: Access}\n    children:\n"
        "      - {code: access.vpn, title: VPN}\n  - {code: other, title: Другое}\n",
        encoding="utf-8",
    )
    done = await completed(world, ReloadCategories(requested_by=OPS))
    assert (done.outcome, done.result) == (Outcome.DONE, {"categories": 3, "choices": 2})
    # The old message's button is gone from the catalogue: the user is asked again, politely.
    await world.press(user, question, "Старое")
    gone = await world.edited(user, question, lambda m: "больше нет" in m.visible_text)
    assert gone.button_texts == ["Доступы", "Другое", "✖️ Отмена"]

    path.write_text("categories: [", encoding="utf-8")
    broken = await completed(world, ReloadCategories(requested_by=OPS))
    assert broken.outcome == Outcome.FAILED
    assert "kept the previous catalogue" in broken.detail
    newcomer = new_user()
    await world.sign_in(newcomer)
    again = await world.start_ticket(newcomer)
    assert again.button_texts == ["Доступы", "Другое", "✖️ Отмена"]


async def test_build_report(world: World) -> None:
    user = new_user()
    await world.sign_in(user)
    preview = await world.ticket_to_preview(user)
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(TicketSubmitted, lambda m: m.chat_id == user.id)
    await world.bus.publish(
        TicketStatusChanged(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            status=TicketStatus.REGISTERED,
            itsm_number="1",
            changed_at=submitted.submitted_at + timedelta(minutes=12),
        )
    )
    await world.reply(user, lambda m: "зарегистрирована" in m.visible_text)
    # The report cuts days where users live (GATEWAY_DISPLAY_TIMEZONE), not in UTC.
    day = submitted.submitted_at.astimezone(ZoneInfo(world.settings.display_timezone)).date()
    done = await completed(world, BuildReport(requested_by=OPS, since=day, until=day))
    assert done.outcome == Outcome.DONE
    figures = done.result
    assert figures["tickets"] == 1
    assert figures["time_to_registered"] == {
        "count": 1,
        "median_seconds": 720,
        "p90_seconds": 720,
    }
    assert figures["by_category"] == [
        {
            "code": "network",
            "title": "Сеть и интернет",
            "tickets": 1,
            "rated": 0,
            "rating_average": None,
        }
    ]
    empty = await completed(
        world,
        BuildReport(requested_by=OPS, since=day - timedelta(days=9), until=day - timedelta(days=8)),
    )
    assert empty.result["tickets"] == 0
