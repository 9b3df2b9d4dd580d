"""A private OpenLDAP slapd seeded with demo employees, for integration tests and the sandbox.

Each `SlapdServer` owns a temp dir with its slapd.conf, an mdb database loaded by `slapadd` and
the server log; slapd runs in the foreground on free ports via `ServerProcess`. The config uses
only slapd.conf directives that slapd 2.5 (Debian 12) and 2.6 (Debian 13) both accept: the LDAP
harness and auth integration tests passed against slapd 2.6.10 from a Debian 13 chroot
(`debootstrap --variant=minbase --include=slapd,ldap-utils trixie /srv/trixie`, then
`mount --bind /tmp /srv/trixie/tmp` and HELPDESK_SLAPD_PREFIX="chroot /srv/trixie") as on the
host's 2.5.

Directory layout (base `dc=example,dc=com` by default):

    cn=admin,<base>                      rootdn, bypasses ACLs; used by the mutation helpers
    ou=services,<base>
        cn=helpdesk-svc,ou=services,...  read-only account the auth service binds with
    ou=people,<base>
        uid=<uid>,ou=people,...          inetOrgPerson, one per `Employee`

Account state: OpenLDAP has no built-in "account disabled" flag like AD's userAccountControl, so
the directory marks a deactivated employee with `employeeType: disabled` (a multi-valued,
case-insensitive inetOrgPerson attribute). The auth service keeps only active people with
`(!(employeeType=disabled))` in its search filter.

Set HELPDESK_SLAPD_PREFIX to run another OpenLDAP build, e.g. "chroot /srv/trixie": it is put
before /usr/sbin/slapd, slapadd and slappasswd, and the module directory is looked up through it;
the private directory (under TMPDIR) must then have the same path inside and outside.
"""

from __future__ import annotations

import base64
import functools
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import ldap3
import trustme
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import escape_rdn

from helpdesk_harness.procs import ServerProcess, free_port, real_clock_env

DISABLED_MARKER = "disabled"
"""Value of `employeeType` that marks a deactivated account."""

ACTIVE_FILTER = f"(!(employeeType={DISABLED_MARKER}))"
"""Filter fragment that keeps only active accounts; AND it with the lookup filter."""

DEFAULT_EMPLOYEE_PASSWORD = "employee-secret"
DEFAULT_SERVICE_PASSWORD = "helpdesk-svc-secret"

# LDAP result codes that mean a disable()/enable() found the entry already in that state.
_ALREADY_EXISTS = 20  # attributeOrValueExists
_NO_SUCH_VALUE = 16  # noSuchAttribute

_SCHEMAS = ("core", "cosine", "nis", "inetorgperson")
_MODULE_DIRS = (
    "/usr/lib/ldap",
    "/usr/lib/x86_64-linux-gnu/ldap",
    "/usr/lib/aarch64-linux-gnu/ldap",
)


@dataclass(frozen=True, slots=True)
class Employee:
    """One person in `ou=people`; `display_name` is written both as `cn` and `displayName`."""

    uid: str
    given_name: str
    surname: str
    display_name: str
    mail: str
    title: str
    department: str  # written as departmentNumber
    phone: str | None = None  # telephoneNumber; None leaves the attribute out
    disabled: bool = False  # True adds `employeeType: disabled`
    password: str = DEFAULT_EMPLOYEE_PASSWORD  # userPassword (stored hashed)


