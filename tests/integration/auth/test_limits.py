"""Request limits as the employee meets them: resend cooldown and hourly caps."""

from __future__ import annotations

import pytest
from helpdesk_contracts.auth.v1 import CodeRejected, CodeSent, RejectReason, UserAuthorized

from tests.integration.auth.conftest import WorldFactory

pytestmark = pytest.mark.integration

MARIA = "maria.ivanova@example.com"


async def test_a_resend_too_soon_is_told_how_long_to_wait(auth_world: WorldFactory) -> None:
    world = await auth_world()
    _, first_code = await world.code_for(4001, MARIA)

    too_soon = await world.refused(4001, MARIA)
    assert (too_soon.reason, too_soon.retry_after_seconds) == (RejectReason.COOLDOWN, 60)
    world.clock.advance(45)
    later = await world.refused(4001, "ivan.petrov@example.com")  # another address: same user
    assert (later.reason, later.retry_after_seconds) == (RejectReason.COOLDOWN, 15)

    world.clock.advance(15)
    _, second_code = await world.code_for(4001, MARIA)
    # Only the newest code works: a resend replaces the code before it.
    if first_code != second_code:
        old = await world.try_code(4001, first_code)
        assert isinstance(old, CodeRejected)
        assert old.reason is RejectReason.WRONG_CODE
    assert isinstance(await world.try_code(4001, second_code), UserAuthorized)


async def test_codes_per_telegram_user_per_hour_are_capped(auth_world: WorldFactory) -> None:
    world = await auth_world(resend_cooldown_seconds=0, max_codes_per_user_per_hour=3)
    # An unknown address counts like a known one: its answer looks sent, so must its limits.
    for email in (MARIA, "nobody.here@example.com", "elena.sokolova@example.com"):
        assert isinstance(await world.ask(4101, email), CodeSent)
        world.clock.advance(600)

    capped = await world.refused(4101, "john.smith@example.com")
    # The first code was issued 30 minutes ago: one more fits in 30 minutes.
    assert (capped.reason, capped.retry_after_seconds) == (RejectReason.TOO_MANY_REQUESTS, 1800)
    assert isinstance(await world.ask(4102, "john.smith@example.com"), CodeSent)  # others may

    world.clock.advance(1800)
    assert isinstance(await world.ask(4101, "john.smith@example.com"), CodeSent)


async def test_codes_per_address_per_hour_are_capped_per_telegram_user(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(max_codes_per_email_per_hour=2)
    assert isinstance(await world.ask(4201, MARIA), CodeSent)
    world.clock.advance(60)
    assert isinstance(await world.ask(4201, "MARIA.IVANOVA@example.com"), CodeSent)
    world.clock.advance(60)

    capped = await world.refused(4201, "Maria.Ivanova@Example.com")
    assert (capped.reason, capped.retry_after_seconds) == (RejectReason.TOO_MANY_REQUESTS, 3480)
    # Another account's budget for the address is its own (tests/security has the attack).
    assert isinstance(await world.ask(4202, MARIA), CodeSent)
