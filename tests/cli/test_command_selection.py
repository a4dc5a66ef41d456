"""A run builds only the commands its command line names; help and completion get them all."""

from __future__ import annotations

import pytest
from typer.main import get_command

from dtrctl.cli.app import COMMANDS, build_app, commands_to_build
from dtrctl.cli.completion import COMPLETE_VARIABLE

ALL = set(COMMANDS)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["push-check", "engineering/api:1.0"], {"push-check"}),
        (["-v", "--url", "https://dtr.example.com", "repo", "list"], {"repo"}),
        # An option's value that names a command: both are built, Click picks the right one.
        (["--profile", "repo", "push-check", "engineering/api:1.0"], {"repo", "push-check"}),
        ([], ALL),
        (["--version"], ALL),
        (["pusch-check", "engineering/api:1.0"], ALL),
        (["push-check", "--help"], ALL),
        (["--profile", "repo", "-h"], ALL),
    ],
)
def test_the_commands_built_are_those_named(arguments: list[str], expected: set[str]) -> None:
    assert set(commands_to_build(arguments)) == expected


def test_shell_completion_gets_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(COMPLETE_VARIABLE, "complete_bash")
    assert set(commands_to_build(["push-check"])) == ALL


def test_the_whole_app_has_every_command() -> None:
    group = get_command(build_app())
    assert set(group.commands) == ALL  # type: ignore[attr-defined]


def test_a_partial_app_has_exactly_the_named_commands() -> None:
    group = get_command(build_app({"push-check", "repo"}))
    assert set(group.commands) == {"repo", "push-check"}  # type: ignore[attr-defined]
