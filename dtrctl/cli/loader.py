"""Lazy command loading: a command's module is imported only when that command is looked up.

Click asks a group for a command by name only when the command line names it (or when help or
shell completion lists them all), so a run of `dtrctl push-check` never imports the `repo`
commands. Click's documentation shows the idea ("Lazily Loading Subcommands", a group overriding
`get_command`); here the group's `commands` is a lazy mapping (`LazyCommands`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, NamedTuple

import typer
import typer.main
from typer.core import TyperGroup


class CommandSpec(NamedTuple):
    """Where a command lives: a module of `dtrctl.cli` and the function or Typer group in it."""

    module: str
    attribute: str
    # The line `dtrctl --help` shows, where the docstring's first line is not the one wanted.
    short_help: str | None = None


@cache
def load_command(name: str, spec: CommandSpec) -> Any:
    """The Click command (or group) of `spec`, built once."""
    module = importlib.import_module(f"dtrctl.cli.{spec.module}")
    target = getattr(module, spec.attribute)
    if isinstance(target, typer.Typer):
        # Always a group, even of one command (`ca fetch`): get_command would collapse it.
        group = typer.main.get_group(target)
        group.name = name
        readable_metavars(group)
        return group
    # A plain function: wrap it in a one-command app. Plain help keeps Rich unloaded.
    wrapper = typer.Typer(rich_markup_mode=None, add_completion=False)
    wrapper.command(name, short_help=spec.short_help)(target)
    command = typer.main.get_command(wrapper)
    command.name = name
    readable_metavars(command)
    # A module may adjust its command once built (push-check reports usage errors to CI).
    configure = getattr(module, "configure_command", None)
    if configure is not None:
        configure(command)
    return command


# Click's type names, and what a person reads in their place (`--tag-limit N`, not `<int>`).
_OPTION_METAVARS = {
    "int": "N",
    "integer": "N",
    "int range": "N",
    "integer range": "N",
    "float": "NUMBER",
    "float range": "NUMBER",
    "str": "TEXT",
    "text": "TEXT",
}


def readable_metavars(command: Any) -> None:
    """Usage lines a person reads: `REF...` and `NS/NAME` rather than Typer's `{REF}`, and
    `N` rather than `<int range>`; applied to a command and its subcommands once, when loaded."""
    for param in command.params:
        if param.param_type_name == "argument":
            param.make_metavar = functools.partial(_argument_metavar, param)
        elif param.metavar is None and not param.is_flag and not param.count:
            param.metavar = _OPTION_METAVARS.get(param.type.name)
    for sub in getattr(command, "commands", {}).values():
        readable_metavars(sub)


def _argument_metavar(param: Any, ctx: Any = None, *, usage: bool = False) -> str:
    """As Click writes an argument: NAME, [NAME] when optional, NAME... when repeatable."""
    var = param.metavar or (param.name or "").upper()
    if param.nargs != 1 and not var.endswith("..."):
        var += "..."
    return f"[{var}]" if usage and not param.required and not var.startswith("[") else var


class LazyCommands(Mapping[str, Any]):
    """The commands of a group by name, each loaded when first looked up."""

    def __init__(self, table: Mapping[str, CommandSpec]) -> None:
        self._table = table

    def __getitem__(self, name: str) -> Any:
        return load_command(name, self._table[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


class LazyCommandGroup(TyperGroup):
    """A group whose commands are those of `commands_table`, each imported on first use.

    Click and Typer look commands up only through `commands` (listing for help, completion and
    typo suggestions; getting one by name to run it), so a lazy mapping there is all it takes.
    """

    commands_table: Mapping[str, CommandSpec] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(self.commands_table)  # type: ignore[assignment]
