"""Builders of mailer inputs shared by the mailer's unit and integration tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_contracts.ticket.v1 import Attachment, TicketSubmitted
from helpdesk_mailer.settings import MailerSettings

TICKET_ID = "6745a1f2c3d4e5f601234560"
REFERENCE = "TG-7F3A2C"
EMPLOYEE = "maria.ivanova@corp.example"
BOT = "helpdesk-bot@corp.example"
ITSM = "itsm@corp.example"
ITSM_CC = "itsm-copy@corp.example"
SUBMITTED_AT = datetime(2026, 11, 26, 10, 20, tzinfo=UTC)


def settings(**overrides: Any) -> MailerSettings:
    """Mailer settings for tests: plain SMTP on a dead port unless overridden."""
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": 9,
        "smtp_security": "none",
        "from_address": BOT,
        "ticket_to": [ITSM],
        "ticket_cc": [ITSM_CC],
    }
    values.update(overrides)
    return MailerSettings.model_validate(values)


def ticket(**overrides: Any) -> TicketSubmitted:
    requester = {
        "telegram_user_id": 123456789,
        "telegram_username": "mivanova",
        "email": EMPLOYEE,
        "display_name": "Иванова Мария Петровна",
        "phone": "+7 495 123-45-67",
        "department": "Бухгалтерия",
        "title": "Главный бухгалтер",
    }
    requester.update(overrides.pop("requester", {}))
    category = {
        "code": "printers.not_printing",
        "title": "Принтер",
        "parent_title": "Принтеры и МФУ",
        "routing_text": "Сервис: Печать; Группа: ИТ-поддержка 1 линия",
    }
    category.update(overrides.pop("category", {}))
    values: dict[str, Any] = {
        "ticket_id": TICKET_ID,
        "reference": REFERENCE,
        "requester": requester,
        "chat_id": 123456789,
        "category": category,
        "description": "не печатает на 3 этаже",
        "location": "каб. 305",
        "attachments": [],
        "submitted_at": SUBMITTED_AT,
    }
    values.update(overrides)
    return TicketSubmitted.model_validate(values)


def attachment(data: bytes, *, file_id: str, filename: str = "photo.jpg") -> Attachment:
    return Attachment(
        file_id=file_id,
        filename=filename,
        content_type="image/jpeg",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def photo(size: int, seed: int = 0) -> bytes:
    """Binary bytes (every byte value), so a broken transfer encoding would show."""
    block = bytes((i * 7 + seed) % 256 for i in range(256))
    return (block * (size // 256 + 1))[:size]


def send_mail(**overrides: Any) -> SendMail:
    values: dict[str, Any] = {
        "to": EMPLOYEE,
        "template": "auth_code",
        "locale": "ru",
        "variables": {"code": "042817", "expires_minutes": "10", "telegram_username": "mivanova"},
    }
    values.update(overrides)
    return SendMail.model_validate(values)


def write_template(directory: Path, name: str, text: str) -> None:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
