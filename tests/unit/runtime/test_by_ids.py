"""The `_id` filter for a set of ids: equality for one (an index lookup on every server),
`$in` for several, each id once."""

from __future__ import annotations

from helpdesk_runtime.mongo import by_ids


def test_one_id_is_an_equality() -> None:
    assert by_ids([7]) == {"_id": 7}
    assert by_ids([7, 7]) == {"_id": 7}


def test_several_ids_keep_their_order_once_each() -> None:
    assert by_ids(iter(["b", "a", "b"])) == {"_id": {"$in": ["b", "a"]}}


def test_no_ids_match_nothing() -> None:
    assert by_ids([]) == {"_id": {"$in": []}}
