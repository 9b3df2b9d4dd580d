"""The optimistic-update loop: read again after a lost race, give up as a conflict."""

from __future__ import annotations

import pytest
from helpdesk_runtime.optimistic import CHANGED, Changed, ConflictError, optimistic_update


async def test_the_first_step_that_wins_gives_the_result() -> None:
    outcomes: list[str | Changed] = [CHANGED, CHANGED, "applied"]
    calls = 0

    async def step() -> str | Changed:
        nonlocal calls
        calls += 1
        return outcomes.pop(0)

    assert await optimistic_update(step, what="ticket t1") == "applied"
    assert calls == 3


async def test_none_is_a_result_not_a_conflict() -> None:
    calls = 0

    async def step() -> Changed | None:
        nonlocal calls
        calls += 1
        return None

    await optimistic_update(step, what="code")
    assert calls == 1


async def test_a_document_that_keeps_changing_is_a_conflict() -> None:
    calls = 0

    async def step() -> str | Changed:
        nonlocal calls
        calls += 1
        return CHANGED

    with pytest.raises(ConflictError, match="ticket t1 kept changing"):
        await optimistic_update(step, what="ticket t1", tries=4)
    assert calls == 4
