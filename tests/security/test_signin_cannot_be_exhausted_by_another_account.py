"""Threat: a stranger's Telegram account turns sign-in against an employee — spends the
employee's code budget so they cannot sign in, floods their mailbox with codes, or guesses codes.

Against real slapd (the employee directory), RabbitMQ and the Mongo-wire server. The attacker
and the victim are two Telegram accounts asking codes for the same address; the victim is the
employee, who reads the code in the mail the mailer is asked to send.
"""

from __future__ import annotations

import pytest
from helpdesk_contracts.auth.v1 import CodeRejected, CodeSent, RejectReason, UserAuthorized
from helpdesk_contracts.mail.v1 import SendMail

from tests.integration.auth.conftest import AuthWorld, WorldFactory

pytestmark = pytest.mark.integration

MARIA = "maria.ivanova@example.com"
ATTACKER, ACCOMPLICE, VICTIM = 6_100_001, 6_100_002, 6_100_003


def throttled(world: AuthWorld, rule: str) -> float:
    value = world.service.runtime.metrics.registry.get_sample_value(
        "helpdesk_auth_throttled_total", {"rule": rule}
    )
    return value or 0.0


async def victim_signs_in(world: AuthWorld) -> None:
    request = await world.request(VICTIM, MARIA)
    answer = await world.bus.answer(request)
    assert isinstance(answer, CodeSent), answer
    mail = await world.mail_for(request)
    assert mail.to == MARIA
    assert isinstance(await world.try_code(VICTIM, mail.variables["code"]), UserAuthorized)


async def test_an_attacker_spending_every_code_for_an_address_leaves_the_victim_theirs(
    auth_world: WorldFactory,
) -> None:
    # The account's own hourly cap (over all addresses) above the per-address one, so the
    # per-address budget is what stops it.
    world = await auth_world(resend_cooldown_seconds=0, max_codes_per_user_per_hour=20)
    spellings = [MARIA, "MARIA.IVANOVA@EXAMPLE.COM", "ｍａｒｉａ.ｉｖａｎｏｖａ@example.com"]
    sent = 0
    for attempt in range(8):
        answer = await world.ask(ATTACKER, spellings[attempt % len(spellings)])
        if isinstance(answer, CodeRejected):
            break
        sent += 1
        world.clock.advance(1)
    # Every spelling counted as the one address: the attacker got the hourly five, no more.
    assert sent == 5
    assert isinstance(answer, CodeRejected)
    assert (answer.reason, answer.retry_after_seconds) == (RejectReason.TOO_MANY_REQUESTS, 3595)
    assert throttled(world, "account_address_hour") == 1

    await victim_signs_in(world)


async def test_a_day_of_attempts_from_one_account_neither_locks_out_nor_floods_the_victim(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(resend_cooldown_seconds=0, max_codes_per_user_per_hour=20)
    codes_to_maria = 0
    for _ in range(24):  # every hour for a day, five tries each
        for _ in range(5):
            if isinstance(await world.ask(ATTACKER, MARIA), CodeSent):
                codes_to_maria += 1
            world.clock.advance(1)
        world.clock.advance(3600)
    # One account's daily share for an address (10), not 5 x 24 = 120 code emails.
    assert codes_to_maria == 10
    assert throttled(world, "account_address_day") > 0

    await victim_signs_in(world)


async def test_the_address_daily_cap_bounds_the_mail_all_accounts_together_cause(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(
        resend_cooldown_seconds=0,
        max_codes_per_account_email_per_day=2,
        max_codes_per_email_per_day=4,
    )
    for account in (ATTACKER, ATTACKER, ACCOMPLICE, ACCOMPLICE):
        assert isinstance(await world.ask(account, MARIA), CodeSent)
        world.clock.advance(1)
    capped = await world.refused(VICTIM, MARIA)
    assert capped.reason is RejectReason.TOO_MANY_REQUESTS
    assert throttled(world, "address_day") == 1


async def test_wrong_codes_lock_out_the_guessing_account_and_not_the_employee(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(resend_cooldown_seconds=0)
    await world.code_for(ATTACKER, MARIA)
    answers = [await world.try_code(ATTACKER, "000000") for _ in range(5)]
    assert all(isinstance(a, CodeRejected) for a in answers)

    # The guessing account is locked out, told for how long, whatever it asks for.
    locked = await world.refused(ATTACKER, MARIA)
    assert (locked.reason, locked.retry_after_seconds) == (RejectReason.TOO_MANY_ATTEMPTS, 60)
    locked = await world.refused(ATTACKER, "ivan.petrov@example.com")
    assert locked.reason is RejectReason.TOO_MANY_ATTEMPTS
    assert throttled(world, "account_locked") == 2

    # One more wrong code after the lockout ended doubles it.
    world.clock.advance(61)
    await world.code_for(ATTACKER, MARIA)
    wrong = await world.try_code(ATTACKER, "000001")
    assert isinstance(wrong, CodeRejected) and wrong.reason is RejectReason.WRONG_CODE
    relocked = await world.refused(ATTACKER, MARIA)
    assert (relocked.reason, relocked.retry_after_seconds) == (RejectReason.TOO_MANY_ATTEMPTS, 120)

    await victim_signs_in(world)


async def test_the_address_lockout_stops_distributed_guessing_but_not_its_holder(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(resend_cooldown_seconds=0, lockout_email_threshold=6)
    await victim_signs_in(world)  # Maria holds the address from her own account
    for account in (ATTACKER, ACCOMPLICE):
        await world.code_for(account, MARIA)
        for guess in range(3):
            assert isinstance(await world.try_code(account, f"00000{guess}"), CodeRejected)

    # Six wrong codes at the address from two accounts: any other account is locked out of it...
    fresh = await world.refused(6_100_004, MARIA)
    assert (fresh.reason, fresh.retry_after_seconds) == (RejectReason.TOO_MANY_ATTEMPTS, 60)
    assert throttled(world, "address_locked") == 1
    # ...while Maria's own account still gets a code and signs in again, which ends the lockout.
    world.clock.advance(5)
    request = await world.request(VICTIM, MARIA)
    assert isinstance(await world.bus.answer(request), CodeSent)
    mail: SendMail = await world.mail_for(request)
    assert isinstance(await world.try_code(VICTIM, mail.variables["code"]), UserAuthorized)
    assert isinstance(await world.ask(6_100_004, MARIA), CodeSent)
