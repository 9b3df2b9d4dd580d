"""A test-only service built exactly like the real ones, whose handler is slow on purpose.

`python -m tests.integration.ops.slow_service` consumes the janitor's RunJanitor queue with the
shared runtime (create_runtime + create_service_app + run, as every service does). The handler
writes `<message_id>.started`, sleeps SLOW_HANDLER_SECONDS, then writes `<message_id>.finished`
into SLOW_MARKERS_DIR, so a test can see what was begun and what was completed.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from faststream.rabbit import RabbitRouter
from helpdesk_contracts.admin.v1 import RunJanitor
from helpdesk_runtime.broker import subscriber
from helpdesk_runtime.config import load_settings
from helpdesk_runtime.service import create_runtime, create_service_app, run
from helpdesk_runtime.settings import InfraSettings


def main() -> None:
    markers = Path(os.environ["SLOW_MARKERS_DIR"])
    seconds = float(os.environ["SLOW_HANDLER_SECONDS"])
    runtime = create_runtime("slowtest", load_settings(InfraSettings))
    router = RabbitRouter()

    @subscriber(router, "janitor", RunJanitor)
    async def slow(command: RunJanitor) -> None:
        (markers / f"{command.message_id}.started").touch()
        runtime.log.info("handler started")
        await asyncio.sleep(seconds)
        (markers / f"{command.message_id}.finished").touch()
        runtime.log.info("handler finished")

    run(create_service_app(runtime, routers=[router]))


if __name__ == "__main__":
    main()
