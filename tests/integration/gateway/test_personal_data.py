"""Personal data in tickets: erased after `delete-user` and a grace period; tickets deleted after
their retention (issue 15). Real RabbitMQ, the Mongo-wire server and the fake Bot API."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.auth.v1 import RevokeReason, UserRevoked
from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    ConversationFile,
    TicketCommentAdded,
    TicketSubmitted,
)
from helpdesk_harness.fake_telegram.models import User

from tests.integration.gateway.conftest import World, new_user
from tests.integration.gateway.test_conversation import IM_ID, emailed_ticket

pytestmark = pytest.mark.integration

DAY = 86_400


async def file_ticket(world: World, user: User) -> dict[str, Any]:
    await world.sign_in(user)
    preview = await world.ticket_to_preview(user, description="Ноутбук Ивановой М.П. не включается")
    await world.press(user, preview, "✅ Отправить")
    submitted = await world.bus.wait_for(
        TicketSubmitted, lambda m: m.requester.telegram_user_id == user.id
    )
    await world.settle()
    doc = await world.db["tickets"].find_one({"reference": submitted.reference})
    assert doc is not None
    return doc


async def test_delete_user_erases_the_persons_data_in_tickets_after_the_grace_period(
    world: World,
) -> None:
    user = new_user()
    ticket = await file_ticket(world, user)
    assert ticket["requester"]["email"] == "maria.ivanova@example.com"

    await world.bus.publish(
        UserRevoked(
            telegram_user_id=user.id,
            email="maria.ivanova@example.com",
            reason=RevokeReason.ADMIN_DELETED,
        )
    )
    await world.reply(user)  # told that access is closed
    await world.settle()

    grace = world.settings.personal_data_grace_days * DAY
    world.clock.advance(grace - 60)
    await world.g.scheduler.personal_data()
    kept = await world.db["tickets"].find_one({"_id": ticket["_id"]})
    assert kept is not None and kept["requester"]["display_name"] == "Иванова Мария Петровна"

    world.clock.advance(120)
    await world.g.scheduler.personal_data()
    erased = await world.db["tickets"].find_one({"_id": ticket["_id"]})
    assert erased is not None
    text = repr(erased)
    for personal in ("Иванова", "maria.ivanova", "Ноутбук", str(user.id)):
        assert personal not in text, personal
    # What the manager's figures need stays.
    assert erased["reference"] == ticket["reference"]
    assert erased["category"] == ticket["category"]
    assert erased["requester"]["department"] == "Бухгалтерия"
    assert erased["submitted_at"] == ticket["submitted_at"]


async def test_tickets_are_deleted_after_their_retention(world: World) -> None:
    user = new_user()
    ticket = await file_ticket(world, user)
    world.clock.advance(world.settings.ticket_retention_days * DAY - 60)
    await world.g.scheduler.personal_data()
    assert await world.db["tickets"].count_documents({"_id": ticket["_id"]}) == 1
    world.clock.advance(120)
    await world.g.scheduler.personal_data()
    assert await world.db["tickets"].count_documents({"_id": ticket["_id"]}) == 0


async def support_file(world: World, ticket_id: str, name: str, data: bytes) -> ConversationFile:
    """A file of an engineer's comment, stored as the inbox stores it."""
    bucket = AsyncGridFSBucket(world.db, bucket_name="attachments")
    file_id = await bucket.upload_from_stream(
        name,
        data,
        metadata={"ticket_id": ticket_id, "purpose": "support_comment", "size": len(data)},
    )
    return ConversationFile(
        file_id=str(file_id),
        filename=name,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


async def conversation_files(world: World, ticket_id: str) -> list[str]:
    files = world.db["attachments.files"].find({"metadata.ticket_id": ticket_id})
    return [doc["filename"] async for doc in files]


async def test_erasure_covers_the_conversation_its_texts_and_its_files(world: World) -> None:
    user = new_user()
    submitted = await emailed_ticket(world, user)
    pdf = "%PDF-1.4\nИванова, кабинет 305\n".encode()
    from_support = await support_file(world, submitted.ticket_id, "акт Ивановой.pdf", pdf)
    await world.bus.publish(
        TicketCommentAdded(
            ticket_id=submitted.ticket_id,
            reference=submitted.reference,
            author=CommentAuthor.SUPPORT,
            text="Мария Петровна, это ваш принтер?",
            question=True,
            files=[from_support],
            itsm_number="12345",
            email_message_id=IM_ID,
            email_subject="Заявка №12345 Ноутбук Ивановой",
            commented_at=world.clock(),
        )
    )
    question = await world.reply(user, lambda m: m.visible_text.startswith("❓"))
    # The employee answers with a document («Ответить»), then with a Telegram reply.
    await world.press(user, question, "✍️ Ответить")
    await world.reply(user, lambda m: m.visible_text.startswith("Напишите комментарий"))
    await world.tg.send_document(
        user, b"%PDF-1.4\nscan\n", "скан Ивановой.pdf", "application/pdf", caption="Мой скан"
    )
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю комментарий"))
    await world.tg.send_text(user, "Да, мой, кабинет 305", reply_to=question.message_id)
    await world.reply(user, lambda m: m.visible_text.startswith("Отправляю комментарий"))
    await world.settle()
    ticket = await world.db["tickets"].find_one({"reference": submitted.reference})
    assert ticket is not None
    assert [r["text"] for r in ticket["replies"]] == ["Мой скан", "Да, мой, кабинет 305"]
    assert sorted(await conversation_files(world, submitted.ticket_id)) == [
        "акт Ивановой.pdf",
        "скан Ивановой.pdf",
    ]

    await world.bus.publish(
        UserRevoked(
            telegram_user_id=user.id,
            email="maria.ivanova@example.com",
            reason=RevokeReason.ADMIN_DELETED,
        )
    )
    await world.reply(user, lambda m: "Доступ" in m.visible_text)
    await world.settle()
    world.clock.advance(world.settings.personal_data_grace_days * DAY + 60)
    await world.g.scheduler.personal_data()

    erased = await world.db["tickets"].find_one({"_id": ticket["_id"]})
    assert erased is not None
    text = repr(erased)
    for personal in ("кабинет 305", "Ивановой", "Мой скан", "Мария"):
        assert personal not in text, personal
    # How many replies of which kind, and whether they left, stay for the figures.
    assert [(r["purpose"], r["state"]) for r in erased["replies"]] == [
        (r["purpose"], r["state"]) for r in ticket["replies"]
    ]
    assert await conversation_files(world, submitted.ticket_id) == []
    assert await world.db["attachments.chunks"].count_documents({}) == 0


async def test_a_deleted_tickets_conversation_files_go_with_it(world: World) -> None:
    user = new_user()
    ticket = await file_ticket(world, user)
    await support_file(world, str(ticket["_id"]), "отчёт.pdf", b"%PDF-1.4\nreport\n")
    world.clock.advance(world.settings.ticket_retention_days * DAY - 60)
    await world.g.scheduler.personal_data()
    assert await conversation_files(world, str(ticket["_id"])) == ["отчёт.pdf"]
    world.clock.advance(120)
    await world.g.scheduler.personal_data()
    assert await world.db["tickets"].count_documents({"_id": ticket["_id"]}) == 0
    assert await conversation_files(world, str(ticket["_id"])) == []
