"""POP3S and STLS verify the server certificate; an untrusted one is refused before login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpdesk_inbox.errors import MailboxSecurityError

from tests.integration.inbox.conftest import InboxEnv, new_ticket, status_mail

pytestmark = pytest.mark.integration


def tls_settings(env: InboxEnv, security: str, ca_file: Path | None) -> dict[str, Any]:
    port = env.dovecot.pop3s_port if security == "pop3s" else env.dovecot.pop3_port
    return {"pop3_security": security, "pop3_port": port, "pop3_ca_file": ca_file}


@pytest.mark.parametrize("security", ["pop3s", "starttls"])
async def test_an_untrusted_certificate_is_refused_and_nothing_is_read(
    inbox_env: InboxEnv, security: str
) -> None:
    inbox_env.dovecot.deliver(status_mail(None, "12345", "В работе"), user=inbox_env.user)
    settings = inbox_env.settings(**tls_settings(inbox_env, security, ca_file=None))
    async with inbox_env.running(settings) as service:
        with pytest.raises(MailboxSecurityError, match="CERTIFICATE_VERIFY_FAILED"):
            await service.poller.poll_once()

    # Refused during the handshake: no login, so Dovecot logged no POP3 session at all.
    assert inbox_env.dovecot.logout_stats(inbox_env.user) == []
    assert await inbox_env.db["inbox_seen"].find_one({}) is None
    assert inbox_env.events.received == []


@pytest.mark.parametrize("security", ["pop3s", "starttls"])
async def test_a_trusted_ca_file_lets_the_poll_through(inbox_env: InboxEnv, security: str) -> None:
    ticket_id, reference = new_ticket()
    ca = inbox_env.dovecot.ca_cert_pem_path
    settings = inbox_env.settings(**tls_settings(inbox_env, security, ca_file=ca))
    async with inbox_env.running(settings) as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver(status_mail(reference, "12345", "В работе"), user=inbox_env.user)
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    assert report.retrieved == 1
    assert [body["status"] for _, body in events] == ["in_progress"]


async def test_a_wrong_password_is_reported_as_a_login_error(inbox_env: InboxEnv) -> None:
    from helpdesk_inbox.errors import MailboxLoginError

    settings = inbox_env.settings(pop3_password="not-the-password")
    async with inbox_env.running(settings) as service:
        with pytest.raises(MailboxLoginError, match=inbox_env.user) as refused:
            await service.poller.poll_once()
    assert "not-the-password" not in str(refused.value)
