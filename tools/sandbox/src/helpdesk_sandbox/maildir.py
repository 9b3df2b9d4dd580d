"""Deliver a message into a Maildir the way a local delivery agent does: tmp/, then new/.

Dovecot reads new/ and orders mail by the time stamp in the file name, so names carry a strictly
increasing microsecond stamp, zero-padded so that sorting the names sorts them by time too (an
unpadded M99999 sorts after M100000). Files get the owner of the Maildir, so Dovecot (which runs
the mail processes as that user) can read them when the sandbox runs as root.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path

_serial = itertools.count()
_last_us = 0


def _unique_name() -> str:
    global _last_us
    now_us = max(time.time_ns() // 1000, _last_us + 1)
    _last_us = now_us
    secs, usecs = divmod(now_us, 1_000_000)
    host = socket.gethostname().replace("/", "_").replace(":", "_")
    return f"{secs}.M{usecs:06d}P{os.getpid()}Q{next(_serial)}.{host}"


def deliver(maildir: Path, raw: bytes) -> Path:
    """Write `raw` into maildir/new atomically; return the new file's path."""
    owner = maildir.stat()
    name = _unique_name()
    partial = maildir / "tmp" / name
    partial.write_bytes(raw)
    if os.geteuid() == 0:
        os.chown(partial, owner.st_uid, owner.st_gid)
    final = maildir / "new" / name
    partial.rename(final)
    return final
