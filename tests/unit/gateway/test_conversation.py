"""What the employee reads and can press about a filed ticket: engineers' comments, «Проблема
решена?» on every resolution, the cancel state; and which ticket a Telegram reply is about."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import Chat, Message, User
from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    ConversationFile,
    TicketCommentAdded,
    TicketStatus,
)
from helpdesk_gateway.comment_files import content_type_of, safe_filename
from helpdesk_gateway.domain.tickets import EmailState
from helpdesk_gateway.handlers.conversation import referenced
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.keyboards.conversation import ticket_actions
from helpdesk_gateway.messages import (
    file_notification,
    render,
    support_comment_text,
    too_big_for_telegram,
)

from tests.unit.gateway.factories import TICKET_ID, status_event, ticket

I18N = I18n.load()
RU, EN = I18N.texts("ru"), I18N.texts("en")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def comment(text: str, *, question: bool = False, **extra: object) -> TicketCommentAdded:
    return TicketCommentAdded(
        ticket_id=TICKET_ID,
        reference="TG-7F3A2C",
        author=CommentAuthor.SUPPORT,
        text=text,
        question=question,
        itsm_number="12345",
        commented_at=NOW,
        **extra,  # type: ignore[arg-type]
    )


def test_an_engineers_question_says_so_and_how_to_answer() -> None:
    text = support_comment_text(RU, ticket(), comment("В каком кабинете?", question=True))
    assert text == (
        "❓ ИТ-поддержка задала вопрос по заявке TG-7F3A2C (№12345):\n\nВ каком кабинете?\n\n"
        "Чтобы ответить, нажмите «Ответить» или ответьте на это сообщение."
    )
    plain = support_comment_text(EN, ticket(), comment("Cartridge replaced."))
    assert plain.startswith("💬 IT support commented on ticket TG-7F3A2C (No. 12345):")


def test_files_left_out_are_named() -> None:
    text = support_comment_text(RU, ticket(), comment("Акт во вложении", files_omitted=["a.tiff"]))
    assert "Эти файлы из письма ИТ-поддержки не удалось переслать в чат: a.tiff." in text


def test_every_resolution_asks_whether_the_problem_is_solved() -> None:
    first = render(RU, ticket(), status_event(TicketStatus.RESOLVED), ask_rating=True)
    again = render(RU, ticket(), status_event(TicketStatus.RESOLVED), ask_rating=False)
    for notification in (first, again):
        assert notification.text == "Заявка TG-7F3A2C (№12345) выполнена. Проблема решена?"
        assert notification.markup is not None
        captions = [b["text"] for row in notification.markup["inline_keyboard"] for b in row]
        assert captions == ["Да", "Нет, не решена"]


def test_a_cancel_request_shows_until_infra_manager_confirms() -> None:
    open_ticket = ticket(email_state=EmailState.SENT, status=TicketStatus.REGISTERED)
    assert open_ticket.cancellable
    requested = open_ticket.model_copy(update={"cancel_requested_at": NOW})
    assert not requested.cancellable
    assert RU(requested.status_key()) == "Отмена запрошена"
    confirmed = requested.model_copy(update={"status": TicketStatus.REJECTED})
    assert RU(confirmed.status_key()) == "Отменена"
    event = status_event(TicketStatus.REJECTED)
    assert render(RU, confirmed, event, ask_rating=False).text == (
        "Заявка TG-7F3A2C (№12345) отменена."
    )
    # Nothing to cancel where InfraManager never got the ticket, or it is finished.
    assert not ticket(email_state=EmailState.FAILED).cancellable
    assert not ticket(email_state=EmailState.SENT, status=TicketStatus.CLOSED).cancellable
    assert not ticket(email_state=EmailState.SENT, status=TicketStatus.RESOLVED).cancellable


def test_ticket_details_offer_comment_and_cancel_while_open() -> None:
    captions = [
        b.text
        for row in ticket_actions(RU, ticket(email_state=EmailState.SENT)).inline_keyboard
        for b in row
    ]
    assert captions == ["✍️ Добавить комментарий", "Отменить заявку", "← К списку"]
    closed = ticket(email_state=EmailState.SENT, status=TicketStatus.CLOSED)
    assert [b.text for row in ticket_actions(RU, closed).inline_keyboard for b in row] == [
        "✍️ Добавить комментарий",
        "← К списку",
    ]


def _reply_to(text: str, *, from_bot: bool = True) -> Message:
    chat = Chat(id=1, type="private")
    author = User(id=99, is_bot=from_bot, first_name="bot")
    original = Message(message_id=1, date=NOW, chat=chat, from_user=author, text=text)
    person = User(id=1, is_bot=False, first_name="Мария")
    return Message(
        message_id=2, date=NOW, chat=chat, from_user=person, text="ok", reply_to_message=original
    )


def test_a_reply_is_about_the_one_ticket_the_bot_message_names() -> None:
    assert referenced(_reply_to("Заявка TG-7F3A2C (№12345) взята в работу.")) == "TG-7F3A2C"
    assert referenced(_reply_to("TG-7F3A2C и TG-000001")) is None  # ambiguous
    assert referenced(_reply_to("Добро пожаловать!")) is None
    assert referenced(_reply_to("TG-7F3A2C", from_bot=False)) is None


def test_file_names_and_types_are_made_safe() -> None:
    assert safe_filename("C:\\Users\\x\\акт работ.pdf", "file") == "акт работ.pdf"
    assert safe_filename("../../etc/passwd", "file") == "passwd"
    assert safe_filename("a\r\nBcc: x@y.z.pdf", "file") == "a_Bcc_ x_y.z.pdf"
    assert safe_filename("", "file") == "file"
    assert content_type_of("Application/PDF") == "application/pdf"
    assert content_type_of("text/plain; charset=utf-8") == "application/octet-stream"
    assert content_type_of(None) == "application/octet-stream"


def test_waiting_with_the_engineers_words_offers_to_answer() -> None:
    event = status_event(
        TicketStatus.WAITING, raw_status="Ожидает ответа", comment="В каком кабинете?"
    )
    notification = render(RU, ticket(), event, ask_rating=False)
    assert notification.text.endswith(
        "Комментарий специалиста: В каком кабинете?\n\n"
        "Чтобы ответить, нажмите «Ответить» или ответьте на это сообщение."
    )
    assert notification.markup is not None
    assert [b["text"] for row in notification.markup["inline_keyboard"] for b in row] == [
        "✍️ Ответить"
    ]


def _file(name: str, content_type: str, size: int) -> ConversationFile:
    return ConversationFile(
        file_id="6745a1f2c3d4e5f601234599",
        filename=name,
        content_type=content_type,
        size=size,
        sha256="0" * 64,
    )


def test_support_files_go_as_photos_or_documents_and_left_out_ones_are_named() -> None:
    photo, pdf = _file("схема.png", "image/png", 1000), _file("акт.pdf", "application/pdf", 1000)
    big_photo = _file("скан.jpg", "image/jpeg", 11 * 1024 * 1024)
    event = comment("Смотрите вложения", files=[photo, pdf, big_photo], files_omitted=["x.zip"])
    assert file_notification(RU, ticket(), event, 0, photo, 1001).file == {
        "file_id": photo.file_id,
        "filename": "схема.png",
        "as_photo": True,
    }
    as_document = file_notification(RU, ticket(), event, 1, pdf, 1001)
    assert as_document.file is not None and as_document.file["as_photo"] is False
    assert as_document.text == "📎 Файл от ИТ-поддержки к заявке TG-7F3A2C (№12345)"
    # Over Telegram's 10 MB for photos: sent as a document instead.
    large = file_notification(RU, ticket(), event, 2, big_photo, 1001)
    assert large.file is not None and large.file["as_photo"] is False
    assert not too_big_for_telegram(big_photo)
    not_sent = "Эти файлы из письма ИТ-поддержки не удалось переслать в чат: x.zip."
    assert not_sent in support_comment_text(RU, ticket(), event)
