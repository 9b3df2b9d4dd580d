"""One Telegram account per employee: how a binding is replaced and how it moves."""

from __future__ import annotations

import pytest
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, LookupUser, Outcome
from helpdesk_contracts.auth.v1 import RevokeReason, UserAuthorized, UserRevoked

from tests.integration.auth.conftest import AuthWorld, WorldFactory, users_of

pytestmark = pytest.mark.integration

MARIA = "maria.ivanova@example.com"
IVAN = "ivan.petrov@example.com"


async def lookup(world: AuthWorld, **selector: object) -> AdminCommandCompleted:
    command = LookupUser.model_validate({"requested_by": "test"} | selector)
    await world.bus.publish(command)
    return await world.bus.wait_for(
        AdminCommandCompleted, lambda m: m.correlation_id == command.message_id
    )


async def test_an_address_moves_to_another_account_only_once_its_code_is_proven(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world()
    await world.sign_in(5001, MARIA)

    # Someone else asks for Maria's code: the old account keeps access meanwhile.
    _, code = await world.code_for(5002, MARIA)
    await world.try_code(5002, "000000" if code != "000000" else "111111")
    await world.settle()
    assert world.bus.all(UserRevoked) == []
    [bound] = users_of(await lookup(world, email=MARIA))
    assert (bound["telegram_user_id"], bound["status"]) == (5001, "active")

    moved = await world.try_code(5002, code)
    assert isinstance(moved, UserAuthorized)
    revoked = await world.bus.wait_for(UserRevoked)
    assert (revoked.telegram_user_id, revoked.email, revoked.reason) == (
        5001,
        MARIA,
        RevokeReason.REBOUND,
    )
    users = users_of(await lookup(world, email=MARIA))
    assert sorted((str(u["telegram_user_id"]), str(u["status"])) for u in users) == [
        ("5001", "revoked"),
        ("5002", "active"),
    ]


async def test_signing_in_with_another_address_replaces_the_binding(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world()
    await world.sign_in(5101, MARIA)
    world.clock.advance(60)
    again = await world.sign_in(5101, IVAN)
    assert again.profile.display_name == "Петров Иван Сергеевич"
    await world.settle()
    assert world.bus.all(UserRevoked) == []  # the same account, now acting as Ivan

    by_maria = await lookup(world, email=MARIA)
    assert by_maria.outcome is Outcome.NOT_FOUND
    [user] = users_of(await lookup(world, telegram_user_id=5101))
    assert (user["email"], user["status"]) == (IVAN, "active")
