"""Sign-in as the employee sees it: once signed in, the code message's «Ввести другой адрес»
goes, since the address is settled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpdesk_contracts.auth.v1 import CodeSent, RequestCode, VerifyCode

from tests.integration.gateway.conftest import World, new_user

pytestmark = pytest.mark.integration


async def test_signing_in_takes_the_other_email_button_off_the_code_message(world: World) -> None:
    tg, bus, user = world.tg, world.bus, new_user()
    await tg.send_command(user, "start")
    await world.reply(user, lambda m: m.visible_text.startswith("Здравствуйте"))
    await tg.send_text(user, "maria.ivanova@example.com")
    request = await bus.wait_for(RequestCode, lambda m: m.telegram_user_id == user.id)
    await bus.publish(
        CodeSent(
            correlation_id=request.message_id,
            telegram_user_id=user.id,
            chat_id=user.id,
            masked_email="m***a@example.com",
            expires_at=world.clock() + timedelta(minutes=10),
            resend_after_seconds=60,
        )
    )
    code_message = await world.reply(user, lambda m: m.visible_text.startswith("Код отправлен"))
    assert code_message.button_texts == ["Ввести другой адрес"]

    await tg.send_text(user, "042817")
    await bus.wait_for(VerifyCode, lambda m: m.telegram_user_id == user.id)
    await world.sign_in(user)

    settled = await world.edited(user, code_message, lambda m: not m.button_texts)
    assert settled.visible_text == code_message.visible_text
    assert settled.button_texts == []
