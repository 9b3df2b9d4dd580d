"""Reading the SMTP sink's spool: the code of a real code email, a ticket's attachments."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import pytest
from helpdesk_contracts.mail.v1 import MailTemplate, SendMail
from helpdesk_harness.spool import SmtpSpool
from helpdesk_mailer.compose import ComposeConfig, compose_mail
from helpdesk_mailer.settings import MailerSettings
from helpdesk_mailer.templates import Templates

EMPLOYEE = "maria.ivanova@example.com"


def code_email(code: str, locale: Literal["ru", "en"] = "ru") -> bytes:
    settings = MailerSettings.model_validate(
        {
            "smtp_host": "127.0.0.1",
            "from_address": "helpdesk@example.com",
            "ticket_to": ["inframanager@example.com"],
        }
    )
    command = SendMail(
        to=EMPLOYEE,
        template=MailTemplate.AUTH_CODE,
        locale=locale,
        variables={
            "code": code,
            "expires_minutes": "10",
            "telegram_user_id": "5100000001",
            "display_name": "Иванова Мария Петровна",
        },
    )
    return compose_mail(command, ComposeConfig.from_settings(settings), Templates()).as_bytes()


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_finds_the_code_in_the_mailers_code_email(
    tmp_path: Path, locale: Literal["ru", "en"]
) -> None:
    (tmp_path / "1-00001.eml").write_bytes(code_email("048213", locale))
    (tmp_path / "2-00002.eml").write_bytes(code_email("771900", locale))
    (tmp_path / ".3-00003.tmp").write_bytes(b"half a message")

    spool = SmtpSpool(tmp_path)

    assert [mail.code for mail in spool.messages()] == ["048213", "771900"]
    assert "\r" not in spool.messages()[0].text
    assert spool.latest_code(EMPLOYEE) == "771900"
    assert spool.latest_code("someone.else@example.com") is None
    assert spool.messages(after="1-00001.eml")[0].code == "771900"


async def test_wait_for_names_what_it_holds_when_time_runs_out(tmp_path: Path) -> None:
    (tmp_path / "1-00001.eml").write_bytes(code_email("048213"))
    spool = SmtpSpool(tmp_path)

    found = await spool.wait_for(lambda mail: mail.is_to(EMPLOYEE), timeout=1)
    assert len(found) == 1
    with pytest.raises(TimeoutError, match="Код для входа"):
        await spool.wait_for(lambda mail: mail.code == "999999", timeout=0.2)


async def test_wait_for_sees_mail_that_arrives_later(tmp_path: Path) -> None:
    spool = SmtpSpool(tmp_path / "not-yet")

    async def arrive() -> None:
        await asyncio.sleep(0.1)
        (tmp_path / "not-yet").mkdir()
        (tmp_path / "not-yet" / "1-00001.eml").write_bytes(code_email("123456"))

    task = asyncio.create_task(arrive())
    found = await spool.wait_for(lambda mail: mail.code is not None, timeout=5)
    await task
    assert found[0].code == "123456"
