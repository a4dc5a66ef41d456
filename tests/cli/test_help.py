"""`--help` teaches: every command ends with examples, every option says what it does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer.main

from dtrctl.cli.app import app


def command_paths() -> Iterator[tuple[list[str], Any]]:
    """Every command and group below the root, with its Click command object."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        for name, sub in getattr(command, "commands", {}).items():
            yield [*path, name], sub
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(command_paths())
IDS = [" ".join(path) for path, _ in COMMANDS]


def example_lines(help_text: str) -> list[str]:
    _, found, examples = help_text.partition("Examples:")
    assert found, "no Examples: section"
    return [line.strip() for line in examples.splitlines() if "dtrctl " in line]


def test_dtrctl_alone_prints_the_overview(cli: Any) -> None:
    result = cli()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: dtrctl")
    for command in ("repo", "push-check", "login", "completion"):
        assert f"\n  {command} " in result.stdout
    assert len(example_lines(result.stdout)) >= 2


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_ends_with_two_or_three_examples_printed_as_written(
    cli: Any, path: list[str], command: Any
) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0
    examples = example_lines(result.stdout)
    assert 2 <= len(examples) <= 3, examples
    # An example re-wrapped by the help formatter cannot be copied: each must be one line
    # as written (put `\b` before the block).
    written = {line.strip() for line in f"{command.help}\n{command.epilog or ''}".splitlines()}
    assert [line for line in examples if line not in written] == []


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_and_argument_says_what_it_does(path: list[str], command: Any) -> None:
    undocumented = [
        parameter.name
        for parameter in command.params
        if parameter.name != "help" and not getattr(parameter, "help", None)
    ]
    assert undocumented == []


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_usage_and_options_show_metavars_a_person_reads(
    cli: Any, path: list[str], command: Any
) -> None:
    result = cli(*path, "--help")
    usage = result.stdout.splitlines()[0]
    assert "{" not in usage, usage
    for unreadable in ("<int", "<str>", "<float", "<text>"):
        assert unreadable not in result.stdout, result.stdout


def test_repeatable_and_required_arguments_read_as_click_writes_them(cli: Any) -> None:
    assert cli("push-check", "--help").stdout.startswith(
        "Usage: dtrctl push-check [OPTIONS] REF..."
    )
    assert cli("repo", "show", "--help").stdout.startswith(
        "Usage: dtrctl repo show [OPTIONS] REPOSITORY\n"
    )
    assert "--tag-limit N " in cli("repo", "create", "--help").stdout
