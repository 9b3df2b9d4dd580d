"""No product function is longer than 60 lines (issue #16).

A function that does not fit on a screen hides its story: past this length a use case, a
consumer or a CLI command is split into a function that reads top-down and helpers that each do
one step. The count is a `def`'s whole extent, decorators excluded, docstring and comments
included, because that is what a reader scrolls through.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tests.support import REPO_ROOT

LIMIT = 60
# The product: the services, the runtime they share, the contracts and the tools.
CHECKED = ("services/*/src", "runtime/src", "contracts/src", "tools/*/src")


def _long_functions(path: Path, root: Path = REPO_ROOT, limit: int = LIMIT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        assert node.end_lineno is not None
        length = node.end_lineno - node.lineno + 1
        if length > limit:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.name} ({length} lines)")
    return found


def test_no_product_function_is_longer_than_the_limit() -> None:
    sources = [
        path
        for pattern in CHECKED
        for top in REPO_ROOT.glob(pattern)
        for path in top.rglob("*.py")
        if ".venv" not in path.parts
    ]
    assert len(sources) > 100  # the scan really looked at the code
    problems = [problem for path in sources for problem in _long_functions(path)]
    assert not problems, f"functions over {LIMIT} lines:\n" + "\n".join(problems)


def test_the_check_measures_nested_and_async_functions_and_methods(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(
        textwrap.dedent(
            """\
            @decorator
            def fits():
                a = 1
                b = 2
                return a + b

            async def too_long():
                def inner_too_long():
                    a = 1
                    b = 2
                    c = 3
                    return a + b + c
                return inner_too_long()

            class Holder:
                def method_too_long(self):
                    a = 1
                    b = 2
                    c = 3
                    return a + b + c
            """
        )
    )
    found = [line.split(": ", 1)[1] for line in _long_functions(sample, tmp_path, limit=4)]
    assert sorted(found) == [
        "inner_too_long (5 lines)",
        "method_too_long (5 lines)",
        "too_long (7 lines)",
    ]
