"""Test support: pytest fixtures over the server harness (`helpdesk_harness`), the event bus
helper, waiting, handler tracking. The servers themselves live in tools/harness."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
