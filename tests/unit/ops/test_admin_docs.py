"""What docs/operations.md shows an operator is what the CLI does."""

from __future__ import annotations

from helpdesk_admin.cli import OUTCOME_EXIT, ExitCode, app
from helpdesk_contracts.admin.v1 import Outcome
from typer.testing import CliRunner

from tests.support import REPO_ROOT

OPERATIONS = REPO_ROOT / "docs" / "operations.md"


def test_the_documented_permission_commands_are_what_the_cli_prints() -> None:
    args = ["permissions", "--vhost", "helpdesk", "--integrator-user", "crm=crm."]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"$ helpdesk-admin {' '.join(args)}\n{result.stdout}```" in OPERATIONS.read_text()


def test_every_outcome_has_the_documented_exit_status() -> None:
    assert {outcome: int(code) for outcome, code in OUTCOME_EXIT.items()} == {
        Outcome.DONE: 0,
        Outcome.NOT_FOUND: 3,
        Outcome.REJECTED: 4,
        Outcome.FAILED: 5,
    }
    assert (ExitCode.ERROR, ExitCode.USAGE, ExitCode.TIMEOUT) == (1, 2, 6)
    text = OPERATIONS.read_text()
    assert (
        "**0** done, **3** not found, **4** rejected, **5** failed, **6** no answer in time, "
        "**1** broker\nerror, **2** bad input"
    ) in text


def test_a_malformed_integrator_option_is_refused() -> None:
    result = CliRunner().invoke(app, ["permissions", "--integrator-user", "crm"])
    assert result.exit_code == 2
