"""The directory as it really behaves: people leave, servers stop, answers are slow, TLS."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    RejectReason,
    RevokeReason,
    UserRevoked,
)
from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_harness.ldap_server import SlapdServer
from pydantic import SecretStr

from tests.integration.auth.conftest import WorldFactory

pytestmark = pytest.mark.integration

DAY = 86_400


async def test_the_daily_recheck_revokes_people_disabled_or_removed_in_the_directory(
    auth_world: WorldFactory, slapd_fresh: SlapdServer
) -> None:
    world = await auth_world(directory=slapd_fresh)
    for uid, email in (
        (6001, "maria.ivanova@example.com"),
        (6002, "ivan.petrov@example.com"),
        (6003, "john.smith@example.com"),
    ):
        await world.sign_in(uid, email)
    slapd_fresh.disable("maria.ivanova")
    slapd_fresh.delete("ivan.petrov")

    # Not due yet: a pass before the interval has passed asks nobody about anybody.
    world.clock.advance(DAY - 1)
    early = await world.service.recheck.run_once()
    assert (early.checked, early.revoked) == (0, [])

    world.clock.advance(1)
    report = await world.service.recheck.run_once()
    assert report.checked == 3
    assert sorted(report.revoked) == [6001, 6002]
    disabled = await world.bus.wait_for(UserRevoked, lambda m: m.telegram_user_id == 6001)
    removed = await world.bus.wait_for(UserRevoked, lambda m: m.telegram_user_id == 6002)
    assert (disabled.reason, disabled.email) == (
        RevokeReason.DIRECTORY_DISABLED,
        "maria.ivanova@example.com",
    )
    assert removed.reason is RevokeReason.DIRECTORY_REMOVED
    await world.settle()
    assert {m.telegram_user_id for m in world.bus.all(UserRevoked)} == {6001, 6002}

    # A disabled person gets no code again; with protection on they are not told why.
    mailed = len(world.bus.all(SendMail))
    assert isinstance(await world.ask(6001, "maria.ivanova@example.com"), CodeSent)
    await world.settle()
    assert len(world.bus.all(SendMail)) == mailed


async def test_a_recheck_while_the_directory_is_down_revokes_nobody(
    auth_world: WorldFactory, slapd_fresh: SlapdServer
) -> None:
    world = await auth_world(directory=slapd_fresh)
    await world.sign_in(6101, "maria.ivanova@example.com")
    slapd_fresh.stop()
    world.clock.advance(DAY)

    report = await world.service.recheck.run_once()
    assert report.directory_unavailable
    assert report.revoked == []

    slapd_fresh.start()  # back, and Maria is still employed: checked, kept
    report = await world.service.recheck.run_once()
    assert (report.checked, report.revoked) == (1, [])
    await world.settle()
    assert world.bus.all(UserRevoked) == []


async def test_directory_stopped_mid_run_is_reported_and_auth_recovers_when_it_returns(
    auth_world: WorldFactory, slapd_fresh: SlapdServer
) -> None:
    world = await auth_world(directory=slapd_fresh)
    assert isinstance(await world.ask(6201, "maria.ivanova@example.com"), CodeSent)

    slapd_fresh.stop()
    started = time.monotonic()
    down = await world.refused(6202, "ivan.petrov@example.com")
    assert down.reason is RejectReason.DIRECTORY_UNAVAILABLE
    assert time.monotonic() - started < 5

    slapd_fresh.start()
    # The refused request was not counted: the same user may ask again at once.
    _, code = await world.code_for(6202, "ivan.petrov@example.com")
    assert len(code) == 6


@pytest.fixture
def silent_directory() -> Iterator[int]:
    """A port that accepts connections and never answers: the slowest directory there is."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


async def test_a_directory_that_never_answers_costs_a_bounded_wait(
    auth_world: WorldFactory, silent_directory: int
) -> None:
    world = await auth_world(
        ldap_url=f"ldap://127.0.0.1:{silent_directory}", ldap_receive_timeout_seconds=1
    )
    started = time.monotonic()
    answer = await world.refused(6301, "maria.ivanova@example.com")
    elapsed = time.monotonic() - started
    assert answer.reason is RejectReason.DIRECTORY_UNAVAILABLE
    assert 0.9 < elapsed < 4
    # The event loop stayed free meanwhile: other commands were answered during the wait.
    invalid = await world.refused(6302, "not an address")
    assert invalid.reason is RejectReason.INVALID_EMAIL


async def test_ldaps_and_starttls_with_a_trusted_certificate(
    auth_world: WorldFactory, slapd: SlapdServer
) -> None:
    world = await auth_world(
        ldap_url=slapd.ldaps_url, ldap_security="ldaps", ldap_ca_file=slapd.ca_cert_pem_path
    )
    assert isinstance(await world.ask(6401, "maria.ivanova@example.com"), CodeSent)
    await world.service.app.stop()  # one auth at a time on the queues

    world = await auth_world(
        ldap_url=slapd.starttls_url, ldap_security="starttls", ldap_ca_file=slapd.ca_cert_pem_path
    )
    assert isinstance(await world.ask(6402, "ivan.petrov@example.com"), CodeSent)


@pytest.mark.parametrize("security", ["ldaps", "starttls"])
async def test_an_untrusted_directory_certificate_is_refused(
    auth_world: WorldFactory, slapd: SlapdServer, tmp_path: Path, security: str
) -> None:
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    url = slapd.ldaps_url if security == "ldaps" else slapd.starttls_url
    world = await auth_world(ldap_url=url, ldap_security=security, ldap_ca_file=stranger)
    answer = await world.refused(6501, "maria.ivanova@example.com")
    assert answer.reason is RejectReason.DIRECTORY_UNAVAILABLE


async def test_a_wrong_service_password_is_directory_unavailable_and_logged_for_ops(
    auth_world: WorldFactory, caplog: pytest.LogCaptureFixture
) -> None:
    world = await auth_world(ldap_bind_password=SecretStr("not-the-password"))
    answer = await world.refused(6601, "maria.ivanova@example.com")
    assert answer.reason is RejectReason.DIRECTORY_UNAVAILABLE
    assert "directory refused the service account bind" in caplog.text
    assert "not-the-password" not in caplog.text
    assert isinstance(answer, CodeRejected)
