"""The committed JSON Schemas and AsyncAPI document are exactly what the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from helpdesk_contracts.catalog import MESSAGES
from helpdesk_runtime import docs

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_committed_docs_match_the_code() -> None:
    problems = docs.drift(DOCS)
    assert not problems, (
        "generated docs are stale; run `uv run python -m helpdesk_runtime.docs`:\n"
        + "\n".join(problems)
    )


def test_drift_is_detected(tmp_path: Path) -> None:
    assert docs.main([str(tmp_path)]) == 0
    assert docs.drift(tmp_path) == []
    target = tmp_path / "schemas" / "ticket.submitted.v1.json"
    schema = json.loads(target.read_text())
    schema["properties"].pop("description")
    target.write_text(json.dumps(schema))
    assert docs.drift(tmp_path) == [f"stale or missing: {target}"]
    assert docs.main(["--check", str(tmp_path)]) == 1


def test_asyncapi_documents_every_message_with_its_payload() -> None:
    document = docs.asyncapi_document()
    assert document["asyncapi"].startswith("3.")
    for message in MESSAGES:
        assert message.routing_key in document["channels"]
        assert message.__name__ in document["components"]["schemas"]
