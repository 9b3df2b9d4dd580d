"""Operators' commands: revoke, delete and look up a user; each answered and audited."""

from __future__ import annotations

import pytest
from helpdesk_contracts.admin.v1 import (
    AdminCommandCompleted,
    DeleteUser,
    LookupUser,
    Outcome,
    RevokeUser,
)
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    RejectReason,
    RevokeReason,
    UserRevoked,
)
from helpdesk_contracts.base import Message

from tests.integration.auth.conftest import AuthWorld, WorldFactory, users_of

pytestmark = pytest.mark.integration

MARIA = "maria.ivanova@example.com"


async def command(world: AuthWorld, message: Message) -> AdminCommandCompleted:
    await world.bus.publish(message)
    return await world.bus.wait_for(
        AdminCommandCompleted, lambda m: m.correlation_id == message.message_id
    )


async def test_a_revoked_account_loses_access_and_cannot_sign_in_again(
    auth_world: WorldFactory, caplog: pytest.LogCaptureFixture
) -> None:
    world = await auth_world()
    await world.sign_in(8001, MARIA)

    done = await command(
        world, RevokeUser(requested_by="ops:ivanov", email="Maria.Ivanova@example.com")
    )
    assert (done.command, done.service, done.outcome) == (
        "admin.revoke_user.v1",
        "auth",
        Outcome.DONE,
    )
    assert done.result["revoked"] == [8001]
    revoked = await world.bus.wait_for(UserRevoked)
    assert (revoked.telegram_user_id, revoked.reason) == (8001, RevokeReason.ADMIN_REVOKED)
    # Audit: who did what to whom, and how it ended.
    [audit] = [r for r in caplog.records if r.getMessage() == "admin command"]
    assert audit.__dict__["requested_by"] == "ops:ivanov"
    assert audit.__dict__["command"] == "admin.revoke_user.v1"
    assert audit.__dict__["outcome"] == "done"

    world.clock.advance(3600)
    blocked = await world.refused(8001, MARIA)
    assert blocked.reason is RejectReason.ACCOUNT_DISABLED

    lookup = await command(world, LookupUser(requested_by="ops", telegram_user_id=8001))
    [user] = users_of(lookup)
    assert (user["status"], user["blocked"], user["revoke_reason"]) == (
        "revoked",
        True,
        "admin_revoked",
    )


async def test_revoking_voids_a_code_in_flight(auth_world: WorldFactory) -> None:
    world = await auth_world()
    await world.sign_in(8051, MARIA)
    world.clock.advance(60)
    _, code = await world.code_for(8051, "ivan.petrov@example.com")
    await command(world, RevokeUser(requested_by="ops", telegram_user_id=8051))
    late = await world.try_code(8051, code)
    assert isinstance(late, CodeRejected)
    assert late.reason is RejectReason.NO_ACTIVE_CODE


async def test_a_deleted_user_is_forgotten_and_may_sign_in_afresh(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world()
    await world.sign_in(8101, MARIA)
    # Delete is also how an operator lifts a revocation.
    await command(world, RevokeUser(requested_by="ops", telegram_user_id=8101))
    done = await command(world, DeleteUser(requested_by="ops", telegram_user_id=8101))
    assert (done.outcome, done.result["deleted"]) == (Outcome.DONE, [8101])
    forgotten = await world.bus.wait_for(
        UserRevoked, lambda m: m.reason is RevokeReason.ADMIN_DELETED
    )
    assert forgotten.telegram_user_id == 8101

    gone = await command(world, LookupUser(requested_by="ops", telegram_user_id=8101))
    assert gone.outcome is Outcome.NOT_FOUND
    stored = await world.service.store.users.find_one({"_id": 8101})
    assert stored is not None and "profile" not in stored and "email" not in stored

    world.clock.advance(60)
    assert (await world.sign_in(8101, MARIA)).telegram_user_id == 8101


async def test_commands_about_unknown_users_answer_not_found(auth_world: WorldFactory) -> None:
    world = await auth_world()
    for message in (
        LookupUser(requested_by="ops", email="nobody.here@example.com"),
        RevokeUser(requested_by="ops", telegram_user_id=8201),
        DeleteUser(requested_by="ops", telegram_user_id=8201),
    ):
        answer = await command(world, message)
        assert (answer.outcome, answer.command) == (Outcome.NOT_FOUND, message.routing_key)
    await world.settle()
    assert world.bus.all(UserRevoked) == []


async def test_lookup_shows_binding_profile_and_last_check(auth_world: WorldFactory) -> None:
    world = await auth_world()
    authorized = await world.sign_in(8301, MARIA)
    answer = await command(world, LookupUser(requested_by="ops", email=MARIA))
    assert answer.outcome is Outcome.DONE
    [user] = users_of(answer)
    assert user["telegram_user_id"] == 8301
    assert user["email"] == MARIA
    assert user["status"] == "active"
    assert user["profile"] == authorized.profile.model_dump(mode="json")
    assert user["checked_at"] == authorized.authorized_at.isoformat()
