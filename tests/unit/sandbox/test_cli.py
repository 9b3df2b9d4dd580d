"""The banner tells a newcomer where to go and how to sign in."""

from __future__ import annotations

from pathlib import Path

from helpdesk_sandbox.cli import BannerInfo, banner
from helpdesk_sandbox.demo import DEMO_PEOPLE


def info(*, real_telegram: bool = False) -> BannerInfo:
    return BannerInfo(
        webchat_url="" if real_telegram else "http://127.0.0.1:8765/",
        people=DEMO_PEOPLE,
        pace=5.0,
        workdir=Path("/repo/.sandbox/20261126-100000"),
        rabbit_vhost="helpdesk-sandbox-abc",
        mongo="mongodb://127.0.0.1:27018/ (database sandbox_1)",
        real_telegram=real_telegram,
    )


def test_banner_shows_the_url_every_login_and_how_to_stop() -> None:
    text = banner(info())

    assert "http://127.0.0.1:8765/" in text
    for person in DEMO_PEOPLE:
        assert person.email in text
    disabled = next(line for line in text.splitlines() if "alexey.kuznetsov" in line)
    assert "disabled" in disabled
    assert "Ctrl-C" in text
    assert "/repo/.sandbox/20261126-100000/" in text
    assert "5 s" in text


def test_banner_with_real_telegram_has_no_web_chat() -> None:
    text = banner(info(real_telegram=True))

    assert "Web chat" not in text
    assert "real bot" in text
