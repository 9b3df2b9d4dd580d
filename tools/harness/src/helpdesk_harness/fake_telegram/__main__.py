"""Run the fake Bot API as a process: `python -m helpdesk_harness.fake_telegram --port N`.

Prints one JSON line `{"base_url": ..., "token": ...}` on stdout once it listens, then serves
until SIGTERM/SIGINT. The test-side API is HTTP under `/_test/...` (see control.py);
`FakeTelegramClient(base_url)` drives it from Python.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from helpdesk_harness.fake_telegram.server import (
    DEFAULT_BOT_NAME,
    DEFAULT_BOT_USERNAME,
    new_token,
    serve,
)
from helpdesk_harness.fake_telegram.state import FakeTelegramState


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m helpdesk_harness.fake_telegram")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=None, help="the bot token to accept (default: new)")
    parser.add_argument("--bot-username", default=DEFAULT_BOT_USERNAME)
    parser.add_argument("--bot-name", default=DEFAULT_BOT_NAME)
    parser.add_argument(
        "--first-update-id", type=int, default=1, help="the first update's id (default 1)"
    )
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    token = args.token or new_token()
    state = FakeTelegramState(
        token=token,
        bot_username=args.bot_username,
        bot_first_name=args.bot_name,
        first_update_id=args.first_update_id,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def announce(base_url: str) -> None:
        print(json.dumps({"base_url": base_url, "token": token}), flush=True)

    await serve(state, host=args.host, port=args.port, stop=stop, on_ready=announce)


if __name__ == "__main__":
    asyncio.run(main(parse_args(sys.argv[1:])))
