"""The corporate directory through ldap3, which blocks: every call runs in a worker thread
under a deadline, so a dead or slow directory costs a bounded wait, never the event loop.

A connection lives for one call (open, StartTLS if configured, bind as the service account,
search, unbind): no pooled socket can go stale while the directory restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import ldap3
from ldap3.core.exceptions import LDAPException, LDAPInvalidCredentialsResult

from helpdesk_auth.directory import (
    DISABLED,
    NOT_FOUND,
    AttributeMap,
    DirectoryLookup,
    EntryStatus,
    Filters,
    profile_from_entry,
)
from helpdesk_auth.emails import mask_email
from helpdesk_auth.errors import DirectoryUnavailableError
from helpdesk_auth.settings import AuthSettings

logger = logging.getLogger("helpdesk.auth.ldap")

T = TypeVar("T")

_RESULT_SUCCESS = 0
_RESULT_SIZE_LIMIT_EXCEEDED = 4
# Operations on one connection besides the searches: open, StartTLS, bind, unbind.
_FIXED_OPERATIONS = 4


class LdapDirectory:
    """Looks employees up by email; raises DirectoryUnavailableError when it cannot."""

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._filters = Filters(settings.ldap_user_filter, settings.ldap_active_filter)
        self._attrs = AttributeMap(
            mail=settings.ldap_attr_mail,
            display_name=settings.ldap_attr_display_name,
            display_name_fallback=settings.ldap_attr_display_name_fallback,
            phone=settings.ldap_attr_phone,
            department=settings.ldap_attr_department,
            title=settings.ldap_attr_title,
        )
        self._slots = asyncio.Semaphore(settings.ldap_max_concurrency)

    async def lookup(self, email: str, *, tell_disabled: bool) -> DirectoryLookup:
        """The active account with this address; DISABLED (only when asked to tell) or NOT_FOUND.

        Telling disabled from unknown costs a second search, so it is done only when the
        answer is used (enumeration protection off, directory re-check).
        """
        return await self._call(
            lambda conn: self._lookup(conn, email, tell_disabled=tell_disabled), searches=2
        )

    async def lookup_many(self, emails: Sequence[str]) -> list[DirectoryLookup]:
        """Look several addresses up over one connection (the periodic re-check)."""
        return await self._call(
            lambda conn: [self._lookup(conn, e, tell_disabled=True) for e in emails],
            searches=2 * len(emails),
        )

    # -- plumbing ------------------------------------------------------------------------------

    async def _call(self, work: Callable[[ldap3.Connection], T], *, searches: int) -> T:
        s = self._settings
        # Each operation is bounded by the receive timeout inside the thread; this outer
        # deadline is the backstop for anything ldap3 does not bound (e.g. DNS).
        deadline = s.ldap_connect_timeout_seconds + s.ldap_receive_timeout_seconds * (
            searches + _FIXED_OPERATIONS
        )
        async with self._slots:
            try:
                async with asyncio.timeout(deadline):
                    return await asyncio.to_thread(self._session, work)
            except TimeoutError:
                logger.warning("directory did not answer in time", extra={"deadline": deadline})
                raise DirectoryUnavailableError("directory timed out") from None

    def _session(self, work: Callable[[ldap3.Connection], T]) -> T:
        s = self._settings
        conn = ldap3.Connection(
            self._server(),
            user=s.ldap_bind_dn or None,
            password=s.ldap_bind_password.get_secret_value() or None,
            receive_timeout=s.ldap_receive_timeout_seconds,
            raise_exceptions=True,
            read_only=True,
            auto_referrals=False,
            auto_bind=ldap3.AUTO_BIND_NONE,
        )
        try:
            conn.open()
            if s.ldap_security == "starttls":
                conn.start_tls()
            conn.bind()
            return work(conn)
        except LDAPInvalidCredentialsResult:
            # An operator must act: the service account's password or DN is wrong.
            logger.error("directory refused the service account bind (invalid credentials)")
            raise DirectoryUnavailableError("bind refused") from None
        except (LDAPException, OSError) as exc:
            logger.warning("directory unavailable", extra={"error": type(exc).__name__})
            raise DirectoryUnavailableError(type(exc).__name__) from None
        finally:
            with contextlib.suppress(Exception):
                conn.unbind()

    def _server(self) -> ldap3.Server:
        s = self._settings
        tls = None
        if s.ldap_security != "plain":
            tls = ldap3.Tls(
                validate=ssl.CERT_REQUIRED if s.ldap_verify_certificate else ssl.CERT_NONE,
                ca_certs_file=str(s.ldap_ca_file) if s.ldap_ca_file else None,
            )
        return ldap3.Server(
            s.ldap_url,
            use_ssl=s.ldap_security == "ldaps",
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=s.ldap_connect_timeout_seconds,
        )

    def _lookup(
        self, conn: ldap3.Connection, email: str, *, tell_disabled: bool
    ) -> DirectoryLookup:
        entries = self._search(conn, self._filters.active_user(email), self._attrs.requested())
        if len(entries) > 1:
            # Two active people with one address: sending a code to "one of them" is wrong.
            logger.warning("address matches several directory entries", extra=_who(email))
            return NOT_FOUND
        if entries:
            dn, attributes = entries[0]
            profile = profile_from_entry(dn, attributes, self._attrs, looked_up=email)
            if profile is None:
                logger.warning("directory entry has no usable name or mail", extra=_who(email))
                return NOT_FOUND
            return DirectoryLookup(EntryStatus.ACTIVE, profile)
        # "1.1": no attributes, only whether an entry (of any state) has this address.
        if (
            tell_disabled
            and self._filters.active
            and self._search(conn, self._filters.user(email), ["1.1"])
        ):
            return DISABLED
        return NOT_FOUND

    def _search(
        self, conn: ldap3.Connection, search_filter: str, attributes: list[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        conn.search(
            self._settings.ldap_base_dn,
            search_filter,
            search_scope=ldap3.SUBTREE,
            attributes=attributes,
            size_limit=2,
            time_limit=self._settings.ldap_receive_timeout_seconds,
        )
        code = conn.result.get("result")
        if code not in (_RESULT_SUCCESS, _RESULT_SIZE_LIMIT_EXCEEDED):
            # timeLimitExceeded and the like: a partial answer must not read as "not there".
            raise DirectoryUnavailableError(f"search ended with result {code}")
        return [
            (str(item["dn"]), dict(item.get("attributes") or {}))
            for item in conn.response or []
            if item.get("type") == "searchResEntry"
        ]


def _who(email: str) -> dict[str, str]:
    return {"email": mask_email(email)}
