"""Smoke tests of the slapd harness: what the auth service will rely on really happens."""

from __future__ import annotations

import shlex
import ssl
from pathlib import Path

import ldap3
import pytest
import trustme
from helpdesk_harness.ldap_server import (
    ACTIVE_FILTER,
    DEMO_EMPLOYEES,
    Employee,
    SlapdServer,
    demo_employee,
    slapd_prefix,
)
from ldap3.core.exceptions import LDAPSocketOpenError
from ldap3.utils.conv import escape_filter_chars

pytestmark = pytest.mark.integration

PERSON_ATTRS = ["uid", "displayName", "mail", "title", "departmentNumber", "telephoneNumber"]


def connect(
    url: str, user: str, password: str, *, tls: ldap3.Tls | None = None
) -> ldap3.Connection:
    """Open and bind like the auth service will; the result is in conn.bound / conn.result."""
    server = ldap3.Server(url, get_info=ldap3.NONE, connect_timeout=2, tls=tls)
    conn = ldap3.Connection(server, user=user, password=password, receive_timeout=5)
    conn.open()
    conn.bind()
    return conn


def service(slapd: SlapdServer) -> ldap3.Connection:
    conn = connect(slapd.url, slapd.service_dn, slapd.service_password)
    assert conn.bound, conn.result
    return conn


def uids(conn: ldap3.Connection, base: str, search_filter: str) -> set[str]:
    conn.search(base, search_filter, attributes=["uid"])
    return {str(entry.uid) for entry in conn.entries}


def active_by_mail(mail: str) -> str:
    return f"(&(objectClass=inetOrgPerson)(mail={escape_filter_chars(mail)}){ACTIVE_FILTER})"


def test_service_account_finds_cyrillic_display_name_by_mail(slapd: SlapdServer) -> None:
    conn = service(slapd)
    conn.search(
        slapd.people_dn, active_by_mail("maria.ivanova@example.com"), attributes=PERSON_ATTRS
    )

    [entry] = conn.entries
    assert entry.entry_dn == f"uid=maria.ivanova,{slapd.people_dn}"
    assert str(entry.displayName) == "Иванова Мария Петровна"
    assert str(entry.departmentNumber) == "Бухгалтерия"
    assert str(entry.title) == "Главный бухгалтер"
    assert str(entry.telephoneNumber) == "+7 495 111-22-01"
    conn.unbind()


def test_mail_match_ignores_case(slapd: SlapdServer) -> None:
    # mail uses caseIgnoreIA5Match: an employee typing capitals is still found.
    conn = service(slapd)
    assert uids(conn, slapd.people_dn, active_by_mail("Maria.Ivanova@EXAMPLE.com")) == {
        "maria.ivanova"
    }
    conn.unbind()


def test_escaped_injection_input_matches_nothing(slapd: SlapdServer) -> None:
    conn = service(slapd)
    hostile = "*)(uid=*"
    # Unescaped, the input widens the filter to everyone: the escaping below is what matters.
    assert len(uids(conn, slapd.people_dn, f"(&(mail={hostile}))")) > 1
    assert uids(conn, slapd.people_dn, active_by_mail(hostile)) == set()
    assert uids(conn, slapd.people_dn, active_by_mail("*")) == set()
    conn.unbind()


def test_escaped_cn_with_metacharacters_finds_exactly_that_person(slapd: SlapdServer) -> None:
    tricky = demo_employee("dmitry.volkov").display_name
    assert "*" in tricky
    assert "(" in tricky
    conn = service(slapd)
    assert uids(conn, slapd.people_dn, f"(cn={escape_filter_chars(tricky)})") == {"dmitry.volkov"}
    conn.unbind()


def test_seeded_disabled_employee_is_excluded_only_by_active_filter(slapd: SlapdServer) -> None:
    conn = service(slapd)
    everyone = uids(conn, slapd.people_dn, "(objectClass=inetOrgPerson)")
    active = uids(conn, slapd.people_dn, f"(&(objectClass=inetOrgPerson){ACTIVE_FILTER})")
    conn.unbind()

    assert everyone == {e.uid for e in DEMO_EMPLOYEES}
    assert active == {e.uid for e in DEMO_EMPLOYEES if not e.disabled}
    assert everyone - active == {"alexey.kuznetsov"}


def test_wrong_password_is_invalid_credentials(slapd: SlapdServer) -> None:
    conn = connect(slapd.url, slapd.service_dn, slapd.service_password + "-wrong")
    assert not conn.bound
    assert conn.result["description"] == "invalidCredentials"
    conn.unbind()


def test_employee_can_bind_with_own_password(slapd: SlapdServer) -> None:
    maria = demo_employee("maria.ivanova")
    conn = connect(slapd.url, slapd.employee_dn(maria.uid), maria.password)
    assert conn.bound, conn.result
    conn.unbind()


