"""How many messages a service's consumers took and finished, read off FastStream's own log."""

from __future__ import annotations

import logging


class HandlerTracker(logging.Handler):
    """Attach to `helpdesk.<service>.faststream`: counts "Received" and "Processed" lines."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.received = 0
        self.processed = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message == "Received":
            self.received += 1
        elif message == "Processed":
            self.processed += 1

    @property
    def idle(self) -> bool:
        return self.received == self.processed
