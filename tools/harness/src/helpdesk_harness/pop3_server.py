"""A private Dovecot POP3 server for tests: its own config, ports, TLS certificate and maildirs.

Dovecot runs in the foreground (`dovecot -F`) in its own session and is stopped by killing that
process group (see procs.py). Mail is put straight into the users' Maildirs, the way a local
delivery agent would, so tests control exactly what the mailbox holds.

Dovecot 2.3 (Debian 12) and 2.4 (Debian 13) need different config text; `dovecot --version`
decides which one is written. Only `_settings_23` / `_settings_24` differ.

Set HELPDESK_DOVECOT to run another Dovecot build, e.g. "chroot /srv/trixie /usr/sbin/dovecot";
the private directory (under TMPDIR) must then have the same path inside and outside.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import trustme

from helpdesk_harness.procs import ServerProcess, free_port

DEFAULT_USER = "helpdesk@example.com"
DEFAULT_PASSWORD = "pop3-test-password"
# passwd-file refuses UID 0, so mail belongs to nobody:nogroup and the mail root is chowned.
MAIL_UID = 65534
MAIL_GID = 65534
HOST = "127.0.0.1"

# The same text on both versions (2.3 knows the long variable names too), so one regex parses it.
_LOGOUT_FORMAT = (
    "top=%{top_count}/%{top_bytes}, retr=%{retr_count}/%{retr_bytes}, "
    "del=%{deleted_count}/%{deleted_bytes}, size=%{message_bytes}"
)
_LOGOUT_RE = re.compile(
    r"pop3\((?P<user>[^)]*)\)<\d+><[^>]*>: (?:Info: )?Disconnected: (?P<reason>.*?),? ?"
    r"top=(?P<top>\d+)/\d+, retr=(?P<retr>\d+)/(?P<retr_bytes>\d+), "
    r"del=(?P<deleted>\d+)/\d+, size=(?P<size>\d+)"
)


@dataclass(frozen=True)
class Pop3Logout:
    """What Dovecot logged when one POP3 session ended."""

    user: str
    reason: str  # "Logged out" after QUIT, e.g. "Connection closed" when the client vanished
    top: int
    retr: int
    retr_bytes: int
    deleted: int
    size: int  # mailbox size in bytes at login


def dovecot_command() -> list[str]:
    """The argv prefix that runs Dovecot (HELPDESK_DOVECOT, else `dovecot` from PATH/sbin)."""
    override = os.environ.get("HELPDESK_DOVECOT")
    if override:
        return shlex.split(override)
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError("dovecot not found: apt-get install -y dovecot-pop3d")
    return [found]


def dovecot_version(command: list[str] | None = None) -> tuple[int, int, int]:
    """Parse `dovecot --version`, e.g. '2.3.19.1 (9b53102964)' -> (2, 3, 19)."""
    return _version_of(tuple(command or dovecot_command()))


@functools.cache
def _version_of(command: tuple[str, ...]) -> tuple[int, int, int]:
    out = subprocess.run(
        [*command, "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    match = re.match(r"\s*(\d+)\.(\d+)\.(\d+)", out)
    if match is None:
        raise RuntimeError(f"cannot parse dovecot --version output: {out!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


@dataclass(frozen=True)
class ConfigPaths:
    """Everything the config points at; all of it lives under one private directory."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def base_dir(self) -> Path:
        return self.root / "run"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def log(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def users(self) -> Path:
        """One passwd-file per user, named after the user."""
        return self.root / "users"

    @property
    def mail_root(self) -> Path:
        return self.root / "mail"

    @property
    def cert(self) -> Path:
        return self.root / "server-chain.pem"

    @property
    def key(self) -> Path:
        return self.root / "server-key.pem"

    @property
    def ca(self) -> Path:
        return self.root / "ca.pem"


def _settings_23(paths: ConfigPaths) -> str:
    return f"""\
disable_plaintext_auth = no
ssl_cert = <{paths.cert}
ssl_key = <{paths.key}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {paths.users}/%u
}}
userdb {{
  driver = passwd-file
  args = {paths.users}/%u
}}
"""


def _settings_24(paths: ConfigPaths) -> str:
    # Renamed in 2.4: disable_plaintext_auth (inverted), ssl_cert/ssl_key (now plain paths, no
    # "<"), mail_location (split in two); passdb/userdb need a name, which also picks the driver.
    return f"""\
auth_allow_cleartext = yes
ssl_server_cert_file = {paths.cert}
ssl_server_key_file = {paths.key}
mail_driver = maildir
mail_path = ~/Maildir
passdb passwd-file {{
  passwd_file_path = {paths.users}/%{{user}}
}}
userdb passwd-file {{
  passwd_file_path = {paths.users}/%{{user}}
}}
"""


def render_config(
    version: tuple[int, int, int], paths: ConfigPaths, *, pop3_port: int, pop3s_port: int
) -> str:
    """The whole dovecot.conf for this Dovecot version."""
    if version >= (2, 4, 0):
        # 2.4 refuses to start unless these two come first; 2.4.0 is valid on every 2.4.x
        # and pins that release's defaults and storage format.
        head = "dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n"
        specific = _settings_24(paths)
    else:
        head = ""
        specific = _settings_23(paths)
    # Blocks span several lines: `service x { }` on one line is a syntax error.
    common = f"""\
instance_name = helpdesk-test-{pop3_port}
base_dir = {paths.base_dir}
state_dir = {paths.state_dir}
log_path = {paths.log}
listen = {HOST}
protocols = pop3
ssl = yes
auth_failure_delay = 0
pop3_logout_format = {_LOGOUT_FORMAT}
# No growing delays for 127.0.0.1 after a test's wrong password: the tests come from one IP.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = {pop3s_port}
    ssl = yes
  }}
}}
"""
    return head + common + specific


class _MaildirWriter:
    """Delivers like a local delivery agent: write into tmp/, then rename into new/."""

    def __init__(self) -> None:
        self._host = socket.gethostname().replace("/", "_").replace(":", "_")
        self._serial = itertools.count()
        self._last_us = 0

    def _unique_name(self) -> str:
        # Dovecot gives new mail UIDs in the order of the time stamp in its file name, so the
        # stamps strictly increase: a batch keeps its order in LIST/UIDL.
        now_us = max(time.time_ns() // 1000, self._last_us + 1)
        self._last_us = now_us
        secs, usecs = divmod(now_us, 1_000_000)
        return f"{secs}.M{usecs}P{os.getpid()}Q{next(self._serial)}.{self._host}"

    def write(self, maildir: Path, raws: Iterable[bytes]) -> None:
        # Names relative to open directory handles: no path walk per message, which is most
        # of the cost of a 5 000-message batch.
        tmp_dir = os.open(maildir / "tmp", os.O_RDONLY | os.O_DIRECTORY)
        try:
            new_dir = os.open(maildir / "new", os.O_RDONLY | os.O_DIRECTORY)
            try:
                for raw in raws:
                    self._write_one(raw, tmp_dir, new_dir)
            finally:
                os.close(new_dir)
        finally:
            os.close(tmp_dir)

    def _write_one(self, raw: bytes, tmp_dir: int, new_dir: int) -> None:
        name = self._unique_name()
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=tmp_dir)
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view) :]
            # Owned by the mail user before it becomes visible in new/.
            os.fchown(fd, MAIL_UID, MAIL_GID)
        finally:
            os.close(fd)
        os.rename(name, name, src_dir_fd=tmp_dir, dst_dir_fd=new_dir)


