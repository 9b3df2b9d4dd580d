"""`helpdesk sandbox` as a person runs it: a banner, a working web chat, and Ctrl-C leaves nothing.

The command is run as its own process; the test reads its banner, talks to the bot through the
web chat page's API (the browser's path), then sends SIGINT as a terminal's Ctrl-C does and checks
that every process the command started — services, stand-ins, their children — is gone, not
even a zombie left (the command adopts and reaps orphans).
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpdesk_gateway.i18n import I18n
from helpdesk_sandbox.demo import person
from helpdesk_sandbox.procinfo import ProcessInfo, descendants, still_alive

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

START_TIMEOUT = 120.0
EMPLOYEE = person("ivan.petrov")
WELCOME = I18n.load().texts("ru")("sign-in-welcome")


async def read_until(stream: asyncio.StreamReader, needle: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError("the command ended early:\n" + "".join(seen))
        seen.append(line)
        if needle in line:
            return


async def bot_says(http: aiohttp.ClientSession, url: str, text: str) -> dict[str, Any]:
    """Poll the web chat like the page does until the bot's message `text` shows."""
    version = -1
    async with asyncio.timeout(30):
        while True:
            async with http.get(f"{url}api/chat/{EMPLOYEE.telegram.id}?after={version}") as got:
                chat: dict[str, Any] = await got.json()
            if any(m["from_bot"] and m["text"] == text for m in chat["messages"]):
                return chat
            version = chat["version"]


async def test_runs_until_ctrl_c_and_leaves_no_process(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "helpdesk"
    proc = await asyncio.create_subprocess_exec(
        str(command),
        "sandbox",
        "--port", "0",
        "--workdir", str(tmp_path / "run"),
        "--pace", "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    output: list[str] = []
    tree: list[ProcessInfo] = []
    try:
        await asyncio.wait_for(read_until(proc.stdout, "Press Ctrl-C", output), START_TIMEOUT)
        banner = "".join(output)
        tree = descendants(proc.pid)
        assert {"slapd", "dovecot"} <= {p.command for p in tree}
        for someone in ("maria.ivanova@example.com", EMPLOYEE.email, "john.smith@example.com"):
            assert someone in banner
        match = re.search(r"Web chat:\s+(http://127\.0\.0\.1:\d+/)", banner)
        assert match is not None, banner
        url = match.group(1)

        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:
                assert page.status == 200
                assert "Helpdesk sandbox" in await page.text()
            text_url = f"{url}api/chat/{EMPLOYEE.telegram.id}/text"
            async with http.post(text_url, json={"text": "/start"}) as sent:
                assert sent.status == 200
            chat = await bot_says(http, url, WELCOME)
        first = chat["messages"][0]
        assert (first["from_bot"], first["text"]) == (False, "/start")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
        rest, _ = await asyncio.wait_for(proc.communicate(), 60)
        output.append(rest.decode())
    text = "".join(output)
    assert proc.returncode == 0, text
    assert "Stopped. Nothing is left running." in text
    assert still_alive(tree) == [], text


async def test_a_taken_port_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = Path(sys.executable).parent / "helpdesk"
        proc = await asyncio.create_subprocess_exec(
            str(command),
            "sandbox",
            "--port", str(port),
            "--workdir", str(tmp_path / "run"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert out == b""
    (line,) = err.decode().splitlines()
    assert f"Port {port} is in use" in line
    assert "--port" in line
    assert not (tmp_path / "run").exists()  # nothing started, not even its log directory


async def run_kept(workdir: Path, act: Callable[[str], Awaitable[None]]) -> str:
    """One `helpdesk sandbox --keep` run: wait for the banner, act on the web chat, Ctrl-C."""
    command = Path(sys.executable).parent / "helpdesk"
    proc = await asyncio.create_subprocess_exec(
        str(command), "sandbox", "--keep", "--port", "0", "--workdir", str(workdir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    output: list[str] = []
    try:
        await asyncio.wait_for(read_until(proc.stdout, "Press Ctrl-C", output), START_TIMEOUT)
        match = re.search(r"Web chat:\s+(http://127\.0\.0\.1:\d+/)", "".join(output))
        assert match is not None, output
        await act(match.group(1))
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), 60)
        output.append(rest.decode())
    assert proc.returncode == 0, "".join(output)
    return "".join(output)


async def test_keep_keeps_a_sign_in_across_starts_and_says_so(tmp_path: Path) -> None:
    workdir = tmp_path / "kept"
    texts = I18n.load().texts("ru")

    async def sign_in(url: str) -> None:
        async with aiohttp.ClientSession() as http:
            text_url = f"{url}api/chat/{EMPLOYEE.telegram.id}/text"
            await http.post(text_url, json={"text": "/start"})
            await bot_says(http, url, WELCOME)
            await http.post(text_url, json={"text": EMPLOYEE.email})
            async with asyncio.timeout(30):
                code = None
                while code is None:
                    async with http.get(f"{url}api/mailbox/{EMPLOYEE.telegram.id}") as got:
                        mails = (await got.json())["mails"]
                    code = mails[0]["code"] if mails else None
                    await asyncio.sleep(0.2)
            await http.post(text_url, json={"text": code})
            await bot_says(
                http, url, texts("sign-in-done", name=EMPLOYEE.name, email=EMPLOYEE.email)
            )

    async def still_signed_in(url: str) -> None:
        async with aiohttp.ClientSession() as http:
            text_url = f"{url}api/chat/{EMPLOYEE.telegram.id}/text"
            await http.post(text_url, json={"text": "/start"})
            await bot_says(
                http, url, texts("sign-in-already", name=EMPLOYEE.name, email=EMPLOYEE.email)
            )

    first = await run_kept(workdir, sign_in)
    assert "Data:           fresh, kept in" in first
    second = await run_kept(workdir, still_signed_in)
    assert "Data:           kept from the last start" in second
