"""A message delivered twice (a consumer crash, a broker failover) has one effect."""

from __future__ import annotations

import pytest
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, RevokeUser
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    RejectReason,
    RequestCode,
    UserAuthorized,
    UserRevoked,
    VerifyCode,
)
from helpdesk_contracts.mail.v1 import SendMail

from tests.integration.auth.conftest import WorldFactory

pytestmark = pytest.mark.integration

MARIA = "maria.ivanova@example.com"


async def test_a_redelivered_request_sends_no_second_code_or_answer(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(resend_cooldown_seconds=0)
    request = RequestCode(telegram_user_id=7001, chat_id=7001, email=MARIA)
    await world.bus.publish(request)
    await world.bus.publish(request)
    # Handled side by side, one copy may be parked for a retry while the other sends.
    await world.settle_retries()

    assert len(world.bus.all(SendMail, request.message_id)) == 1
    assert len(world.bus.all(CodeSent, request.message_id)) == 1
    assert world.bus.all(CodeRejected, request.message_id) == []
    # ...and the code that went out is still the one that works.
    code = world.bus.all(SendMail, request.message_id)[0].variables["code"]
    assert isinstance(await world.try_code(7001, code), UserAuthorized)

    refused = RequestCode(telegram_user_id=7002, chat_id=7002, email="no address")
    await world.bus.publish(refused)
    await world.bus.publish(refused)
    await world.settle()
    assert len(world.bus.all(CodeRejected, refused.message_id)) == 1


async def test_a_redelivered_wrong_code_counts_as_one_attempt(auth_world: WorldFactory) -> None:
    world = await auth_world()
    _, code = await world.code_for(7201, MARIA)
    wrong = VerifyCode(
        telegram_user_id=7201, chat_id=7201, code="000000" if code != "000000" else "111111"
    )
    await world.bus.publish(wrong)
    await world.bus.publish(wrong)
    await world.settle()
    [answer] = world.bus.all(CodeRejected, wrong.message_id)
    assert (answer.reason, answer.attempts_left) == (RejectReason.WRONG_CODE, 4)

    next_try = await world.try_code(7201, wrong.code)
    assert isinstance(next_try, CodeRejected)
    assert next_try.attempts_left == 3


async def test_a_redelivered_right_code_authorizes_once(auth_world: WorldFactory) -> None:
    world = await auth_world()
    await world.sign_in(7301, MARIA)  # Maria's earlier account, revoked once, not twice
    _, code = await world.code_for(7302, MARIA)
    verify = VerifyCode(telegram_user_id=7302, chat_id=7302, code=code)
    await world.bus.publish(verify)
    await world.bus.publish(verify)
    await world.settle()

    assert len(world.bus.all(UserAuthorized, verify.message_id)) == 1
    assert world.bus.all(CodeRejected, verify.message_id) == []
    assert len(world.bus.all(UserRevoked)) == 1


async def test_a_redelivered_admin_command_is_answered_once(auth_world: WorldFactory) -> None:
    world = await auth_world()
    await world.sign_in(7401, MARIA)
    revoke = RevokeUser(requested_by="ops:test", telegram_user_id=7401)
    await world.bus.publish(revoke)
    await world.bus.publish(revoke)
    await world.settle()

    assert len(world.bus.all(AdminCommandCompleted, revoke.message_id)) == 1
    assert len(world.bus.all(UserRevoked)) == 1