DEMO_EMPLOYEES: tuple[Employee, ...] = (
    Employee(
        uid="maria.ivanova",
        given_name="Мария",
        surname="Иванова",
        display_name="Иванова Мария Петровна",
        mail="maria.ivanova@example.com",
        title="Главный бухгалтер",
        department="Бухгалтерия",
        phone="+7 495 111-22-01",
    ),
    Employee(
        uid="ivan.petrov",
        given_name="Иван",
        surname="Петров",
        display_name="Петров Иван Сергеевич",
        mail="ivan.petrov@example.com",
        title="Системный администратор",
        department="ИТ-отдел",
        phone="+7 495 111-22-02",
    ),
    Employee(
        uid="olga.smirnova",
        given_name="Ольга",
        surname="Смирнова",
        display_name="Смирнова Ольга Александровна",
        mail="olga.smirnova@example.com",
        title="Специалист по кадрам",
        department="Отдел кадров",
        phone=None,  # someone without a phone: readers must not require every attribute
    ),
    Employee(
        uid="alexey.kuznetsov",
        given_name="Алексей",
        surname="Кузнецов",
        display_name="Кузнецов Алексей Викторович",
        mail="alexey.kuznetsov@example.com",
        title="Менеджер по продажам",
        department="Отдел продаж",
        phone="+7 495 111-22-04",
        disabled=True,
    ),
    Employee(
        uid="elena.sokolova",
        given_name="Елена",
        surname="Соколова",
        display_name="Соколова Елена Дмитриевна",
        mail="elena.sokolova@example.com",
        title="Кладовщик",
        department="Склад",
        phone="+7 495 111-22-05",
    ),
    Employee(
        uid="john.smith",
        given_name="John",
        surname="Smith",
        display_name="John Smith",
        mail="john.smith@example.com",
        title="Network engineer",
        department="ИТ-отдел",
        phone="+7 495 111-22-06",
    ),
    Employee(
        # Filter metacharacters in a real value: a lookup that does not escape breaks on it.
        uid="dmitry.volkov",
        given_name="Дмитрий",
        surname="Волков",
        display_name="Волков Дмитрий (подрядчик) *",
        mail="dmitry.volkov@example.com",
        title="Подрядчик",
        department="Склад",
        phone="+7 495 111-22-07",
    ),
)


def demo_employee(uid: str) -> Employee:
    """Return the demo employee with this uid (KeyError if there is none)."""
    for employee in DEMO_EMPLOYEES:
        if employee.uid == uid:
            return employee
    raise KeyError(uid)


def slapd_prefix() -> tuple[str, ...]:
    """The argv prefix from HELPDESK_SLAPD_PREFIX (empty: run the host's OpenLDAP tools)."""
    return tuple(shlex.split(os.environ.get("HELPDESK_SLAPD_PREFIX", "")))


def hash_password(password: str) -> str:
    """Hash with slappasswd ({SSHA}); cached because the seed reuses a few passwords."""
    return _hash_password(password, slapd_prefix())


@functools.cache
def _hash_password(password: str, prefix: tuple[str, ...]) -> str:
    out = subprocess.run(
        [*_tool("slappasswd", prefix), "-s", password], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def employee_attributes(employee: Employee) -> dict[str, list[str]]:
    """The LDAP attributes of an employee entry; one mapping for the seed LDIF and for adds."""
    attrs: dict[str, list[str]] = {
        "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson"],
        "uid": [employee.uid],
        "cn": [employee.display_name],
        "sn": [employee.surname],
        "givenName": [employee.given_name],
        "displayName": [employee.display_name],
        "mail": [employee.mail],
        "title": [employee.title],
        "departmentNumber": [employee.department],
        "userPassword": [hash_password(employee.password)],
    }
    if employee.phone is not None:
        attrs["telephoneNumber"] = [employee.phone]
    if employee.disabled:
        attrs["employeeType"] = [DISABLED_MARKER]
    return attrs


