"""Service-specific environment for starting a service process in tests.

Each service's owner keeps its entry here in step with the settings the service requires.
"""

from __future__ import annotations

from pathlib import Path


def extra_env(name: str, workdir: Path) -> dict[str, str]:
    """Settings beyond HELPDESK_* that service `name` needs to start in a test."""
    del workdir
    if name == "auth":
        # Auth asks the directory only on demand, so it starts with nothing listening there.
        return {
            "AUTH_CODE_PEPPER": "lifecycle-test-pepper-not-secret",
            "AUTH_LDAP_URL": "ldap://127.0.0.1:9",
            "AUTH_LDAP_SECURITY": "plain",
        }
    if name == "mailer":
        # SMTP is only dialled when there is mail to send: nothing needs to listen on port 9.
        return {
            "MAILER_SMTP_HOST": "127.0.0.1",
            "MAILER_SMTP_PORT": "9",
            "MAILER_SMTP_SECURITY": "none",
            "MAILER_FROM_ADDRESS": "helpdesk-bot@example.com",
            "MAILER_TICKET_TO": "itsm@example.com",
        }
    if name == "inbox":
        # The first poll finds nothing on port 9 and logs a warning; the service runs on and
        # polls again an hour later. Start-up never waits for the mailbox.
        return {
            "INBOX_POP3_HOST": "127.0.0.1",
            "INBOX_POP3_PORT": "9",
            "INBOX_POP3_SECURITY": "plain",
            "INBOX_POP3_USER": "helpdesk@example.com",
            "INBOX_POP3_PASSWORD": "lifecycle-test-not-secret",
            "INBOX_POLL_INTERVAL_SECONDS": "3600",
            "INBOX_TRUSTED_SENDERS": "inframanager@example.com",
        }
    if name == "gateway":
        # The gateway starts without Telegram: it consumes at once and waits (warnings only)
        # until the Bot API answers. Nothing listens on port 9.
        return {
            "GATEWAY_BOT_TOKEN": "123456:lifecycle-test-token-not-secret",
            "GATEWAY_TELEGRAM_API_BASE": "http://127.0.0.1:9",
        }
    return {}