def test_anonymous_sees_nothing_and_service_account_cannot_write(slapd: SlapdServer) -> None:
    anonymous = ldap3.Connection(ldap3.Server(slapd.url, get_info=ldap3.NONE), auto_bind=True)
    assert uids(anonymous, slapd.people_dn, "(objectClass=*)") == set()
    anonymous.unbind()

    conn = service(slapd)
    conn.modify(slapd.employee_dn("ivan.petrov"), {"title": [(ldap3.MODIFY_REPLACE, ["Директор"])]})
    assert conn.result["description"] == "insufficientAccessRights"
    conn.search(slapd.employee_dn("ivan.petrov"), "(objectClass=*)", attributes=["userPassword"])
    assert conn.entries[0].userPassword.values == []  # password hashes are never readable
    conn.unbind()


def test_disable_and_enable_change_what_the_active_filter_sees(slapd_fresh: SlapdServer) -> None:
    conn = service(slapd_fresh)
    lookup = active_by_mail("maria.ivanova@example.com")
    assert uids(conn, slapd_fresh.people_dn, lookup) == {"maria.ivanova"}

    slapd_fresh.disable("maria.ivanova")
    slapd_fresh.disable("maria.ivanova")  # idempotent
    assert uids(conn, slapd_fresh.people_dn, lookup) == set()

    slapd_fresh.enable("maria.ivanova")
    slapd_fresh.enable("maria.ivanova")  # idempotent
    assert uids(conn, slapd_fresh.people_dn, lookup) == {"maria.ivanova"}
    conn.unbind()


def test_add_and_delete_employee(slapd_fresh: SlapdServer) -> None:
    newcomer = Employee(
        uid="anna.novikova",
        given_name="Анна",
        surname="Новикова",
        display_name="Новикова Анна Игоревна",
        mail="anna.novikova@example.com",
        title="Юрист",
        department="Юридический отдел",
    )
    slapd_fresh.add_employee(newcomer)
    conn = service(slapd_fresh)
    conn.search(slapd_fresh.people_dn, active_by_mail(newcomer.mail), attributes=PERSON_ATTRS)
    [entry] = conn.entries
    assert str(entry.displayName) == "Новикова Анна Игоревна"
    assert entry.telephoneNumber.values == []  # phone=None leaves the attribute out

    slapd_fresh.delete("ivan.petrov")
    assert uids(conn, slapd_fresh.people_dn, active_by_mail("ivan.petrov@example.com")) == set()
    conn.unbind()


def test_stop_refuses_connections_and_start_serves_same_data_again(
    slapd_fresh: SlapdServer,
) -> None:
    url = slapd_fresh.url
    slapd_fresh.disable("elena.sokolova")
    slapd_fresh.stop()

    with pytest.raises(LDAPSocketOpenError, match="refused"):
        connect(url, slapd_fresh.service_dn, slapd_fresh.service_password)

    slapd_fresh.start()
    assert slapd_fresh.url == url
    conn = service(slapd_fresh)
    assert uids(conn, slapd_fresh.people_dn, active_by_mail("elena.sokolova@example.com")) == set()
    assert uids(conn, slapd_fresh.people_dn, active_by_mail("john.smith@example.com")) == {
        "john.smith"
    }
    conn.unbind()


def test_ldaps_and_starttls_validate_the_server_certificate(
    slapd: SlapdServer, tmp_path: Path
) -> None:
    trusted = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(slapd.ca_cert_pem_path))
    conn = connect(slapd.ldaps_url, slapd.service_dn, slapd.service_password, tls=trusted)
    assert conn.bound, conn.result
    conn.unbind()

    plain = ldap3.Server(slapd.starttls_url, get_info=ldap3.NONE, connect_timeout=2, tls=trusted)
    conn = ldap3.Connection(plain, user=slapd.service_dn, password=slapd.service_password)
    conn.open()
    assert conn.start_tls()
    assert conn.bind()
    conn.unbind()

    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    untrusted = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(stranger))
    with pytest.raises(LDAPSocketOpenError, match="CERTIFICATE_VERIFY_FAILED"):
        connect(slapd.ldaps_url, slapd.service_dn, slapd.service_password, tls=untrusted)


def test_prefix_runs_every_openldap_tool_through_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # HELPDESK_SLAPD_PREFIX="chroot /srv/trixie" runs Debian 13's slapd 2.6; a logging wrapper
    # stands in for such a prefix here, around whatever prefix this run already uses.
    calls = tmp_path / "calls.log"
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {shlex.quote(str(calls))}\nexec "$@"\n')
    wrapper.chmod(0o755)
    outer = slapd_prefix()
    monkeypatch.setenv("HELPDESK_SLAPD_PREFIX", shlex.join([str(wrapper), *outer]))
    maria = demo_employee("maria.ivanova")

    with SlapdServer(employees=[maria], workdir=tmp_path / "slapd") as server:
        conn = connect(server.url, server.employee_dn(maria.uid), maria.password)
        assert conn.bound, conn.result
        conn.unbind()

    ran = {line.split()[len(outer)] for line in calls.read_text().splitlines()}
    assert {"/usr/sbin/slappasswd", "/usr/sbin/slapadd", "/usr/sbin/slapd", "test"} <= ran


def test_broken_prefix_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HELPDESK_SLAPD_PREFIX", "env /nonexistent/slapd-wrapper")
    server = SlapdServer(workdir=tmp_path)
    try:
        with pytest.raises(RuntimeError, match="HELPDESK_SLAPD_PREFIX"):
            server.start()
    finally:
        server.close()
