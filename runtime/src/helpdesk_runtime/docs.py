"""Generate the public message documentation from the code.

`python -m helpdesk_runtime.docs [--check] [DOCS_DIR]` writes `schemas/<routing_key>.json` for
every public message, `asyncapi.json` (AsyncAPI 3.0) describing exchanges, routing keys and
payloads, and `events.md`, the catalogue for integrators. With `--check` it writes nothing and
exits 1 if the committed files differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from helpdesk_contracts import events_doc, topology
from helpdesk_contracts.base import Message
from helpdesk_contracts.catalog import MESSAGES

from helpdesk_runtime.broker import rabbit_exchange

SCHEMA_DIR = "schemas"
ASYNCAPI_FILE = "asyncapi.json"
EVENTS_FILE = "events.md"


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def message_schema(message: type[Message]) -> dict[str, Any]:
    schema = message.model_json_schema(mode="serialization")
    schema["$id"] = f"{message.routing_key}.json"
    schema["x-routing-key"] = message.routing_key
    schema["x-exchange"] = message.exchange
    schema["x-kind"] = message.kind
    return schema


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 built by FastStream from a broker that documents every message."""
    broker = RabbitBroker("amqp://broker.example/", description="The helpdesk message broker")
    for message in MESSAGES:
        publisher = broker.publisher(
            routing_key=message.routing_key,
            exchange=rabbit_exchange(topology.exchange_for(message)),
            schema=message,
            title=message.routing_key,
            description=(message.__doc__ or "").strip(),
        )
        del publisher  # registered on the broker; the object itself is not needed
    spec = AsyncAPI(
        broker,
        title="Helpdesk bot events and commands",
        version="1.0.0",
        description=(
            "Messages exchanged by the helpdesk services over RabbitMQ. Third parties bind "
            "their own queue to `helpdesk.events`; admin commands go to `helpdesk.admin`."
        ),
        schema_version="3.0.0",
    )
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    return document


def render(docs_dir: Path) -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    for message in MESSAGES:
        if message.public:
            files[docs_dir / SCHEMA_DIR / f"{message.routing_key}.json"] = _dump(
                message_schema(message)
            )
    files[docs_dir / ASYNCAPI_FILE] = _dump(asyncapi_document())
    files[docs_dir / EVENTS_FILE] = events_doc.render()
    return files


def drift(docs_dir: Path) -> list[str]:
    """Files that are missing, stale or no longer generated."""
    wanted = render(docs_dir)
    problems = [
        f"stale or missing: {path}"
        for path, text in wanted.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    schema_dir = docs_dir / SCHEMA_DIR
    if schema_dir.is_dir():
        problems += [
            f"no longer generated: {path}"
            for path in sorted(schema_dir.glob("*.json"))
            if path not in wanted
        ]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("docs_dir", nargs="?", default="docs", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if the docs are stale")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(args.docs_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    schema_dir = args.docs_dir / SCHEMA_DIR
    schema_dir.mkdir(parents=True, exist_ok=True)
    wanted = render(args.docs_dir)
    for stale in schema_dir.glob("*.json"):
        if stale not in wanted:
            stale.unlink()
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} files under {args.docs_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
