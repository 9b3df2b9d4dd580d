"""Find the checkout this package runs from (its work directory `.sandbox/` lives there).

The root is found by walking up to the directory with `uv.lock` and `tools/harness`.
`HELPDESK_REPO_ROOT` overrides the search (e.g. for a wheel installed elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path


class RepoNotFoundError(RuntimeError):
    """Not run from a checkout of the helpdesk repository."""


def _is_root(path: Path) -> bool:
    return (path / "uv.lock").is_file() and (path / "tools" / "harness").is_dir()


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` (default: this file, then the cwd)."""
    if override := os.environ.get("HELPDESK_REPO_ROOT"):
        root = Path(override).resolve()
        if not _is_root(root):
            raise RepoNotFoundError(f"HELPDESK_REPO_ROOT={override} has no uv.lock + tools/harness")
        return root
    starts = [start] if start is not None else [Path(__file__), Path.cwd()]
    for origin in starts:
        for candidate in [origin.resolve(), *origin.resolve().parents]:
            if _is_root(candidate):
                return candidate
    raise RepoNotFoundError(
        "the sandbox runs from a checkout of the helpdesk repository "
        "(a directory with uv.lock and tools/harness); cd into it or set HELPDESK_REPO_ROOT"
    )
