"""Threat: a person whose access an operator revoked by email signs in again from a new
Telegram account with the same work address (the directory still lists them).

Against real slapd, RabbitMQ and the Mongo-wire server.
"""

from __future__ import annotations

import pytest
from helpdesk_contracts.admin.v1 import (
    AdminCommandCompleted,
    LookupUser,
    Outcome,
    RevokeUser,
    UnrevokeUser,
)
from helpdesk_contracts.auth.v1 import CodeSent, RejectReason, UserAuthorized
from helpdesk_contracts.base import Message
from helpdesk_contracts.mail.v1 import SendMail

from tests.integration.auth.conftest import AuthWorld, WorldFactory

pytestmark = pytest.mark.integration

MARIA = "maria.ivanova@example.com"


async def command(world: AuthWorld, message: Message) -> AdminCommandCompleted:
    await world.bus.publish(message)
    return await world.bus.wait_for(
        AdminCommandCompleted, lambda m: m.correlation_id == message.message_id
    )


@pytest.mark.parametrize("protection", [True, False])
async def test_revoke_by_email_blocks_the_address_until_unrevoked(
    auth_world: WorldFactory, protection: bool
) -> None:
    world = await auth_world(resend_cooldown_seconds=0, enumeration_protection=protection)
    await world.sign_in(9001, MARIA)
    # A code already sent to another account dies with the revoke.
    _, pending_code = await world.code_for(9002, MARIA)

    done = await command(
        world, RevokeUser(requested_by="ops:ivanov", email="Maria.Ivanova@example.com")
    )
    assert (done.outcome, done.result["revoked"], done.result["address_blocked"]) == (
        Outcome.DONE,
        [9001],
        True,
    )
    late = await world.try_code(9002, pending_code)
    assert not isinstance(late, UserAuthorized)

    # A brand-new Telegram account with the same (differently spelled) address gets nowhere.
    mails_before = len(world.bus.all(SendMail))
    answer = await world.ask(9003, "MARIA.IVANOVA@example.com")
    if protection:
        assert isinstance(answer, CodeSent)  # looks sent, so the block is not revealed...
        await world.settle()
        assert len(world.bus.all(SendMail)) == mails_before  # ...but no code leaves
    else:
        assert not isinstance(answer, CodeSent)
        assert answer.reason is RejectReason.ACCOUNT_DISABLED

    undone = await command(world, UnrevokeUser(requested_by="ops:ivanov", email=MARIA))
    assert undone.outcome is Outcome.DONE
    assert undone.result["address_unblocked"] is True
    assert undone.result["unblocked"] == [9001]
    world.clock.advance(60)
    assert isinstance(await world.sign_in(9003, MARIA), UserAuthorized)
    assert isinstance(await world.sign_in(9001, MARIA), UserAuthorized)


async def test_an_address_can_be_revoked_before_anyone_signed_in_with_it(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(enumeration_protection=False)
    done = await command(world, RevokeUser(requested_by="ops", email=MARIA))
    assert (done.outcome, done.result["revoked"]) == (Outcome.DONE, [])
    refused = await world.refused(9101, MARIA)
    assert refused.reason is RejectReason.ACCOUNT_DISABLED
    # The operator can see why.
    looked_up = await command(world, LookupUser(requested_by="ops", email=MARIA))
    assert (looked_up.outcome, looked_up.result["address_blocked"]) == (Outcome.DONE, True)
    nothing = await command(world, UnrevokeUser(requested_by="ops", telegram_user_id=9101))
    assert nothing.outcome is Outcome.NOT_FOUND
