"""Signing in with a one-time code: the employee's journey as the gateway and mailer see it."""

from __future__ import annotations

import pytest
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    EmployeeProfile,
    RejectReason,
    UserAuthorized,
)
from helpdesk_contracts.mail.v1 import MailTemplate, SendMail
from helpdesk_harness.ldap_server import SlapdServer

from tests.integration.auth.conftest import PEPPER, WorldFactory

pytestmark = pytest.mark.integration

MARIA = "maria.ivanova@example.com"


async def test_an_employee_gets_a_code_by_email_and_signs_in_with_it(
    auth_world: WorldFactory, slapd: SlapdServer
) -> None:
    world = await auth_world()
    request = await world.request(1001, "  Maria.Ivanova@EXAMPLE.com ")

    sent = await world.bus.answer(request)
    assert isinstance(sent, CodeSent)
    assert sent.masked_email == "M***a@example.com"
    assert sent.chat_id == 1001
    assert sent.resend_after_seconds == 60
    assert (sent.expires_at - world.clock.now).total_seconds() == 600

    mail = await world.mail_for(request)
    assert mail.to == MARIA  # the directory's address, not the typed spelling
    assert mail.template is MailTemplate.AUTH_CODE
    assert mail.locale == "ru"
    code = mail.variables["code"]
    assert len(code) == 6 and code.isdigit()
    assert mail.variables["display_name"] == "Иванова Мария Петровна"
    assert mail.variables["expires_minutes"] == "10"

    authorized = await world.try_code(1001, f"{code[:3]} {code[3:]}")
    assert isinstance(authorized, UserAuthorized)
    assert authorized.chat_id == 1001
    assert authorized.authorized_at == world.clock.now
    assert authorized.profile == EmployeeProfile(
        email=MARIA,
        display_name="Иванова Мария Петровна",
        phone="+7 495 111-22-01",
        department="Бухгалтерия",
        title="Главный бухгалтер",
        directory_dn=slapd.employee_dn("maria.ivanova"),
    )

    # MongoDB holds only an HMAC of the code: neither the code nor the pepper is stored.
    stored = await world.service.store.codes.find_one({"_id": 1001})
    assert stored is not None
    assert code not in repr(stored)
    assert PEPPER not in repr(stored)


@pytest.mark.parametrize("email", ["nobody.here@example.com", "alexey.kuznetsov@example.com"])
async def test_unknown_and_disabled_addresses_look_exactly_like_known_ones(
    auth_world: WorldFactory, email: str
) -> None:
    world = await auth_world()
    known_sent, _ = await world.code_for(2001, MARIA)
    answer = await world.ask(2002, email)

    assert isinstance(answer, CodeSent)
    assert answer.resend_after_seconds == known_sent.resend_after_seconds
    assert answer.expires_at == known_sent.expires_at
    # Attempts at the phantom code are answered as attempts at a real one.
    known_wrong = await world.try_code(2001, "999999")
    phantom_wrong = await world.try_code(2002, "999999")
    assert isinstance(known_wrong, CodeRejected) and isinstance(phantom_wrong, CodeRejected)
    assert (phantom_wrong.reason, phantom_wrong.attempts_left) == (
        known_wrong.reason,
        known_wrong.attempts_left,
    )
    await world.settle()
    # ...but no email went anywhere: only Maria's code was mailed.
    assert [m.to for m in world.bus.all(SendMail)] == [MARIA]


