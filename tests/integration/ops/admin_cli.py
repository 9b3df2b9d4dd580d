"""Run `helpdesk-admin` the way an operator does: a separate process, configured by env."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from tests.support import REPO_ROOT


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    stdout: str
    stderr: str


async def run_admin(rabbit_url: str, *args: str, env: dict[str, str] | None = None) -> Run:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    full_env["HELPDESK_RABBIT_URL"] = rabbit_url
    full_env.update(env or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helpdesk_admin",
        *args,
        cwd=REPO_ROOT,
        env=full_env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())
