"""The ticket and notice emails as InfraManager and employees receive them, parsed back."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from helpdesk_mailer.compose import (
    AttachmentFile,
    ComposeConfig,
    LoadedAttachment,
    OmittedAttachment,
    OutgoingEmail,
    compose_mail,
    compose_ticket,
)
from helpdesk_mailer.errors import ComposeError
from helpdesk_mailer.templates import Templates, required_names

from tests.unit.mailer import factories as f

INJECTION = "\r\nBcc: evil@attacker.example\r\n\r\nX-Evil: 1"
EXPECTED_HEADERS = {
    "date",
    "from",
    "reply-to",
    "to",
    "cc",
    "subject",
    "message-id",
    "x-helpdesk-ticket",
    "x-helpdesk-ticket-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
}


def config(**overrides: Any) -> ComposeConfig:
    return ComposeConfig.from_settings(f.settings(**overrides))


def parse(outgoing: OutgoingEmail) -> EmailMessage:
    message = email.message_from_bytes(outgoing.as_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    assert part.get_content_charset() == "utf-8"
    content = part.get_content()
    assert isinstance(content, str)
    # base64 text carries MIME's canonical CRLF line ends.
    return content.replace("\r\n", "\n")


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    assert part.get_content_type() == "text/html"
    assert part.get_content_charset() == "utf-8"
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


@pytest.fixture(scope="module")
def templates() -> Templates:
    tpl = Templates()
    tpl.check(required_names(html=True))
    return tpl


def test_ticket_email_headers_are_what_infra_manager_needs(templates: Templates) -> None:
    outgoing = compose_ticket(f.ticket(), [], config(), templates)
    message = parse(outgoing)

    assert message["Subject"] == "[TG-7F3A2C] Принтер: не печатает на 3 этаже"
    assert message["From"] == f"Helpdesk Telegram bot <{f.BOT}>"
    assert message["Reply-To"] == f"Иванова Мария Петровна <{f.EMPLOYEE}>"
    assert message["To"] == f.ITSM
    assert message["Cc"] == f.ITSM_CC
    assert message["Message-ID"] == f"<TG-7F3A2C.{f.TICKET_ID}@corp.example>"
    assert outgoing.message_id == message["Message-ID"]
    assert message["X-Helpdesk-Ticket"] == "TG-7F3A2C"
    assert message["X-Helpdesk-Ticket-Id"] == f.TICKET_ID
    # Submission time, in the configured zone.
    assert message["Date"] == "Thu, 26 Nov 2026 13:20:00 +0300"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert outgoing.recipients == (f.ITSM, f.ITSM_CC)
    assert {key.lower() for key in message} == EXPECTED_HEADERS
    # 7-bit clean on the wire: relays need no 8BITMIME.
    assert max(outgoing.as_bytes()) < 128


def test_ticket_body_carries_every_field_in_the_configured_time_zone(
    templates: Templates,
) -> None:
    body = text_body(
        parse(compose_ticket(f.ticket(), [], config(time_zone="Asia/Yekaterinburg"), templates))
    )
    for expected in (
        "TG-7F3A2C",
        "Принтеры и МФУ / Принтер",
        "Сервис: Печать; Группа: ИТ-поддержка 1 линия",
        "не печатает на 3 этаже",
        "каб. 305",
        "Иванова Мария Петровна",
        f.EMPLOYEE,
        "+7 495 123-45-67",
        "Бухгалтерия",
        "Главный бухгалтер",
        "@mivanova",
        "26.11.2026 15:20 (Asia/Yekaterinburg)",
    ):
        assert expected in body, expected


def test_optional_fields_absent_leave_no_empty_labels(templates: Templates) -> None:
    ticket = f.ticket(
        location=None,
        requester={"phone": None, "department": None, "title": None, "telegram_username": None},
        category={"parent_title": None, "routing_text": None},
    )
    body = text_body(parse(compose_ticket(ticket, [], config(), templates)))
    for label in ("Местоположение", "Телефон", "Подразделение", "Должность", "@"):
        assert label not in body.replace(f.EMPLOYEE, ""), label
    assert "Категория: Принтер\n" in body


def test_employee_as_sender_when_configured(templates: Templates) -> None:
    message = parse(compose_ticket(f.ticket(), [], config(from_mode="employee"), templates))
    assert message["From"] == f"Иванова Мария Петровна <{f.EMPLOYEE}>"
    assert message["Sender"] == f"Helpdesk Telegram bot <{f.BOT}>"
    assert message["Reply-To"] == f"Иванова Мария Петровна <{f.EMPLOYEE}>"


def test_non_ascii_mailbox_stays_in_the_body_but_out_of_headers(templates: Templates) -> None:
    ticket = f.ticket(requester={"email": "мария@corp.example"})
    message = parse(compose_ticket(ticket, [], config(from_mode="employee"), templates))
    assert message["From"] == f"Helpdesk Telegram bot <{f.BOT}>"
    assert message["Reply-To"] is None
    assert "мария@corp.example" in text_body(message)


def test_cyrillic_emoji_and_4000_characters_survive_exactly(templates: Templates) -> None:
    description = ("Строка с эмодзи 🖨️👨‍💻 и «кавычками».\n" * 200)[:3999] + "ё"
    assert len(description) == 4000
    message = parse(compose_ticket(f.ticket(description=description), [], config(), templates))
    assert description.strip() in text_body(message)
    assert message["Subject"].startswith("[TG-7F3A2C] Принтер: Строка с эмодзи 🖨️👨‍💻")


@pytest.mark.parametrize("limit", [20, 60, 100])
def test_subject_summary_is_cut_to_the_configured_length(templates: Templates, limit: int) -> None:
    ticket = f.ticket(description="очень " * 100)
    message = parse(compose_ticket(ticket, [], config(subject_summary_max_length=limit), templates))
    subject = message["Subject"]
    assert subject.startswith("[TG-7F3A2C] Принтер: очень")
    summary = subject.removeprefix("[TG-7F3A2C] ")
    assert len(summary) <= limit
    assert summary.endswith("…")


def test_subject_is_never_empty_and_always_has_the_reference(
    templates: Templates, tmp_path: Path
) -> None:
    blank = f.ticket(description="\r\n\t \x00", category={"title": "\r\n"})
    assert parse(compose_ticket(blank, [], config(), templates))["Subject"] == (
        "[TG-7F3A2C] Заявка из Telegram"
    )
    # An operator's subject template that forgets the reference does not lose it.
    f.write_template(tmp_path, "ticket/subject.txt.j2", "Новая заявка: {{ summary }}")
    custom = Templates(tmp_path)
    subject = parse(compose_ticket(f.ticket(), [], config(), custom))["Subject"]
    assert subject == "[TG-7F3A2C] Новая заявка: Принтер: не печатает на 3 этаже"


def test_header_injection_in_every_user_field_stays_text(templates: Templates) -> None:
    evil = f.ticket(
        requester={
            "display_name": f"Иван{INJECTION}",
            "phone": f"1{INJECTION}",
            "department": f"D{INJECTION}",
            "title": f"T{INJECTION}",
            "telegram_username": "u\r\nBcc: x@y.z",
        },
        category={
            "title": f"Принтер{INJECTION}",
            "parent_title": f"P{INJECTION}",
            "routing_text": f"R{INJECTION}",
        },
        description=f"описание{INJECTION}",
        location=f"каб.{INJECTION}",
        attachments=[f.attachment(b"x", file_id="6745a1f2c3d4e5f601234567")],
    )
    attachment = evil.attachments[0].model_copy(update={"filename": f"a{INJECTION}.jpg"})
    evil = evil.model_copy(update={"attachments": [attachment]})
    for mode in ("bot", "employee"):
        outgoing = compose_ticket(
            evil, [AttachmentFile(attachment, b"x")], config(from_mode=mode), templates
        )
        raw = outgoing.as_bytes()
        message = parse(outgoing)
        assert message["Bcc"] is None
        assert message["X-Evil"] is None
        assert b"\r\nBcc:" not in raw
        assert b"\r\nX-Evil:" not in raw
        assert outgoing.recipients == (f.ITSM, f.ITSM_CC)
        assert message["To"] == f.ITSM
        assert message["Subject"].startswith(
            "[TG-7F3A2C] Принтер Bcc: evil@attacker.example X-Evil"
        )
        assert "\n" not in message["Subject"]
        [part] = list(message.iter_attachments())
        assert part.get_filename() == "a Bcc_ evil@attacker.example X-Evil_ 1.jpg"
        # In the body, the text is there as text.
        assert "Bcc: evil@attacker.example" in text_body(message)


def test_control_characters_and_bidi_overrides_are_removed(
    templates: Templates,
) -> None:
    ticket = f.ticket(
        description="a\x00b\x1bc\u202ed\x7fe\u2028f",
        requester={"display_name": "Ива\x07н\u2066"},
    )
    message = parse(compose_ticket(ticket, [], config(), templates))
    assert message["Subject"] == "[TG-7F3A2C] Принтер: abcde f"
    assert "abcde\nf" in text_body(message)
    assert message["Reply-To"] == f"Иван <{f.EMPLOYEE}>"


def test_html_alternative_escapes_user_text(templates: Templates) -> None:
    ticket = f.ticket(
        description='<script>alert("x")</script> & <b>жирный</b>',
        requester={"display_name": "<img src=x onerror=alert(1)>"},
    )
    outgoing = compose_ticket(ticket, [], config(html_body=True), templates)
    message = parse(outgoing)
    assert message.get_content_type() == "multipart/alternative"
    html = html_body(message)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;жирный&lt;/b&gt;" in html
    assert "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
    assert '<script>alert("x")</script>' in text_body(message)


def test_attachments_are_attached_and_the_rest_listed_with_reasons(
    templates: Templates,
) -> None:
    first, second = f.photo(3000, 1), f.photo(5000, 2)
    atts = [
        f.attachment(first, file_id="6745a1f2c3d4e5f601234561", filename="фото 1.jpg"),
        f.attachment(b"?", file_id="6745a1f2c3d4e5f601234562", filename="huge.jpg"),
        f.attachment(b"?", file_id="6745a1f2c3d4e5f601234563", filename="gone.jpg"),
        f.attachment(second, file_id="6745a1f2c3d4e5f601234564", filename="photo-2.png"),
    ]
    files: list[LoadedAttachment] = [
        AttachmentFile(atts[0], first),
        OmittedAttachment(atts[1], "too_large", 3_500_000),
        OmittedAttachment(atts[2], "missing", 1),
        AttachmentFile(atts[3], second),
    ]
    outgoing = compose_ticket(f.ticket(attachments=atts), files, config(html_body=True), templates)
    message = parse(outgoing)
    assert message.get_content_type() == "multipart/mixed"
    parts = list(message.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("фото 1.jpg", "image/jpeg"),
        ("photo-2.png", "image/jpeg"),
    ]
    assert [p.get_content() for p in parts] == [first, second]
    assert (outgoing.attachments_sent, outgoing.attachments_omitted) == (2, 2)
    body = text_body(message)
    assert "Вложения (2):\n- фото 1.jpg (3.0 kB)\n- photo-2.png (5.0 kB)" in body
    assert "- huge.jpg (3.5 MB): больше допустимого размера вложения" in body
    assert "- gone.jpg (1 Byte): файл не найден в хранилище" in body
    assert "huge.jpg" in html_body(message)


def test_photos_that_would_overflow_the_message_limit_are_listed_instead(
    templates: Templates,
) -> None:
    photos = [f.photo(60_000, i) for i in range(3)]
    atts = [
        f.attachment(data, file_id=f"6745a1f2c3d4e5f60123456{i}", filename=f"p{i}.jpg")
        for i, data in enumerate(photos)
    ]
    files = [AttachmentFile(a, d) for a, d in zip(atts, photos, strict=True)]
    # Room for two base64-encoded photos (about 82 kB each) but not three.
    outgoing = compose_ticket(
        f.ticket(attachments=atts), files, config(message_max_bytes=200_000), templates
    )
    message = parse(outgoing)
    assert [p.get_filename() for p in message.iter_attachments()] == ["p0.jpg", "p1.jpg"]
    assert "- p2.jpg (60.0 kB): письмо превысило бы допустимый размер" in text_body(message)
    assert len(outgoing.as_bytes()) <= 200_000


def test_the_same_ticket_always_gives_the_same_bytes(templates: Templates) -> None:
    data = f.photo(1000)
    att = f.attachment(data, file_id="6745a1f2c3d4e5f601234561")
    ticket = f.ticket(attachments=[att])
    cfg = config(html_body=True)
    first = compose_ticket(ticket, [AttachmentFile(att, data)], cfg, templates).as_bytes()
    again = compose_ticket(ticket, [AttachmentFile(att, data)], cfg, templates).as_bytes()
    assert first == again
    other = f.ticket(ticket_id="6745a1f2c3d4e5f601234599", attachments=[att])
    assert (
        b"6745a1f2c3d4e5f601234599@corp.example"
        in compose_ticket(other, [AttachmentFile(att, data)], cfg, templates).as_bytes()
    )


def test_operator_templates_replace_packaged_ones(templates: Templates, tmp_path: Path) -> None:
    f.write_template(
        tmp_path, "ticket/body.txt.j2", "Заявка {{ reference }} от {{ requester.email }}\n"
    )
    f.write_template(tmp_path, "ticket/body.html.j2", "<p>{{ description }}</p>")
    custom = Templates(tmp_path)
    ticket = f.ticket(description="<i>курсив</i>")
    message = parse(compose_ticket(ticket, [], config(html_body=True), custom))
    assert text_body(message) == f"Заявка TG-7F3A2C от {f.EMPLOYEE}\n"
    assert html_body(message) == "<p>&lt;i&gt;курсив&lt;/i&gt;</p>\n"


def test_broken_operator_template_is_refused_at_start_up(tmp_path: Path) -> None:
    f.write_template(tmp_path, "ticket/body.txt.j2", "{% if %}")
    with pytest.raises(ComposeError, match=r"ticket/body.txt.j2"):
        Templates(tmp_path).check(required_names(html=False))
    with pytest.raises(ComposeError, match="does not exist"):
        Templates(tmp_path / "missing")


@pytest.mark.parametrize(
    ("locale", "greeting", "validity", "who"),
    [
        ("ru", "Здравствуйте, Мария!", "Код действует 10 мин.", "@mivanova"),
        ("en", "Hello, Мария!", "valid for 10 min", "@mivanova"),
    ],
)
def test_sign_in_code_email_in_both_languages(
    templates: Templates, locale: str, greeting: str, validity: str, who: str
) -> None:
    command = f.send_mail(
        locale=locale,
        variables={
            "code": "042817",
            "expires_minutes": "10",
            "display_name": "Мария",
            "telegram_username": "mivanova",
        },
    )
    outgoing = compose_mail(command, config(html_body=True), templates)
    message = parse(outgoing)
    assert message["To"] == f.EMPLOYEE
    assert outgoing.recipients == (f.EMPLOYEE,)
    assert message["From"] == f"Helpdesk Telegram bot <{f.BOT}>"
    assert message["Message-ID"] == f"<{command.message_id}@corp.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    # The code is in the body, not in the subject (subjects end up in relay logs).
    assert "042817" not in message["Subject"]
    body = text_body(message)
    for expected in (greeting, "042817", validity, who):
        assert expected in body
    assert "042817" in html_body(message)


def test_code_email_without_optional_variables_still_reads_well(templates: Templates) -> None:
    command = f.send_mail(locale="en", variables={"code": "555"})
    body = text_body(parse(compose_mail(command, config(), templates)))
    assert body.startswith("Hello!\n")
    assert "555" in body
    assert "valid for" not in body


def test_missing_code_is_a_compose_error_that_reveals_no_values(templates: Templates) -> None:
    command = f.send_mail(variables={"expires_minutes": "secret-looking-42"})
    with pytest.raises(ComposeError) as caught:
        compose_mail(command, config(), templates)
    assert "code" in str(caught.value)
    assert "secret-looking-42" not in str(caught.value)


def test_notice_template_and_injection_in_variables(templates: Templates) -> None:
    command = f.send_mail(
        template="notice",
        variables={"subject": f"Важно{INJECTION}", "text": "Строка 1\r\nСтрока 2"},
    )
    message = parse(compose_mail(command, config(), templates))
    assert message["Subject"] == "Важно Bcc: evil@attacker.example X-Evil: 1"
    assert message["Bcc"] is None
    assert text_body(message) == "Строка 1\nСтрока 2\n"