class SlapdServer:
    """A private slapd. `start()` seeds on first use; `stop()`/`start()` keep data and ports."""

    def __init__(
        self,
        *,
        base_dn: str = "dc=example,dc=com",
        employees: Sequence[Employee] = DEMO_EMPLOYEES,
        tls: bool = False,
        workdir: Path | None = None,
        admin_password: str | None = None,
        service_password: str = DEFAULT_SERVICE_PASSWORD,
        ready_timeout: float = 10.0,
    ) -> None:
        self.base_dn = base_dn
        self.people_dn = f"ou=people,{base_dn}"
        self.services_dn = f"ou=services,{base_dn}"
        self.admin_dn = f"cn=admin,{base_dn}"
        # A password unique to this instance makes the readiness bind prove that the slapd
        # answering is ours, not another test's that grabbed the same port first.
        self.admin_password = admin_password or secrets.token_urlsafe(16)
        self.service_dn = f"cn=helpdesk-svc,{self.services_dn}"
        self.service_password = service_password
        self.employees = tuple(employees)
        self.tls = tls
        self.ready_timeout = ready_timeout
        self.command_prefix = slapd_prefix()
        self._own_workdir = workdir is None
        self.workdir = workdir if workdir is not None else Path(tempfile.mkdtemp(prefix="slapd-"))
        self.conf_path = self.workdir / "slapd.conf"
        self.log_path = self.workdir / "slapd.log"
        self.port = free_port()
        self.ldaps_port = free_port() if tls else None
        self._ca_cert_path: Path | None = None
        self._seeded = False
        self._process: ServerProcess | None = None

    # -- addresses --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Plain LDAP by IP address; use `starttls_url` for StartTLS with certificate checks."""
        return f"ldap://127.0.0.1:{self.port}"

    # The TLS URLs name the host "localhost" although slapd listens on 127.0.0.1 only: on
    # Python 3.12+ ldap3 checks the certificate name with its own matcher, which ignores IP
    # subjectAltNames, so "127.0.0.1" would always fail validation (as an IP would in production).

    @property
    def ldaps_url(self) -> str:
        """LDAPS (implicit TLS) on its own port; the certificate is valid for localhost."""
        if self.ldaps_port is None:
            raise RuntimeError("this SlapdServer was created without tls=True")
        return f"ldaps://localhost:{self.ldaps_port}"

    @property
    def starttls_url(self) -> str:
        """The plain port by host name, for StartTLS with certificate validation."""
        if not self.tls:
            raise RuntimeError("this SlapdServer was created without tls=True")
        return f"ldap://localhost:{self.port}"

    @property
    def ca_cert_pem_path(self) -> Path:
        """PEM of the private CA that signed the server certificate (for 127.0.0.1, localhost)."""
        if self._ca_cert_path is None:
            raise RuntimeError("no CA: create with tls=True and start() first")
        return self._ca_cert_path

    def employee_dn(self, uid: str) -> str:
        return f"uid={escape_rdn(uid)},{self.people_dn}"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._process is not None and self._process.running():
            raise RuntimeError("slapd is already running")
        if not self._seeded:
            self._write_config()
            self._seed()
            self._seeded = True
            # The ports were free a moment ago; another process may take one first. Only the
            # very first start may move to new ports: a restart must keep the URL tests hold.
            for attempt in range(3):
                try:
                    self._launch()
                    return
                except _ListenError:
                    if attempt == 2:
                        raise
                    self.port = free_port()
                    self.ldaps_port = free_port() if self.tls else None
        self._launch()

    def stop(self, *, graceful: bool = True) -> None:
        """Stop slapd (SIGTERM, or SIGKILL with graceful=False) and reap its process group."""
        if self._process is not None:
            self._process.stop(sig=signal.SIGTERM if graceful else signal.SIGKILL, timeout=5.0)
            self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def close(self) -> None:
        """Stop and, if this object made its own temp dir, delete it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- directory mutations (as rootdn) ------------------------------------------------------

    def admin_connection(self) -> ldap3.Connection:
        """A bound ldap3 connection as the rootdn; the caller unbinds it."""
        conn = ldap3.Connection(
            ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=2),
            user=self.admin_dn,
            password=self.admin_password,
            raise_exceptions=True,
            receive_timeout=5,
        )
        conn.bind()
        return conn

    def disable(self, uid: str) -> None:
        """Mark the account disabled (`employeeType: disabled`); a no-op if it already is."""
        self._modify(
            uid, {"employeeType": [(ldap3.MODIFY_ADD, [DISABLED_MARKER])]}, _ALREADY_EXISTS
        )

    def enable(self, uid: str) -> None:
        """Remove the disabled marker (other employeeType values stay); a no-op if absent."""
        self._modify(
            uid, {"employeeType": [(ldap3.MODIFY_DELETE, [DISABLED_MARKER])]}, _NO_SUCH_VALUE
        )

    def delete(self, uid: str) -> None:
        conn = self.admin_connection()
        try:
            conn.delete(self.employee_dn(uid))
        finally:
            conn.unbind()

    def add_employee(self, employee: Employee) -> None:
        attrs = employee_attributes(employee)
        conn = self.admin_connection()
        try:
            conn.add(self.employee_dn(employee.uid), attributes=attrs)
        finally:
            conn.unbind()

    def _modify(
        self, uid: str, changes: dict[str, list[tuple[str, list[str]]]], tolerated: int
    ) -> None:
        # tolerated: the LDAP result code that means "already in the wanted state".
        conn = self.admin_connection()
        try:
            conn.modify(self.employee_dn(uid), changes)
        except LDAPException as exc:
            if conn.result.get("result") != tolerated:
                raise RuntimeError(f"modify {uid}: {conn.result}") from exc
        finally:
            conn.unbind()

    # -- internals ----------------------------------------------------------------------------

    def _write_config(self) -> None:
        db_dir = self.workdir / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        schema_dir = Path("/etc/ldap/schema")
        lines = [f"include {schema_dir / name}.schema" for name in _SCHEMAS]
        module_dir = _module_dir(self.command_prefix)
        if module_dir is not None:  # otherwise mdb is built into slapd
            lines += [f"modulepath {module_dir}", "moduleload back_mdb"]
        if self.tls:
            lines += self._write_tls_files()
        lines += [
            "database mdb",
            f'suffix "{self.base_dn}"',
            f'rootdn "{self.admin_dn}"',
            f"rootpw {hash_password(self.admin_password)}",
            f"directory {db_dir}",
            "maxsize 67108864",
            "dbnosync",  # test data: durability across power loss does not matter, speed does
            "index objectClass eq",
            "index uid,mail eq",
            # Passwords are only usable for binding; the service account reads everything else
            # and writes nothing; anonymous users see nothing, so the auth service must bind.
            "access to attrs=userPassword",
            "    by anonymous auth",
            "    by * none",
            "access to *",
            f'    by dn.exact="{self.service_dn}" read',
            "    by self read",
            "    by * none",
        ]
        self.conf_path.write_text("\n".join(lines) + "\n")

    def _write_tls_files(self) -> list[str]:
        ca = trustme.CA(organization_name="Helpdesk test CA")
        cert = ca.issue_cert("127.0.0.1", "localhost")
        tls_dir = self.workdir / "tls"
        tls_dir.mkdir(exist_ok=True)
        ca.cert_pem.write_to_path(str(tls_dir / "ca.pem"))
        cert.private_key_pem.write_to_path(str(tls_dir / "server.key"))
        chain = tls_dir / "server.pem"
        chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        self._ca_cert_path = tls_dir / "ca.pem"
        return [
            f"TLSCACertificateFile {tls_dir / 'ca.pem'}",
            f"TLSCertificateFile {chain}",
            f"TLSCertificateKeyFile {tls_dir / 'server.key'}",
        ]

    def _seed(self) -> None:
        ldif_path = self.workdir / "seed.ldif"
        ldif_path.write_text(self._seed_ldif(), encoding="utf-8")
        done = subprocess.run(
            [
                *_tool("slapadd", self.command_prefix),
                *("-q", "-f", str(self.conf_path), "-l", str(ldif_path)),
            ],
            capture_output=True,
            text=True,
            env=real_clock_env(),  # the database slapd serves carries slapd's (real) time
        )
        if done.returncode != 0:
            raise RuntimeError(f"slapadd failed ({done.returncode}):\n{done.stderr}")

    def _seed_ldif(self) -> str:
        top_attr, _, top_value = self.base_dn.split(",")[0].partition("=")
        if top_attr.lower() == "dc":
            top = {"objectClass": ["top", "dcObject", "organization"], "dc": [top_value]}
            top["o"] = [top_value]
        elif top_attr.lower() == "o":
            top = {"objectClass": ["top", "organization"], "o": [top_value]}
        else:
            raise ValueError(f"base_dn must start with dc= or o=: {self.base_dn}")
        entries: list[tuple[str, dict[str, list[str]]]] = [
            (self.base_dn, top),
            (self.people_dn, {"objectClass": ["top", "organizationalUnit"], "ou": ["people"]}),
            (self.services_dn, {"objectClass": ["top", "organizationalUnit"], "ou": ["services"]}),
            (
                self.service_dn,
                {
                    "objectClass": ["top", "applicationProcess", "simpleSecurityObject"],
                    "cn": ["helpdesk-svc"],
                    "description": ["Helpdesk bot: read-only lookups of employees"],
                    "userPassword": [hash_password(self.service_password)],
                },
            ),
        ]
        entries += [(self.employee_dn(e.uid), employee_attributes(e)) for e in self.employees]
        return "\n".join(_ldif_entry(dn, attrs) for dn, attrs in entries)

    def _launch(self) -> None:
        urls = [f"ldap://127.0.0.1:{self.port}/"]
        if self.ldaps_port is not None:
            urls.append(f"ldaps://127.0.0.1:{self.ldaps_port}/")
        # "-d none" keeps slapd in the foreground like "-d 0" but still logs its errors
        # (e.g. "bind(6) failed errno=98") instead of dying silently.
        argv = [
            *_tool("slapd", self.command_prefix),
            *("-d", "none", "-f", str(self.conf_path), "-h", " ".join(urls)),
        ]
        process = ServerProcess(argv, log_path=self.log_path, cwd=self.workdir, real_clock=True)
        process.start()
        self._process = process
        try:
            self._wait_ready(process)
        except BaseException:
            self.stop(graceful=False)
            raise

    def _wait_ready(self, process: ServerProcess) -> None:
        # Ready means a rootdn bind succeeds, not merely that the port accepts connections.
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if not process.running():
                log = self.log_text()
                if "bind(" in log or "Address already in use" in log:
                    ports = [p for p in (self.port, self.ldaps_port) if p is not None]
                    raise _ListenError(f"slapd could not listen on port(s) {ports}; log:\n{log}")
                raise RuntimeError(f"slapd exited during start-up; log:\n{log}")
            try:
                self.admin_connection().unbind()
                return
            except LDAPException:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"slapd not ready after {self.ready_timeout}s; log:\n{self.log_text()}"
                    ) from None
                time.sleep(0.01)


class _ListenError(RuntimeError):
    """slapd could not bind its listening port (someone else took it)."""


def _tool(tool: str, prefix: tuple[str, ...]) -> list[str]:
    if prefix:  # the host's PATH says nothing about what the prefix (a chroot, say) has
        return [*prefix, f"/usr/sbin/{tool}"]
    # /usr/sbin is not on every PATH (e.g. a non-login shell in CI).
    return [shutil.which(tool) or f"/usr/sbin/{tool}"]


@functools.cache
def _module_dir(prefix: tuple[str, ...]) -> str | None:
    """The directory with back_mdb.so as the prefixed slapd sees it; None: mdb is built in."""
    return next((d for d in _MODULE_DIRS if _exists(f"{d}/back_mdb.so", prefix)), None)


def _exists(path: str, prefix: tuple[str, ...]) -> bool:
    if not prefix:
        return Path(path).exists()
    done = subprocess.run([*prefix, "test", "-e", path], capture_output=True, text=True, timeout=30)
    if done.returncode not in (0, 1):  # the prefix itself failed, e.g. no such chroot
        raise RuntimeError(
            f"HELPDESK_SLAPD_PREFIX {shlex.join(prefix)!r} failed ({done.returncode}):\n"
            f"{done.stderr}"
        )
    return done.returncode == 0


def _ldif_entry(dn: str, attrs: dict[str, list[str]]) -> str:
    lines = [_ldif_line("dn", dn)]
    lines += [_ldif_line(name, value) for name, values in attrs.items() for value in values]
    return "\n".join(lines) + "\n"


def _ldif_line(name: str, value: str) -> str:
    # RFC 2849: anything but a plain ASCII "safe string" (here: Cyrillic, a leading space,
    # colon or '<') must be base64-encoded.
    safe = (
        value.isascii()
        and value.isprintable()
        and not value.startswith((" ", ":", "<"))
        and not value.endswith(" ")
    )
    if safe:
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"
