"""Only updates handled to the end are confirmed to Telegram."""

from __future__ import annotations

from helpdesk_gateway.bot.window import UpdateWindow


def test_nothing_seen_confirms_nothing() -> None:
    assert UpdateWindow().offset() is None


def test_an_unfinished_update_holds_back_the_offset() -> None:
    window = UpdateWindow()
    assert window.take(10) and window.take(11) and window.take(12)
    window.finish(11)
    window.finish(12)
    assert window.offset() == 10  # 10 is still being handled: a crash now must redeliver it
    window.finish(10)
    assert window.offset() == 13
    assert not window.busy


def test_an_update_handed_out_again_is_not_taken_twice() -> None:
    window = UpdateWindow()
    window.take(10)
    window.take(11)
    window.finish(11)
    assert window.offset() == 10
    # getUpdates(offset=10) returns 10 and 11 again: neither starts a second time.
    assert not window.take(10)
    assert not window.take(11)
    assert window.take(12)


def test_confirmed_updates_are_forgotten() -> None:
    window = UpdateWindow()
    window.take(10)
    window.finish(10)
    assert window.offset() == 11
    # An id below the offset can only be a re-sent old update: the update log judges it.
    assert window.take(10)