async def test_without_enumeration_protection_the_reason_is_told(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(enumeration_protection=False)
    assert (await world.refused(2101, "nobody.here@example.com")).reason is RejectReason.NOT_FOUND
    disabled = await world.refused(2102, "alexey.kuznetsov@example.com")
    assert disabled.reason is RejectReason.ACCOUNT_DISABLED
    await world.settle()
    assert world.bus.all(SendMail) == []


async def test_display_names_with_filter_metacharacters_and_latin_names_arrive_intact(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world()
    volkov = await world.sign_in(2201, "dmitry.volkov@example.com")
    assert volkov.profile.display_name == "Волков Дмитрий (подрядчик) *"
    assert volkov.profile.department == "Склад"
    smith = await world.sign_in(2202, "john.smith@example.com")
    assert (smith.profile.display_name, smith.profile.title) == ("John Smith", "Network engineer")
    smirnova = await world.sign_in(2203, "olga.smirnova@example.com")
    assert smirnova.profile.phone is None  # not in the directory: absent, not an error


HOSTILE_INPUT: list[tuple[str, RejectReason]] = [
    # Valid addresses made of filter syntax: escaped, they match nobody.
    ("*)(uid=*))(|(uid=*@example.com", RejectReason.NOT_FOUND),
    ("*@example.com", RejectReason.NOT_FOUND),
    ("maria.ivanova*@example.com", RejectReason.NOT_FOUND),
    ("*)(mail=*@example.com", RejectReason.NOT_FOUND),
    ("m" * 64 + "@example.com", RejectReason.NOT_FOUND),
    # Not addresses at all: refused before the directory is asked.
    ("*", RejectReason.INVALID_EMAIL),
    ("*)(uid=*))(|(uid=*", RejectReason.INVALID_EMAIL),
    ("maria.ivanova\x00@example.com", RejectReason.INVALID_EMAIL),
    ("maria.ivanova@example.com\x00)(uid=*", RejectReason.INVALID_EMAIL),
    ("m" * 300 + "@example.com", RejectReason.INVALID_EMAIL),
    ("", RejectReason.INVALID_EMAIL),
]


async def test_hostile_input_never_widens_the_directory_search(auth_world: WorldFactory) -> None:
    world = await auth_world(enumeration_protection=False)
    requests = [
        await world.request(2300 + index, typed) for index, (typed, _) in enumerate(HOSTILE_INPUT)
    ]
    answers = [await world.bus.answer(request) for request in requests]
    assert [(a.reason if isinstance(a, CodeRejected) else a) for a in answers] == [
        reason for _, reason in HOSTILE_INPUT
    ]
    await world.settle()
    assert world.bus.all(SendMail) == []


async def test_addresses_outside_the_allowed_domains_are_refused(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(allowed_email_domains="corp.example.org, example.org")
    refused = await world.refused(2401, MARIA)
    assert refused.reason is RejectReason.DOMAIN_NOT_ALLOWED


async def test_five_wrong_codes_void_the_code_even_for_the_right_one_after(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world()
    _, code = await world.code_for(2501, MARIA)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    answers = [await world.try_code(2501, wrong) for _ in range(5)]
    assert [(a.reason, a.attempts_left) for a in answers if isinstance(a, CodeRejected)] == [
        (RejectReason.WRONG_CODE, 4),
        (RejectReason.WRONG_CODE, 3),
        (RejectReason.WRONG_CODE, 2),
        (RejectReason.WRONG_CODE, 1),
        (RejectReason.TOO_MANY_ATTEMPTS, 0),
    ]
    late = await world.try_code(2501, code)
    assert isinstance(late, CodeRejected)
    assert late.reason is RejectReason.TOO_MANY_ATTEMPTS
    assert world.bus.all(UserAuthorized) == []

    # The lockout says when a new code can be asked for, and then one is sent.
    wait = late.retry_after_seconds
    assert wait is not None
    assert 0 < wait <= 61
    world.clock.advance(wait)
    _, fresh = await world.code_for(2501, MARIA)
    assert isinstance(await world.try_code(2501, fresh), UserAuthorized)


async def test_text_that_is_not_a_code_does_not_use_up_an_attempt(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world()
    await world.code_for(2601, MARIA)
    typo = await world.try_code(2601, "hello")
    assert isinstance(typo, CodeRejected)
    assert (typo.reason, typo.attempts_left) == (RejectReason.WRONG_CODE, 5)


async def test_a_code_works_for_ten_minutes_and_not_a_moment_longer(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world(resend_cooldown_seconds=0)
    _, in_time = await world.code_for(2701, MARIA)
    _, too_late = await world.code_for(2702, "ivan.petrov@example.com")
    world.clock.advance(599)
    assert isinstance(await world.try_code(2701, in_time), UserAuthorized)
    world.clock.advance(1)  # exactly ten minutes: the code's last moment has passed
    expired = await world.try_code(2702, too_late)
    assert isinstance(expired, CodeRejected)
    assert expired.reason is RejectReason.EXPIRED
    assert [m.telegram_user_id for m in world.bus.all(UserAuthorized)] == [2701]


async def test_a_code_works_once_and_only_for_the_telegram_user_who_asked(
    auth_world: WorldFactory,
) -> None:
    world = await auth_world()
    _, code = await world.code_for(2801, MARIA)
    stranger = await world.try_code(2802, code)
    assert isinstance(stranger, CodeRejected)
    assert stranger.reason is RejectReason.NO_ACTIVE_CODE

    assert isinstance(await world.try_code(2801, code), UserAuthorized)
    again = await world.try_code(2801, code)
    assert isinstance(again, CodeRejected)
    assert again.reason is RejectReason.NO_ACTIVE_CODE
    assert len(world.bus.all(UserAuthorized)) == 1


async def test_a_failed_code_email_is_reported_to_the_user(auth_world: WorldFactory) -> None:
    from helpdesk_contracts.mail.v1 import MailFailed

    world = await auth_world()
    request = await world.request(2901, MARIA)
    mail = await world.mail_for(request)
    world.clock.advance(20)
    await world.bus.publish(
        MailFailed(
            correlation_id=mail.message_id,
            template=MailTemplate.AUTH_CODE,
            smtp_code=550,
            reason="550 5.1.1 mailbox unavailable",
        )
    )
    failed = await world.bus.wait_for(CodeRejected, lambda m: m.reason is RejectReason.MAIL_FAILED)
    assert (failed.telegram_user_id, failed.chat_id) == (2901, 2901)
    assert failed.correlation_id == request.message_id
    assert failed.retry_after_seconds == 40  # what is left of the resend cooldown
    # The code that never arrived is void.
    late = await world.try_code(2901, mail.variables["code"])
    assert isinstance(late, CodeRejected)
    assert late.reason is RejectReason.NO_ACTIVE_CODE


async def test_codes_pepper_and_directory_password_never_reach_the_logs(
    auth_world: WorldFactory, slapd: SlapdServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    world = await auth_world()
    _, code = await world.code_for(3001, MARIA)
    await world.try_code(3001, "000000" if code != "000000" else "111111")
    await world.try_code(3001, code)
    await world.ask(3002, "nobody.here@example.com")
    await world.settle()
    logged = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    assert "code sent" in logged  # the capture works
    for secret in (code, PEPPER, slapd.service_password):
        assert secret not in logged
