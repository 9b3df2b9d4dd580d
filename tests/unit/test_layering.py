"""Product code, tools and the benchmark never depend on the test suite.

The server harness lives in tools/harness (`helpdesk_harness`); `tests/` only holds tests and
their pytest fixtures. An import of `tests` from anywhere else would make the sandbox or the
benchmark work only next to a checkout's test suite, with pytest installed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support import REPO_ROOT

CHECKED = ("services", "tools", "bench", "runtime", "contracts")
# `python -m tests.x` in an argv is an import of the test suite too.
TEST_MODULE = re.compile(r"tests(\.\w+)+")


def _test_imports(path: Path, root: Path = REPO_ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if TEST_MODULE.fullmatch(node.value) else []
        else:
            continue
        found += [
            f"{path.relative_to(root)}:{node.lineno}: {name}"
            for name in names
            if name == "tests" or name.startswith("tests.")
        ]
    return found


def test_nothing_outside_tests_imports_the_test_suite() -> None:
    sources = [
        path
        for top in CHECKED
        for path in (REPO_ROOT / top).rglob("*.py")
        if ".venv" not in path.parts
    ]
    assert len(sources) > 100  # the scan really looked at the code
    problems = [problem for path in sources for problem in _test_imports(path)]
    assert not problems, "\n".join(problems)


def test_the_check_sees_each_kind_of_test_import(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(
        "import tests.support\n"
        "from tests.e2e.faults import crowd\n"
        "ARGV = ['python', '-m', 'tests.support.smtp_sink']\n"
        "from helpdesk_harness import procs\n"
        "NOTE = 'see tests/support'\n"
    )
    found = [line.rsplit(": ", 1)[1] for line in _test_imports(sample, tmp_path)]
    assert found == ["tests.support", "tests.e2e.faults", "tests.support.smtp_sink"]
