"""Service-specific environment for starting a service process in tests.

Each service's owner keeps its entry here in step with the settings the service requires.
"""

from __future__ import annotations

from pathlib import Path


def extra_env(name: str, workdir: Path) -> dict[str, str]:
    """Settings beyond HELPDESK_* that service `name` needs to start in a test."""
    del workdir
    return {}
