"""Who may change a ticket by mail: the INBOX_* settings `trust.SenderPolicy` is built from.

Its own settings class so `helpdesk-inbox parse` can judge a sender without the POP3 settings.
"""

from __future__ import annotations

from helpdesk_runtime.settings import secrets_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_inbox.trust import AuthResultsPolicy, SenderPolicy, parse_sender_list


class SenderSettings(BaseSettings):
    """Who may change a ticket by mail (also read by `helpdesk-inbox parse`)."""

    model_config = SettingsConfigDict(
        env_prefix="INBOX_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    trusted_senders: str = Field(
        default="",
        description="Comma-separated addresses and @domain entries InfraManager sends from. "
        "Mail from anyone else never changes a ticket (quarantined as untrusted_sender). "
        "Required unless INBOX_TRUST_ANY_SENDER=true.",
    )
    trust_any_sender: bool = Field(
        default=False,
        description="Trust every sender (only where nobody else can write to the mailbox).",
    )
    require_auth_results: AuthResultsPolicy = Field(
        default="off",
        description="off: an explicit dkim=fail/dmarc=fail for the From domain in "
        "Authentication-Results makes a listed sender untrusted; pass: a listed sender also "
        "needs dkim=pass or dmarc=pass for its domain there.",
    )
    auth_server_ids: str = Field(
        default="",
        description="Comma-separated authserv-ids of your own receiving mail servers: only "
        "their Authentication-Results headers are read (others may be forged by the sender). "
        "Empty: every such header is read.",
    )

    def sender_policy(self) -> SenderPolicy:
        return SenderPolicy(
            senders=parse_sender_list(self.trusted_senders),
            trust_any=self.trust_any_sender,
            require_auth_results=self.require_auth_results,
            auth_server_ids=tuple(
                i.strip().lower() for i in self.auth_server_ids.split(",") if i.strip()
            ),
        )
