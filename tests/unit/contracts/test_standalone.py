"""`helpdesk_contracts` is installable alone by integrators: pydantic is all it needs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"

# Imports every module of the package in a fresh interpreter, then lists which of the runtime's
# libraries got loaded along the way.
PROBE = """
import importlib, pkgutil, sys
import helpdesk_contracts
for module in pkgutil.walk_packages(helpdesk_contracts.__path__, "helpdesk_contracts."):
    importlib.import_module(module.name)
heavy = ("faststream", "aio_pika", "aiormq", "pymongo", "aiohttp", "prometheus_client",
         "pydantic_settings", "helpdesk_runtime")
print(",".join(sorted({name.split(".")[0] for name in sys.modules} & set(heavy))))
"""


def test_contracts_declare_pydantic_as_their_only_dependency() -> None:
    project = tomllib.loads((CONTRACTS / "pyproject.toml").read_text())["project"]
    names = [
        dep.split(">")[0].split("=")[0].split("[")[0].strip() for dep in project["dependencies"]
    ]
    assert names == ["pydantic"]


def test_importing_every_contracts_module_loads_no_runtime_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", f"contracts pull in {result.stdout.strip()}"
