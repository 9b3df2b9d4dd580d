"""The log masker: bot tokens, URL passwords and configured secrets never reach a log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from helpdesk_runtime.logs import (
    JsonFormatter,
    SecretMasker,
    TextFormatter,
    configure_logging,
    masker,
    secret_values,
)
from helpdesk_runtime.settings import InfraSettings
from pydantic import BaseModel, SecretStr

TOKEN = "7123456789:AAHk3v9-Qw_ZxY8tP2mN4bV6cX1zL0sKjHg"


class ServiceSettings(BaseModel):
    infra: InfraSettings
    bot_token: SecretStr
    smtp_password: SecretStr
    empty: SecretStr = SecretStr("")
    name: str = "not a secret"


def test_bot_token_is_masked_bare_and_in_file_urls() -> None:
    m = SecretMasker()
    text = f"GET https://api.telegram.org/file/bot{TOKEN}/photos/file_7.jpg failed; token {TOKEN}"
    assert m.mask(text) == (
        "GET https://api.telegram.org/file/bot***/photos/file_7.jpg failed; token ***"
    )


def test_passwords_in_urls_are_masked_but_user_and_host_stay() -> None:
    m = SecretMasker()
    assert m.mask("connect amqp://helpdesk-auth:s3cr%40t@rabbit:5672/prod failed") == (
        "connect amqp://helpdesk-auth:***@rabbit:5672/prod failed"
    )
    assert (
        m.mask("mongodb://user:pw@db1,db2/?replicaSet=rs")
        == "mongodb://user:***@db1,db2/?replicaSet=rs"
    )
    assert m.mask("see https://example.com/a:b and time 12:30") == (
        "see https://example.com/a:b and time 12:30"
    )


def test_configured_secret_values_are_masked_with_url_passwords_decoded() -> None:
    settings = ServiceSettings(
        infra=InfraSettings(rabbit_url=SecretStr("amqp://svc:p%40ss-word@rabbit/")),
        bot_token=SecretStr(TOKEN),
        smtp_password=SecretStr("correct horse battery"),
    )
    values = secret_values(settings)
    assert "correct horse battery" in values and TOKEN in values
    assert "not a secret" not in values and "" not in values
    m = SecretMasker()
    m.add(values)
    assert (
        m.mask("SMTP AUTH with 'correct horse battery' refused") == "SMTP AUTH with '***' refused"
    )
    assert m.mask("password p@ss-word was rejected") == "password *** was rejected"


def test_short_configured_values_are_not_masked_everywhere() -> None:
    m = SecretMasker()
    m.add(["ab"])
    assert m.mask("tab and cab") == "tab and cab"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        masker.clear()


def test_every_handler_gets_masked_messages_and_tracebacks(captured: io.StringIO) -> None:
    settings = ServiceSettings(
        infra=InfraSettings(), bot_token=SecretStr(TOKEN), smtp_password=SecretStr("hunter2-long")
    )
    configure_logging("test", level="INFO", fmt="text", secrets_from=[settings])
    log = logging.getLogger("helpdesk.test.masking")
    try:
        raise ConnectionError(f"login with hunter2-long to https://h/bot{TOKEN}/getMe failed")
    except ConnectionError:
        log.exception("call %s failed", f"https://h/bot{TOKEN}/getMe")
    log.warning("stack", stack_info=True)
    text = captured.getvalue()
    assert "ConnectionError: login with *** to https://h/bot***/getMe failed" in text
    assert "call https://h/bot***/getMe failed" in text
    assert "hunter2-long" not in text and TOKEN not in text


def test_json_and_text_formatters_mask_bound_fields() -> None:
    masker.add(["hunter2-long"])
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain", None, None)
        record.url = "amqp://u:hunter2-long@h/"
        record.detail = {"password": "hunter2-long"}
        line = json.loads(JsonFormatter("test").format(record))
        assert line["url"] == "amqp://u:***@h/"
        assert "hunter2-long" not in json.dumps(line)
        record.msg = f"token {TOKEN}"
        assert TextFormatter("test").format(record).endswith("token ***")
    finally:
        masker.clear()
