"""Settings of the auth service: `AUTH_*` environment variables (and /run/secrets files).

Secrets (`AUTH_CODE_PEPPER`, `AUTH_LDAP_BIND_PASSWORD`) are SecretStr and never logged; errors
about them hide the input (`hide_input_in_errors`), so a rejected value never reaches a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from helpdesk_runtime.settings import InfraSettings, secrets_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PEPPER_MIN_LENGTH = 16

LdapSecurity = Literal["ldaps", "starttls", "plain"]

OPENLDAP_ACTIVE_FILTER = "(!(employeeType=disabled))"
"""Default: OpenLDAP has no account-disabled flag; the directory marks leavers this way."""

AD_ACTIVE_FILTER = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
"""For Active Directory: bit 2 of userAccountControl (ACCOUNTDISABLE) is not set."""


class AuthSettings(BaseSettings):
    """Everything auth reads from its environment; built in `create_app`, never at import."""

    model_config = SettingsConfigDict(
        env_prefix="AUTH_",
        secrets_dir=secrets_dir(),
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    infra: InfraSettings = Field(default_factory=InfraSettings)

    # -- one-time codes --------------------------------------------------------------------
    code_pepper: SecretStr = Field(
        default=SecretStr(""),
        validate_default=True,
        description="Secret key of the HMAC that codes are stored as (AUTH_CODE_PEPPER).",
    )
    code_ttl_seconds: int = Field(default=600, ge=60, le=86_400)
    resend_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    max_codes_per_user_per_hour: int = Field(default=5, ge=1, le=1000)
    max_codes_per_email_per_hour: int = Field(default=5, ge=1, le=1000)
    max_attempts_per_code: int = Field(default=5, ge=1, le=100)
    allowed_email_domains: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated domains an address may have; empty allows any domain.",
    )
    enumeration_protection: bool = Field(
        default=True,
        description="Answer unknown and disabled addresses exactly like known ones.",
    )

    # -- directory ---------------------------------------------------------------------------
    ldap_url: str = Field(default="ldaps://ldap.example.com", pattern=r"^ldaps?://[^\s/]+/?$")
    ldap_security: LdapSecurity = Field(
        default="ldaps",
        description="ldaps (ldaps:// URL), starttls or plain (ldap:// URL; plain only for a "
        "directory on a trusted network such as the local test one).",
    )
    ldap_ca_file: Path | None = Field(
        default=None, description="PEM bundle to trust instead of the system CAs."
    )
    ldap_verify_certificate: bool = True
    ldap_bind_dn: str = Field(default="", description="Service account; empty binds anonymously.")
    ldap_bind_password: SecretStr = SecretStr("")
    ldap_base_dn: str = Field(default="dc=example,dc=com", min_length=1)
    ldap_user_filter: str = Field(
        default="(&(objectClass=person)(mail={email}))",
        description="Search filter; {email} is replaced by the escaped address.",
    )
    ldap_active_filter: str = Field(
        default=OPENLDAP_ACTIVE_FILTER,
        description="ANDed with the user filter to keep only active accounts; empty disables "
        f"the check. Active Directory: {AD_ACTIVE_FILTER}",
    )
    ldap_attr_mail: str = "mail"
    ldap_attr_display_name: str = "displayName"
    ldap_attr_display_name_fallback: str = "cn"
    ldap_attr_phone: str = "telephoneNumber"
    ldap_attr_department: str = Field(
        default="departmentNumber", description="Active Directory: department."
    )
    ldap_attr_title: str = "title"
    ldap_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    ldap_receive_timeout_seconds: int = Field(
        default=10, ge=1, le=120, description="Whole seconds (ldap3 sets it as a socket option)."
    )
    ldap_max_concurrency: int = Field(default=4, ge=1, le=64)

    # -- directory re-check ------------------------------------------------------------------
    recheck_interval_seconds: int = Field(
        default=86_400, ge=60, description="How often each authorised user is looked up again."
    )
    recheck_batch_size: int = Field(default=100, ge=1, le=5000)

    @field_validator("code_pepper")
    @classmethod
    def _pepper_is_strong_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < PEPPER_MIN_LENGTH:
            raise ValueError(
                f"AUTH_CODE_PEPPER is missing or shorter than {PEPPER_MIN_LENGTH} characters; "
                "set it to a long random secret (e.g. `openssl rand -base64 32`)"
            )
        return value

    @field_validator("allowed_email_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return tuple(str(d).strip().lower().lstrip("@") for d in value if str(d).strip())
        return value

    @field_validator("ldap_user_filter")
    @classmethod
    def _user_filter_has_placeholder(cls, value: str) -> str:
        if value.count("{email}") != 1 or not _looks_like_filter(value):
            raise ValueError("AUTH_LDAP_USER_FILTER must be one (...) filter with one {email}")
        return value

    @field_validator("ldap_active_filter")
    @classmethod
    def _active_filter_is_a_filter(cls, value: str) -> str:
        if value and not _looks_like_filter(value):
            raise ValueError("AUTH_LDAP_ACTIVE_FILTER must be empty or one (...) filter")
        return value

    @model_validator(mode="after")
    def _url_matches_security(self) -> Self:
        secure_url = self.ldap_url.startswith("ldaps://")
        if (self.ldap_security == "ldaps") != secure_url:
            raise ValueError(
                "AUTH_LDAP_SECURITY=ldaps needs an ldaps:// AUTH_LDAP_URL; "
                "starttls and plain need ldap://"
            )
        return self


def _looks_like_filter(value: str) -> bool:
    depth = 0
    for index, char in enumerate(value):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0 or (depth == 0 and index != len(value) - 1):
            return False
    return value.startswith("(") and depth == 0
