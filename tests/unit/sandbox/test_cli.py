"""The banner tells a newcomer where to go and how to sign in."""

from __future__ import annotations

import socket
from pathlib import Path

from helpdesk_sandbox.cli import BannerInfo, banner, data_line, port_in_use
from helpdesk_sandbox.demo import DEMO_PEOPLE


def info(*, real_telegram: bool = False, manual: bool = False) -> BannerInfo:
    return BannerInfo(
        webchat_url="" if real_telegram else "http://127.0.0.1:8765/",
        people=DEMO_PEOPLE,
        pace=5.0,
        workdir=Path("/repo/.sandbox/20261126-100000"),
        rabbit_vhost="helpdesk-sandbox-abc",
        mongo="mongodb://127.0.0.1:27018/ (database sandbox_1)",
        real_telegram=real_telegram,
        data="fresh (nothing is kept after Ctrl-C; --keep keeps data between starts)",
        manual=manual,
    )


def block_of(text: str, email: str) -> str:
    """The banner lines of one demo person: the login line and its notes."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if email in line)
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.strip().startswith("- "):
            break
        block.append(line)
    return "\n".join(block)


def test_banner_shows_the_url_every_login_and_how_to_stop() -> None:
    text = banner(info())

    assert "http://127.0.0.1:8765/" in text
    for person in DEMO_PEOPLE:
        assert person.email in text
    # The surprising people are explained: refused without saying so, English, a contractor.
    disabled = block_of(text, "alexey.kuznetsov")
    assert "disabled in the directory" in disabled
    assert "never tells which addresses exist" in disabled
    assert "English" in block_of(text, "john.smith")
    assert "( ) *" in block_of(text, "dmitry.volkov")
    assert block_of(text, "maria.ivanova").count("\n") == 0
    assert "Data:           fresh" in text
    assert "Ctrl-C" in text
    assert "/repo/.sandbox/20261126-100000/" in text
    assert "5 s" in text


def test_banner_with_real_telegram_has_no_web_chat() -> None:
    text = banner(info(real_telegram=True))

    assert "Web chat" not in text
    assert "real bot" in text


def test_banner_in_manual_mode_hands_the_engineer_the_console() -> None:
    assert "you are the support engineer" in banner(info(manual=True))
    assert "you are the support engineer" not in banner(info())


def test_the_data_line_says_whether_data_is_kept() -> None:
    kept = Path("/repo/.sandbox/kept")
    assert data_line(keep=False, fresh=True, workdir=kept, mongo_url=None).startswith("fresh")
    first = data_line(keep=True, fresh=True, workdir=kept, mongo_url=None)
    assert first == "fresh, kept in /repo/.sandbox/kept/ for the next start with --keep"
    again = data_line(keep=True, fresh=False, workdir=kept, mongo_url=None)
    assert again.startswith("kept from the last start")


def test_a_taken_port_is_seen_before_anything_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_in_use(port)
    assert not port_in_use(port)
