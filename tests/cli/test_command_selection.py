"""A run imports only the command its command line names; help and completion list them all."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from dtrctl.cli.app import COMMANDS, app

COMMAND_MODULES = {f"dtrctl.cli.{spec.module}" for spec in COMMANDS.values()}


def modules_loaded_by(*arguments: str) -> set[str]:
    """The command modules a fresh interpreter imports for `dtrctl ARGUMENTS`."""
    program = (
        "import sys\n"
        "from dtrctl.main import main\n"
        f"sys.argv = ['dtrctl', *{list(arguments)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m in {sorted(COMMAND_MODULES)!r}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    return set(eval(run.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["push-check", "--help"], {"dtrctl.cli.push_check"}),
        (["-v", "--url", "https://dtr.example.com", "repo", "list", "-h"], {"dtrctl.cli.repo"}),
        # An option's value that names a command: Click runs the right one, nothing else loads.
        (["--profile", "repo", "completion", "bash"], {"dtrctl.cli.completion"}),
    ],
)
def test_only_the_named_command_is_imported(arguments: list[str], expected: set[str]) -> None:
    assert modules_loaded_by(*arguments) == expected


def test_the_overview_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    section = result.stdout.split("Commands:")[1].split("Examples:")[0]
    listed = {line.split()[0] for line in section.splitlines() if line.strip()}
    assert listed == set(COMMANDS)


def test_a_typo_is_answered_with_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["pusch-check", "engineering/api:1.0"])
    assert result.exit_code == 2
    assert "push-check" in result.stderr


def test_every_command_loads() -> None:
    group = get_command(app)
    context = group.make_context("dtrctl", ["repo"], resilient_parsing=True)
    for name in COMMANDS:
        assert group.get_command(context, name).name == name  # type: ignore[attr-defined]


def test_a_group_of_one_command_stays_a_group() -> None:
    # `dtrctl ca fetch`: "fetch" is the subcommand, never the URL argument of a collapsed group.
    result = CliRunner().invoke(app, ["ca", "--help"])
    assert result.exit_code == 0
    assert "fetch" in result.stdout.split("Commands:")[1]
