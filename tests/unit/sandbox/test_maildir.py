"""Mail the simulator delivers sorts by name in the order it was delivered, as Dovecot orders it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpdesk_sandbox import maildir


def test_names_sort_in_delivery_order_across_a_digit_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sub in ("tmp", "new", "cur"):
        (tmp_path / sub).mkdir()
    base_ns = 1_800_000_000 * 10**9
    stamps = iter([base_ns + 99_999_000, base_ns + 100_000_000])  # 99999 µs, then 100000 µs
    monkeypatch.setattr("helpdesk_sandbox.maildir.time.time_ns", lambda: next(stamps))
    monkeypatch.setattr(maildir, "_last_us", 0)
    first = maildir.deliver(tmp_path, b"Subject: first\r\n\r\n")
    second = maildir.deliver(tmp_path, b"Subject: second\r\n\r\n")
    assert sorted((tmp_path / "new").iterdir()) == [first, second]
