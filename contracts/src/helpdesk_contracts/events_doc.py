"""`docs/events.md`: the event catalogue for integrators, generated from the contracts.

Written by `python -m helpdesk_runtime.docs` next to the JSON Schemas and the AsyncAPI file;
the drift test fails when the committed file differs from what the code generates.
"""

from __future__ import annotations

import json
from typing import Any

from helpdesk_contracts import topology
from helpdesk_contracts.base import ADMIN_EXCHANGE, COMMANDS_EXCHANGE, EVENTS_EXCHANGE, Message
from helpdesk_contracts.catalog import MESSAGES

Schema = dict[str, Any]

EXAMPLE_CONSUMER = """\
import asyncio
import json

import aio_pika

RABBIT_URL = "amqp://integrator:secret@rabbitmq.example.com/helpdesk"


async def main() -> None:
    connection = await aio_pika.connect_robust(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=20)
        # Your own durable queue: it keeps events while your consumer is down.
        queue = await channel.declare_queue(
            "crm.helpdesk-tickets", durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind("helpdesk.events", routing_key="ticket.*.v1")
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process():  # ack after the block, reject if it raises
                    event = json.loads(message.body)
                    # At-least-once delivery: skip a message_id you have already handled.
                    print(message.routing_key, event["message_id"], event.get("reference"))


asyncio.run(main())
"""

_INTRO = f"""\
# Helpdesk events and commands

> Generated from `contracts/` by `python -m helpdesk_runtime.docs`; do not edit by hand.
> JSON Schemas: [`schemas/`](schemas/). AsyncAPI 3.0: [`asyncapi.json`](asyncapi.json).

The helpdesk services talk over RabbitMQ. Other systems (a CRM, a dashboard, a data warehouse)
follow what happens by **binding their own queue** to the `{EVENTS_EXCHANGE}` exchange; they
never consume the services' queues and never publish to the helpdesk's exchanges.

## Exchanges

| Exchange | Type | Carries | Who may publish |
|---|---|---|---|
| `{EVENTS_EXCHANGE}` | topic, durable | events (facts, past tense) | the services |
| `{COMMANDS_EXCHANGE}` | topic, durable | commands between services (internal) | the services |
| `{ADMIN_EXCHANGE}` | topic, durable | operators' admin commands | operators (`helpdesk-admin`) |

The routing key of every message is its name and version, `<owner>.<snake_name>.v<N>`
(`ticket.status_changed.v1`), so a binding can select one message (`ticket.rated.v1`), one owner
(`ticket.#`) or one version (`*.*.v1`). Events nobody is bound to are kept in
`{topology.UNROUTED_QUEUE_NAME}` (the alternate exchange), not lost.

## Delivery

- **Body**: one JSON object, UTF-8, `content_type: application/json`; the fields below.
- **AMQP properties**: `message_id` = the body's `message_id`, `correlation_id` = the body's
  `correlation_id` (else its `message_id`), `type` = the routing key, persistent delivery.
- **Every field is present** in every body the services publish: optional ones as `null` or
  their default. "Required" below is what a publisher must set.
- **At least once**: a message may arrive twice; de-duplicate on `message_id`.
- **No global order**: order by `occurred_at` when it matters; a status may arrive before the
  `ticket.emailed.v1` of the same ticket.
- **Times** are ISO 8601 with an offset (UTC). **Ids** are UUIDs; `ticket_id` is 24 hex
  characters; `reference` (`TG-7F3A2C`) is what employees and InfraManager see.

## Versioning promise

- Within a version (`.v1`) fields are only **added**, and only as optional fields. Nothing is
  renamed, removed, retyped or made required. **Ignore fields you do not know.**
- Enumerations may gain values within a version (a new ticket status, say): treat an unknown
  value as "other", do not fail.
- A breaking change is a **new version** with its own routing key (`ticket.status_changed.v2`),
  published **side by side** with the old one until consumers have moved; the end of the old
  version is announced in the release notes beforehand.
- Messages marked *internal* below are not part of this promise.

## Subscribing

Ask the operators for a RabbitMQ account that may read `{EVENTS_EXCHANGE}` and manage queues with
your prefix (see `docs/operations.md`, *RabbitMQ permissions*). Then, for example with aio-pika:

```python
{EXAMPLE_CONSUMER}```
"""


def _code(value: Any) -> str:
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _ref_name(schema: Schema) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def _constraints(schema: Schema) -> list[str]:
    found = []
    if "maxLength" in schema:
        found.append(f"≤ {schema['maxLength']} chars")
    if schema.get("minLength", 0) > 1:
        found.append(f"≥ {schema['minLength']} chars")
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤")):
        if key in schema:
            found.append(f"{sign} {schema[key]}")
    if "exclusiveMaximum" in schema:
        found.append(f"< {schema['exclusiveMaximum']}")
    if "maxItems" in schema:
        found.append(f"≤ {schema['maxItems']} items")
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and len(pattern) <= 40:
        found.append(f"pattern `{pattern}`")
    return found


