"""Broker accounts for tests: a user with given permissions on a test vhost, deleted after.

Created through the management API when it is on, else with `rabbitmqctl`, like the vhosts
(helpdesk_harness.rabbit). The permissions come from `helpdesk_admin.permissions`, the same
objects `helpdesk-admin permissions` prints, so the tests check what operators apply.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from helpdesk_admin.permissions import Permission
from helpdesk_harness.rabbit import _management, _rabbitmqctl


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    url: str


def vhost_of(rabbit_url: str) -> str:
    return unquote(urlsplit(rabbit_url).path.lstrip("/"))


def create_account(base_url: str, right: Permission, *, label: str = "test") -> Account:
    """A new user with exactly `right` on the vhost of `base_url`; its URL has its password."""
    vhost = vhost_of(base_url)
    name = f"helpdesk-{label}-{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    rights = {"configure": right.configure, "write": right.write, "read": right.read}
    where = f"{quote(vhost, safe='')}/{quote(name)}"
    if _management("PUT", f"users/{quote(name)}", {"password": password, "tags": ""}):
        _management("PUT", f"permissions/{where}", rights)
        for topic in right.topics:
            _management(
                "PUT",
                f"topic-permissions/{where}",
                {"exchange": topic.exchange, "write": topic.write, "read": topic.read},
            )
    else:
        _rabbitmqctl("add_user", name, password)
        _rabbitmqctl("set_permissions", "-p", vhost, name, *rights.values())
        for topic in right.topics:
            _rabbitmqctl(
                "set_topic_permissions", "-p", vhost, name, topic.exchange, topic.write, topic.read
            )
    parts = urlsplit(base_url)
    netloc = f"{name}:{password}@{parts.hostname}:{parts.port}"
    return Account(name, urlunsplit((parts.scheme, netloc, parts.path, "", "")))


def delete_account(account: Account) -> None:
    if not _management("DELETE", f"users/{quote(account.name)}"):
        _rabbitmqctl("delete_user", account.name)
