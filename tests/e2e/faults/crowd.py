"""A crowd of scripted employees filing tickets at once, and the gateway's health as they see it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from helpdesk_harness.employees.chats import ChatWatcher, WideClient
from helpdesk_harness.employees.mail import SpoolIndex
from helpdesk_harness.employees.people import BotTexts, Employee, Filing
from helpdesk_harness.employees.photos import small_photo

from tests.e2e.faults.stack import FaultStack, Person

SETTLE_SECONDS = 3.0


class GatewayWatch:
    """Whether the gateway is up, as the fault script knows it (it does the killing)."""

    def __init__(self) -> None:
        self._up = asyncio.Event()
        self._up.set()
        self._since = time.monotonic() - SETTLE_SECONDS

    def down(self) -> None:
        self._up.clear()

    def up(self) -> None:
        self._since = time.monotonic()
        self._up.set()

    async def settled(self) -> None:
        """Until the gateway has been up for a few seconds (enough to take queued updates)."""
        while True:
            await self._up.wait()
            left = self._since + SETTLE_SECONDS - time.monotonic()
            if left <= 0 and self._up.is_set():
                return
            await asyncio.sleep(max(left, 0.1))


@dataclass
class Crowd:
    stack: FaultStack
    tg: WideClient
    watcher: ChatWatcher
    employees: list[Employee]
    spool: SpoolIndex
    gateway: GatewayWatch
    texts: BotTexts

    async def sign_in(self) -> None:
        await asyncio.gather(*(e.sign_in(self._code) for e in self.employees))

    async def _code(self, email: str) -> str:
        return await self.spool.code_for(email)

    async def file_tickets(self, count: int, *, tag: str) -> list[Filing]:
        """`count` tickets, spread over the employees (each files its share one after another)."""
        shares = [range(i, count, len(self.employees)) for i in range(len(self.employees))]

        async def one(employee: Employee, numbers: Sequence[int]) -> list[Filing]:
            return [
                await employee.file_ticket(f"{tag} ticket {n}: the network is down in my room")
                for n in numbers
            ]

        results = await asyncio.gather(
            *(one(e, share) for e, share in zip(self.employees, shares, strict=True) if share)
        )
        return [filing for filings in results for filing in filings]


@asynccontextmanager
async def crowd(stack: FaultStack, people: Sequence[Person] | None = None) -> AsyncIterator[Crowd]:
    """Clients for the fake Bot API and one employee per person (opened, ready to act)."""
    sandbox = stack.sandbox
    assert sandbox.telegram is not None and sandbox.smtp is not None
    texts = BotTexts("en")
    gateway = GatewayWatch()
    spool = SpoolIndex(sandbox.smtp.spool_dir)
    async with WideClient(sandbox.telegram.base_url) as tg, ChatWatcher(tg.base_url) as watcher:
        employees = [
            Employee(
                user=person.user,
                email=person.employee.mail,
                tg=tg,
                watcher=watcher,
                texts=texts,
                settled=gateway.settled,
                photo=small_photo(index),
            )
            for index, person in enumerate(people if people is not None else stack.people)
        ]
        for employee in employees:
            await employee.open()
        yield Crowd(stack, tg, watcher, employees, spool, gateway, texts)


async def _sign_in_everyone(stack: FaultStack) -> None:
    async with crowd(stack) as everyone:
        await everyone.sign_in()


@contextmanager
def running_stack(stack: FaultStack) -> Iterator[FaultStack]:
    """Start the stack and sign everyone in; stop it all at the end."""
    stack.start()
    try:
        # Signed in once, on a loop of its own (the tests' loops are per test).
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _sign_in_everyone(stack)).result(timeout=180)
        yield stack
    finally:
        stack.stop()