class DovecotServer:
    """A private Dovecot serving POP3 on 127.0.0.1: plain with STLS, and POP3S."""

    host = HOST

    def __init__(
        self,
        *,
        user: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
        root: Path | None = None,
    ) -> None:
        self.command = dovecot_command()
        self.version = dovecot_version(self.command)
        self.user = user
        self.password = password
        self.pop3_port = free_port()
        self.pop3s_port = free_port()
        self._owns_root = root is None
        self.paths = ConfigPaths(
            Path(tempfile.mkdtemp(prefix="dovecot-")) if root is None else root
        )
        self._writer = _MaildirWriter()
        self._users: dict[str, str] = {}
        self._started_once = False
        self._write_files()
        self.add_user(user, password)
        self._process = ServerProcess(
            [*self.command, "-F", "-c", str(self.paths.conf)],
            log_path=self.paths.root / "dovecot.stdout",
            real_clock=True,
        )

    # -- files -----------------------------------------------------------------------------

    def _write_files(self) -> None:
        root = self.paths.root
        # Mail processes run as MAIL_UID and must reach the homes below the root.
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        self.paths.mail_root.mkdir(mode=0o755, exist_ok=True)
        os.chown(self.paths.mail_root, MAIL_UID, MAIL_GID)
        self.paths.users.mkdir(mode=0o755, exist_ok=True)

        ca = trustme.CA()
        leaf = ca.issue_cert(HOST, "localhost")
        ca.cert_pem.write_to_path(str(self.paths.ca))
        self.paths.cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(self.paths.key))
        self.paths.key.chmod(0o600)

        self._write_config()

    def _write_config(self) -> None:
        self.paths.conf.write_text(
            render_config(
                self.version, self.paths, pop3_port=self.pop3_port, pop3s_port=self.pop3s_port
            )
        )

    @property
    def ca_cert_pem_path(self) -> Path:
        """PEM of the CA that signed the server certificate (valid for 127.0.0.1, localhost)."""
        return self.paths.ca

    def client_ssl_context(self) -> ssl.SSLContext:
        """A default client context that trusts only this server's CA."""
        return ssl.create_default_context(cafile=str(self.paths.ca))

    def add_user(self, user: str | None = None, password: str | None = None) -> str:
        """Create a mailbox user (a unique name if None) and return its name.

        Works while running: each user has a passwd-file of its own, which Dovecot reads at the
        user's first login (a change to one shared file would go unseen for up to a second).
        """
        name = user or f"box-{secrets.token_hex(4)}@example.com"
        secret = password if password is not None else self.password
        if name in self._users:
            raise ValueError(f"user {name} already exists")
        if ":" in name + secret or "\n" in name + secret or "/" in name:
            raise ValueError("user and password must not contain ':', '/' or newlines")
        if name != name.lower():
            raise ValueError(
                "user names must be lower-case: Dovecot looks up the lower-cased login"
            )
        home = self.paths.mail_root / name
        maildir = home / "Maildir"
        for directory in (home, maildir, maildir / "tmp", maildir / "new", maildir / "cur"):
            directory.mkdir(mode=0o700)
            os.chown(directory, MAIL_UID, MAIL_GID)
        line = f"{name}:{{PLAIN}}{secret}:{MAIL_UID}:{MAIL_GID}::{home}::\n"
        (self.paths.users / name).write_text(line)
        self._users[name] = secret
        return name

    def maildir_path(self, user: str | None = None) -> Path:
        name = user or self.user
        if name not in self._users:
            raise KeyError(f"no such mailbox user: {name}")
        return self.paths.mail_root / name / "Maildir"

    def deliver(self, raw: bytes, user: str | None = None) -> None:
        """Put one message into the user's INBOX (Maildir new/)."""
        self._writer.write(self.maildir_path(user), [raw])

    def deliver_many(self, raws: Iterable[bytes], user: str | None = None) -> None:
        """Deliver messages in this order (their POP3 order); 5 000 take about half a second."""
        self._writer.write(self.maildir_path(user), raws)

    def _message_files(self, user: str | None) -> list[Path]:
        maildir = self.maildir_path(user)
        files = [p for sub in ("new", "cur") for p in (maildir / sub).iterdir()]
        # Sort on the base name (before Dovecot's ":2,flags" suffix): delivery order.
        return sorted(files, key=lambda p: p.name.split(":", 1)[0])

    def message_count(self, user: str | None = None) -> int:
        """Messages in the user's INBOX, as the Maildir holds them (DELE'd ones go at QUIT)."""
        return len(self._message_files(user))

    def messages(self, user: str | None = None) -> list[bytes]:
        """The raw messages in the user's INBOX, in delivery order."""
        return [path.read_bytes() for path in self._message_files(user)]

    # -- process ---------------------------------------------------------------------------

    def start(self, *, timeout: float = 15.0) -> None:
        """Start and wait until both ports greet; ready in well under a second."""
        for attempt in range(3):
            try:
                self._launch(timeout)
            except _PortTakenError:
                # free_port() races with everything else on the machine. Until the ports are
                # handed out (first start), move to new ones; a restart must keep them.
                if self._started_once or attempt == 2:
                    raise
                self.pop3_port, self.pop3s_port = free_port(), free_port()
                self._write_config()
            else:
                self._started_once = True
                return

    def _launch(self, timeout: float) -> None:
        log_start, out_start = (len(part) for part in self._log_parts())
        self._process.start()
        deadline = time.monotonic() + timeout
        while not self._greets():
            if not self._process.running():
                self._process.stop()
                log, out = self._log_parts()
                log = log[log_start:] + out[out_start:]
                error = _PortTakenError if "Address already in use" in log else RuntimeError
                raise error(f"dovecot exited during start-up:\n{log}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"dovecot did not greet in {timeout}s:\n{self.log_text()}")
            time.sleep(0.02)

    def _greets(self) -> bool:
        # A greeting on both ports, the TLS one under our CA, proves these are our listeners,
        # not someone else's on a colliding port, and that login and auth are up.
        try:
            with socket.create_connection((self.host, self.pop3_port), timeout=2) as plain:
                if not plain.recv(64).startswith(b"+OK"):
                    return False
            with (
                socket.create_connection((self.host, self.pop3s_port), timeout=2) as raw,
                self.client_ssl_context().wrap_socket(raw, server_hostname=self.host) as tls,
            ):
                return tls.recv(64).startswith(b"+OK")
        except OSError:  # includes ssl.SSLError
            return False

    def stop(self) -> None:
        """Kill the whole process group: instant, where a graceful stop takes a second or more."""
        self._process.stop()

    def restart(self) -> None:
        """Stop, then start on the same ports with the same mail."""
        self.stop()
        self.start()

    def running(self) -> bool:
        return self._process.running()

    def close(self) -> None:
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.paths.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- logs ------------------------------------------------------------------------------

    def log_text(self) -> str:
        """Dovecot's own log followed by anything it printed to stdout/stderr."""
        return "".join(self._log_parts())

    def _log_parts(self) -> tuple[str, str]:
        try:
            log = self.paths.log.read_text(errors="replace")
        except FileNotFoundError:
            log = ""
        return log, self._process.log_text()

    def logout_stats(self, user: str | None = None) -> list[Pop3Logout]:
        """Every POP3 session logged so far (all users if user is None), oldest first."""
        stats = [
            Pop3Logout(
                user=m["user"],
                reason=m["reason"],
                top=int(m["top"]),
                retr=int(m["retr"]),
                retr_bytes=int(m["retr_bytes"]),
                deleted=int(m["deleted"]),
                size=int(m["size"]),
            )
            for m in _LOGOUT_RE.finditer(self._log_parts()[0])
        ]
        return [s for s in stats if user is None or s.user == user]

    def wait_for_logouts(
        self, count: int, user: str | None = None, *, timeout: float = 5.0
    ) -> list[Pop3Logout]:
        """Wait until at least `count` sessions are logged (the log is written asynchronously)."""
        deadline = time.monotonic() + timeout
        while len(stats := self.logout_stats(user)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(stats)} of {count} POP3 logouts logged for {user}")
            time.sleep(0.02)
        return stats

    def retr_count(self, user: str | None = None) -> int:
        """RETR commands served in all sessions logged so far (only ended sessions count)."""
        return sum(s.retr for s in self.logout_stats(user))


class _PortTakenError(RuntimeError):
    """Dovecot could not bind a port that free_port() had just found free."""
