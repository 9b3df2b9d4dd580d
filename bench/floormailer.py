"""Floor (d): a bare FastStream consumer doing the mailer's minimum work per ticket, run as its
own process like the mailer.

Per message on its queue: read the ticket's photos from GridFS, one claim write, one SMTP send
(the ticket email the helpdesk sent in the same run, over one connection kept open), one final
write, one published event (persistent, mandatory, confirmed, to a durable queue, as the
mailer's events are). Messages are taken as the mailer takes them (up to the services'
prefetch, `HELPDESK_PREFETCH`'s default, at once; publisher confirms on), on the same RabbitMQ
vhost, MongoDB server and SMTP sink; the SMTP sends queue on the one connection. No outbox, no
composition, no retry policy, no logging per message: what the mailer adds to this is what
Send → email pays over the floor.

`python -m bench.floormailer --rabbit-url URL --mongo-url URL --smtp-port P --email FILE`
prints `floor mailer consuming` once its queue is declared; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
from bson import ObjectId
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from gridfs import AsyncGridFSBucket
from helpdesk_runtime.settings import InfraSettings
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

TICKETS = RabbitQueue("bench.floor.tickets", auto_delete=True)
EMAILED = RabbitQueue("bench.floor.emailed", durable=True)
"""Durable, and the event persistent and mandatory, as the mailer's events are (deleted by the
benchmark at the end of the floor)."""
DATABASE = "bench_floor_mailer"
SENDER = "bench-floor@example.com"
BUCKET = "attachments"  # the gateway's and the mailer's GridFS bucket


class FloorTicket(BaseModel):
    ticket_id: str
    photo_ids: list[str]


class FloorEmailed(BaseModel):
    ticket_id: str


async def run(args: argparse.Namespace, email: bytes) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(args.mongo_url)
    db: AsyncDatabase[dict[str, Any]] = client[DATABASE]
    photos = AsyncGridFSBucket(db, bucket_name=BUCKET)
    deliveries = db["deliveries"]
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=args.smtp_port)
    await smtp.connect()
    broker = RabbitBroker(
        args.rabbit_url,
        default_channel=Channel(prefetch_count=args.prefetch, publisher_confirms=True),
    )

    @broker.subscriber(TICKETS)
    async def deliver(ticket: FloorTicket) -> None:
        for photo_id in ticket.photo_ids:
            stream = await photos.open_download_stream(ObjectId(photo_id))
            await stream.read()
        await deliveries.update_one(
            {"_id": ticket.ticket_id},
            {"$set": {"state": "sending", "claimed_at": datetime.now(UTC)}},
            upsert=True,
        )
        await smtp.sendmail(SENDER, [args.recipient], email)
        await deliveries.update_one(
            {"_id": ticket.ticket_id}, {"$set": {"state": "sent", "sent_at": datetime.now(UTC)}}
        )
        await broker.publish(
            FloorEmailed(ticket_id=ticket.ticket_id), queue=EMAILED, persist=True, mandatory=True
        )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await broker.start()
    await broker.declare_queue(EMAILED)
    print("floor mailer consuming", flush=True)
    try:
        await stop.wait()
    finally:
        await broker.stop()
        await smtp.quit()
        await client.drop_database(DATABASE)
        await client.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floormailer")
    parser.add_argument("--rabbit-url", required=True)
    parser.add_argument("--mongo-url", required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--email", required=True, help="file with the raw email to send")
    parser.add_argument("--recipient", default="helpdesk@example.com")
    parser.add_argument(
        "--prefetch", type=int, default=InfraSettings.model_fields["prefetch"].default
    )
    args = parser.parse_args(argv)
    asyncio.run(run(args, Path(args.email).read_bytes()))


if __name__ == "__main__":
    main()
