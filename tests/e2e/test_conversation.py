"""One comment round trip through every service, each its own OS process (the sandbox, as in
test_journey.py): an employee files a ticket; InfraManager (the simulator) asks a question in its
notification; the employee gets it in Telegram and answers with a Telegram reply to it; the answer
reaches the SMTP sink as an email in InfraManager's thread (`In-Reply-To` / `References`, subject
`Re: ` + InfraManager's), and the employee is told «Комментарий отправлен». InfraManager's answer
comes back with a screenshot, shown in the chat as a photo.
"""

from __future__ import annotations

import asyncio
import re
from email.utils import getaddresses
from pathlib import Path

import pytest
from helpdesk_harness.spool import SpooledMail
from helpdesk_sandbox.imsim import FIRST_NUMBER, asks_question
from helpdesk_sandbox.stack import Sandbox, SandboxConfig

from tests.e2e.test_journey import EMPLOYEE, HELPDESK, WAIT, Employee, T, signs_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

# The simulator asks a question on some tickets; the first ticket gets this number.
NUMBER = next(n for n in range(FIRST_NUMBER, FIRST_NUMBER + 8) if asks_question(n))
QUESTION = "Подскажите, пожалуйста, номер кабинета и инвентарный номер устройства?"
ANSWER = "Кабинет 301, инвентарный номер 4521."


async def test_a_question_from_support_is_answered_by_a_telegram_reply(tmp_path: Path) -> None:
    config = SandboxConfig(
        workdir=tmp_path / "sandbox",
        pace=0.5,
        inbox_poll_seconds=0.3,
        webchat=False,
        first_ticket_number=NUMBER,
    )
    sandbox = Sandbox(config)
    try:
        await asyncio.to_thread(sandbox.start)
        await round_trip(sandbox)
    finally:
        await asyncio.to_thread(sandbox.stop)


async def round_trip(sandbox: Sandbox) -> None:
    spool = sandbox.spool
    async with sandbox.telegram_client() as tg:
        maria = Employee(tg, EMPLOYEE.telegram)
        await signs_in(maria, spool)

        await maria.says(T("menu-new-ticket"))
        question = await maria.sees_text("wizard-choose-category")
        await maria.presses(question, "Сеть и интернет")
        await maria.sees_start_of("wizard-ask-description")
        await maria.says("Не открываются сайты, сеть пропадает каждые 5 минут")
        where = await maria.sees_text("wizard-ask-location")
        await maria.presses(where, T("button-skip-location"))
        photos = await maria.sees_start_of("wizard-ask-photos")
        await maria.presses(photos, T("button-no-photos"))
        preview = await maria.sees_start_of("wizard-preview")
        await maria.presses(preview, T("button-send"))
        accepted = await maria.sees_start_of("ticket-submitted")
        found = re.search(r"TG-[0-9A-Z]{6}", accepted.visible_text)
        assert found is not None
        reference = found.group(0)

        (ticket_mail,) = await spool.wait_for(
            lambda m: m.is_to(HELPDESK) and reference in m.subject, timeout=WAIT
        )

        # InfraManager asks; the question reaches Telegram with «Ответить».
        asked = await maria.sees(lambda m: QUESTION in m.visible_text)
        assert T("button-answer") in asked.button_texts
        label = T("ticket-label-number", reference=reference, number=NUMBER)
        assert label in asked.visible_text

        # The employee answers by replying to that message in Telegram.
        await tg.send_text(maria.user, ANSWER, reply_to=asked.message_id)
        await maria.sees_text("conversation-comment-sent", ticket=label, after=asked.message_id)

        def is_reply(mail: SpooledMail) -> bool:
            return mail.is_to(HELPDESK) and mail.message["X-Helpdesk-Reply"] == "comment"

        (reply,) = await spool.wait_for(is_reply, timeout=WAIT)
        assert ANSWER in reply.text
        thread = str(reply.message["References"]).split()
        assert thread[0] == ticket_mail.message_id  # the ticket email starts the thread
        im_ids = [i for i in thread if i.endswith("@inframanager.example.com>")]
        assert im_ids, thread  # ...and InfraManager's notifications follow it
        assert str(reply.message["In-Reply-To"]) == thread[-1]
        assert reply.subject.startswith(f"Re: Заявка №{NUMBER} ")
        assert [a for _, a in getaddresses([str(reply.message["Reply-To"])])] == [EMPLOYEE.email]

        # InfraManager answers the comment (with a screenshot) and finishes the work.
        await maria.sees(lambda m: m.visible_text.startswith("💬"), after=asked.message_id)
        screenshot = await maria.sees(lambda m: m.kind == "photo", after=asked.message_id)
        assert screenshot.visible_text == T("conversation-file-caption", ticket=label)
        assert screenshot.photo is not None and len(screenshot.photo) > 0
        await maria.sees(
            lambda m: m.visible_text.startswith(T("notify-status-resolved", ticket=label)),
            after=asked.message_id,
        )
