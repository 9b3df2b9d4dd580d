"""What auth asks the directory and how it reads the answer; no I/O here.

Every value typed by a user goes into a filter only through `escape_filter_chars`, so input such
as `*)(uid=*))(|(uid=*` is a literal string to the server, never filter syntax.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from helpdesk_contracts.auth.v1 import EmployeeProfile
from ldap3.utils.conv import escape_filter_chars
from pydantic import ValidationError

from helpdesk_auth.emails import normalise_email

_TEXT_LIMIT = 256
_DN_LIMIT = 1024


class EntryStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class DirectoryLookup:
    """The directory's answer about one address: a profile only for an active account."""

    status: EntryStatus
    profile: EmployeeProfile | None = None


NOT_FOUND = DirectoryLookup(EntryStatus.NOT_FOUND)
DISABLED = DirectoryLookup(EntryStatus.DISABLED)


@dataclass(frozen=True, slots=True)
class AttributeMap:
    """Which directory attribute holds each part of the profile (they differ between AD and
    OpenLDAP: department vs departmentNumber)."""

    mail: str = "mail"
    display_name: str = "displayName"
    display_name_fallback: str = "cn"
    phone: str = "telephoneNumber"
    department: str = "departmentNumber"
    title: str = "title"

    def requested(self) -> list[str]:
        names = [
            self.mail,
            self.display_name,
            self.display_name_fallback,
            self.phone,
            self.department,
            self.title,
        ]
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True, slots=True)
class Filters:
    user_template: str
    active: str

    def user(self, email: str) -> str:
        """The configured user filter for this address, with the address escaped."""
        return self.user_template.replace("{email}", escape_filter_chars(email))

    def active_user(self, email: str) -> str:
        """Only an active account with this address."""
        user = self.user(email)
        return f"(&{user}{self.active})" if self.active else user


def profile_from_entry(
    dn: str, attributes: Mapping[str, object], attrs: AttributeMap, *, looked_up: str
) -> EmployeeProfile | None:
    """The profile of a directory entry, or None when the entry cannot be one (no usable name).

    The directory's own `mail` value wins over what the employee typed (the code goes where the
    directory says); `looked_up` is used when the entry has none (a filter on another attribute).
    """
    lowered = {key.lower(): value for key, value in attributes.items()}

    def first(name: str) -> str | None:
        value = lowered.get(name.lower()) if name else None
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if value is None:
            return None
        text = str(value).strip()
        return text[:_TEXT_LIMIT] if text else None

    email = normalise_email(first(attrs.mail) or "") or normalise_email(looked_up)
    name = first(attrs.display_name) or first(attrs.display_name_fallback)
    if email is None or name is None or len(dn) > _DN_LIMIT:
        return None
    try:
        return EmployeeProfile(
            email=email,
            display_name=name,
            phone=first(attrs.phone),
            department=first(attrs.department),
            title=first(attrs.title),
            directory_dn=dn,
        )
    except ValidationError:
        return None
