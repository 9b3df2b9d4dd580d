"""Threat: the bot token reaches the logs (anyone who reads logs could then run the bot).

Telegram's file server puts the token in the download URL, and an HTTP error from it used to
put that URL, with its traceback, into the gateway's log.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from tests.integration.gateway.conftest import World, new_user
from tests.integration.gateway.images import jpeg
from tests.integration.gateway.test_wizard_input import at_photo_step

pytestmark = pytest.mark.integration


@pytest.fixture
def every_log_line() -> Iterator[io.StringIO]:
    """All records any logger emits, formatted with their tracebacks by a plain formatter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize("status", [404, 502])
async def test_a_failed_photo_download_is_retryable_for_the_user_and_leaves_no_token_in_logs(
    capfd: pytest.CaptureFixture[str],
    every_log_line: io.StringIO,
    world: World,
    status: int,
) -> None:
    token = world.settings.bot_token.get_secret_value()
    user = new_user()
    await at_photo_step(world, user)
    await world.tg.fail_next("download", status)
    await world.tg.send_photo(user, jpeg(3))
    await world.reply_text(
        user,
        "Не получилось загрузить фото. Пришлите его ещё раз.\nПришлите ещё или нажмите «Готово».",
    )
    # Sending it again works: the failure was not a crash and the draft is intact.
    await world.tg.send_photo(user, jpeg(4))
    await world.reply_text(
        user, "Сохранено фото: 1. Всего приложено 1 из 10.\nПришлите ещё или нажмите «Готово»."
    )

    logged = every_log_line.getvalue()
    assert "photo download failed" in logged  # the failure was logged, so the check means something
    captured = capfd.readouterr()
    for output in (logged, captured.err, captured.out):
        assert token not in output
        assert token.split(":", 1)[1] not in output


async def test_a_traceback_with_the_token_in_a_url_is_masked(
    every_log_line: io.StringIO, world: World
) -> None:
    """Whatever raises with a file URL in its text, the logged traceback shows no token."""
    token = world.settings.bot_token.get_secret_value()
    log = logging.getLogger("helpdesk.gateway.anything")
    url = f"{world.settings.telegram_api_base}/file/bot{token}/photos/file_1.jpg"
    try:
        raise RuntimeError(f"502, message='Bad Gateway', url='{url}'")
    except RuntimeError:
        log.exception("download of %s failed", url)
    logged = every_log_line.getvalue()
    assert "Bad Gateway" in logged and "RuntimeError" in logged
    assert token.split(":", 1)[1] not in logged
    assert f"{world.settings.telegram_api_base}/file/bot***/photos/file_1.jpg" in logged