def _type(schema: Schema, defs: dict[str, Schema]) -> str:
    if "$ref" in schema:
        name = _ref_name(schema)
        target = defs[name]
        if "enum" in target:
            return "string: " + " | ".join(_code(v) for v in target["enum"])
        return f"object ({name})"
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        text = " or ".join(_type(s, defs) for s in options)
        return text + " or null" if len(options) < len(schema["anyOf"]) else text
    if "enum" in schema:
        return "string: " + " | ".join(_code(v) for v in schema["enum"])
    if "const" in schema:
        return _code(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        text = f"array of {_type(schema.get('items', {}), defs)}"
    elif kind == "string" and "format" in schema:
        text = f"string ({schema['format']})"
    else:
        text = str(kind)
    limits = _constraints(schema)
    return f"{text}, {', '.join(limits)}" if limits else text


def _field_table(schema: Schema, defs: dict[str, Schema], required: set[str]) -> list[str]:
    lines = [
        "| Field | Type | Required | Description | Example |",
        "|---|---|---|---|---|",
    ]
    for name, prop in schema.get("properties", {}).items():
        examples = prop.get("examples")
        example = _code(examples[0]) if examples else ""
        lines.append(
            f"| `{name}` | {_cell(_type(prop, defs))} | {'yes' if name in required else 'no'} "
            f"| {_cell(prop.get('description', ''))} | {_cell(example)} |"
        )
    return lines


def _objects_used(schema: Schema, defs: dict[str, Schema], seen: list[str]) -> list[str]:
    """Names of the object definitions a schema refers to, depth first, each once."""
    for value in schema.values() if isinstance(schema, dict) else ():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                continue
            if "$ref" in item:
                name = _ref_name(item)
                if name not in seen and "enum" not in defs[name]:
                    seen.append(name)
                    _objects_used(defs[name], defs, seen)
            else:
                _objects_used(item, defs, seen)
    return seen


def _example(schema: Schema, defs: dict[str, Schema]) -> Any:
    """A plausible payload from the fields' examples (nested objects built the same way)."""
    if "$ref" in schema:
        return _example(defs[_ref_name(schema)], defs)
    if schema.get("type") == "object" and "properties" in schema:
        payload = {}
        for name, prop in schema["properties"].items():
            value = _example_value(prop, defs)
            if value is not _MISSING:
                payload[name] = value
        return payload
    return _MISSING


_MISSING = object()


def _example_value(prop: Schema, defs: dict[str, Schema]) -> Any:
    if prop.get("examples"):
        return prop["examples"][0]
    for option in [prop, *prop.get("anyOf", [])]:
        if "$ref" in option:
            return _example(option, defs)
        if option.get("type") == "array" and "$ref" in option.get("items", {}):
            return [_example(option["items"], defs)]
    if "default" in prop:
        return prop["default"]
    return _MISSING


def _anchor(message: type[Message]) -> str:
    return message.routing_key.replace(".", "-")


def _consumers(message: type[Message]) -> str:
    names = [c for c, messages in topology.SUBSCRIPTIONS.items() if message in messages]
    return ", ".join(names) if names else "—"


def _summary(message: type[Message]) -> str:
    return (message.__doc__ or "").strip().splitlines()[0]


def _index(messages: list[type[Message]]) -> list[str]:
    lines = [
        "| Routing key | Exchange | Kind | Consumed by (helpdesk) | What it says |",
        "|---|---|---|---|---|",
    ]
    for message in messages:
        key = (
            f"[`{message.routing_key}`](#{_anchor(message)})"
            if message.public
            else f"`{message.routing_key}` (internal)"
        )
        lines.append(
            f"| {key} | `{message.exchange}` | {message.kind} | {_consumers(message)} "
            f"| {_cell(_summary(message))} |"
        )
    return lines


def _section(message: type[Message]) -> list[str]:
    schema = message.model_json_schema(mode="serialization")
    defs: dict[str, Schema] = schema.get("$defs", {})
    # "Required" is the publisher's view (validation): a field without a default must be given.
    inputs = message.model_json_schema(mode="validation")
    input_defs: dict[str, Schema] = inputs.get("$defs", {})
    doc = " ".join((message.__doc__ or "").split())
    lines = [
        f'<a id="{_anchor(message)}"></a>',
        f"### `{message.routing_key}` — {message.__name__}",
        "",
        doc,
        "",
        f"Exchange `{message.exchange}` · {message.kind} · consumed in the helpdesk by "
        f"{_consumers(message)}",
        "",
        *_field_table(schema, defs, set(inputs.get("required", []))),
        "",
    ]
    for name in _objects_used(schema, defs, []):
        description = " ".join(defs[name].get("description", "").split())
        lines += [f"**{name}**" + (f": {description}" if description else ""), ""]
        required = set(input_defs.get(name, defs[name]).get("required", []))
        lines += [*_field_table(defs[name], defs, required), ""]
    example = json.dumps(_example(schema, defs), ensure_ascii=False, indent=2)
    lines += ["Example body:", "", "```json", example, "```", ""]
    return lines


def render() -> str:
    """The whole of docs/events.md."""
    events = [m for m in MESSAGES if m.exchange == EVENTS_EXCHANGE]
    commands = [m for m in MESSAGES if m.exchange == COMMANDS_EXCHANGE]
    admin = [m for m in MESSAGES if m.exchange == ADMIN_EXCHANGE]
    lines = [_INTRO]
    lines += ["## Catalogue", "", "### Events", "", *_index(events), ""]
    lines += ["### Commands between the services (internal)", "", *_index(commands), ""]
    lines += [
        "### Admin commands",
        "",
        "Published by operators with `helpdesk-admin`; each is answered by one "
        "[`admin.command_completed.v1`](#admin-command_completed-v1) whose `correlation_id` is "
        "the command's `message_id`.",
        "",
        *_index(admin),
        "",
    ]
    for title, group in (
        ("Events", events),
        ("Commands between the services", commands),
        ("Admin commands", admin),
    ):
        public = [m for m in group if m.public]
        if public:
            lines += [f"## {title}", ""]
            for message in public:
                lines += _section(message)
    return "\n".join(lines).rstrip("\n") + "\n"
