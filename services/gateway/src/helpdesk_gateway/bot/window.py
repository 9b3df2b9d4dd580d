"""Which Telegram updates may be confirmed: every id below the oldest one not yet handled. Pure.

getUpdates(offset=N) confirms every update with a lower id, and Telegram hands unconfirmed
updates out again. Confirming only what was handled to the end means an update that a crash
interrupted comes back to the next process instead of being lost.
"""

from __future__ import annotations


class UpdateWindow:
    def __init__(self) -> None:
        self._in_flight: set[int] = set()
        self._finished: set[int] = set()
        """Handled, but not confirmed yet (an older update is still in flight)."""
        self._next: int | None = None
        """One past the highest id taken."""

    def take(self, update_id: int) -> bool:
        """Start on this update; False if it is being handled or was handled already."""
        if update_id in self._in_flight or update_id in self._finished:
            return False
        self._in_flight.add(update_id)
        self._next = update_id + 1 if self._next is None else max(self._next, update_id + 1)
        return True

    def finish(self, update_id: int) -> None:
        """The update was handled to the end (successfully or with an answered error)."""
        if update_id in self._in_flight:
            self._in_flight.discard(update_id)
            self._finished.add(update_id)

    def offset(self) -> int | None:
        """The getUpdates offset: confirms exactly the updates handled to the end."""
        if self._next is None:
            return None
        offset = min(self._in_flight) if self._in_flight else self._next
        self._finished = {i for i in self._finished if i >= offset}
        return offset

    @property
    def busy(self) -> bool:
        return bool(self._in_flight)
