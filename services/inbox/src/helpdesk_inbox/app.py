"""The inbox service as a FastStream app: `faststream run helpdesk_inbox.app:create_app --factory`."""

from __future__ import annotations

from faststream import FastStream

from helpdesk_contracts.runtime.service import create_runtime, create_service_app, run
from helpdesk_inbox.settings import InboxSettings

SERVICE = "inbox"


def create_app(settings: InboxSettings | None = None) -> FastStream:
    """Build the app; settings come from the environment unless given (tests pass them)."""
    settings = settings or InboxSettings()
    runtime = create_runtime(SERVICE, settings.infra)
    return create_service_app(runtime)


def main() -> None:
    run(create_app())
