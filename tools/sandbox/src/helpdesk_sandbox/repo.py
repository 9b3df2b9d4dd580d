"""Find the checkout this package runs from and make `tests.support` importable.

The sandbox reuses the test harness, which lives in the repository (not in any installed
package), so it only works from a checkout: the workspace installs this package in editable
mode, and the root is found by walking up to the directory with `uv.lock` and `tests/support`.
`HELPDESK_REPO_ROOT` overrides the search (e.g. for a wheel installed elsewhere).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


class RepoNotFoundError(RuntimeError):
    """Not run from a checkout of the helpdesk repository."""


def _is_root(path: Path) -> bool:
    return (path / "uv.lock").is_file() and (path / "tests" / "support").is_dir()


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` (default: this file, then the cwd)."""
    if override := os.environ.get("HELPDESK_REPO_ROOT"):
        root = Path(override).resolve()
        if not _is_root(root):
            raise RepoNotFoundError(f"HELPDESK_REPO_ROOT={override} has no uv.lock + tests/support")
        return root
    starts = [start] if start is not None else [Path(__file__), Path.cwd()]
    for origin in starts:
        for candidate in [origin.resolve(), *origin.resolve().parents]:
            if _is_root(candidate):
                return candidate
    raise RepoNotFoundError(
        "the sandbox runs from a checkout of the helpdesk repository "
        "(a directory with uv.lock and tests/support); cd into it or set HELPDESK_REPO_ROOT"
    )


def ensure_repo_on_path() -> Path:
    """Put the repository root first on sys.path (so `import tests.support` works); return it."""
    root = find_repo_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root
