"""Global options in any position: `dtrctl repo show X -v` as well as `dtrctl -v repo show X`.

Click parses a group's options before the command name and a command's options after it. Like
kubectl and gh, dtrctl accepts both anywhere: before parsing, the command line is rearranged so
that global options found after the command move in front of it, and command options given
before the command name (`dtrctl -o json repo show X`) move to the end of the command's part.
An option the command itself defines (`login --profile`, `login -u`) stays with the command.
Everything after `--` is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

END_OF_OPTIONS = "--"


class OptionNames(NamedTuple):
    """The option names of a command: all of them, those that take a value, and the
    on/off pairs of its boolean flags (`--on/--off`)."""

    names: frozenset[str]
    with_value: frozenset[str]
    opposites: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, params: Iterable[Any]) -> OptionNames:
        names: set[str] = set()
        with_value: set[str] = set()
        opposites = []
        for param in params:
            if getattr(param, "param_type_name", "") != "option":
                continue
            spelled = [*param.opts, *param.secondary_opts]
            names.update(spelled)
            if not (param.is_flag or getattr(param, "count", False)):
                with_value.update(spelled)
            if param.secondary_opts:
                opposites.append((tuple(param.opts), tuple(param.secondary_opts)))
        return cls(frozenset(names), frozenset(with_value), tuple(opposites))

    def contradiction(self, tokens: Sequence[str]) -> tuple[str, str] | None:
        """Both halves of an on/off pair among `tokens` (before `--`), e.g. `--on --off`."""
        given = set(_split_at_end_of_options(tokens)[0])
        for on, off in self.opposites:
            said_on = next((name for name in on if name in given), None)
            said_off = next((name for name in off if name in given), None)
            if said_on and said_off:
                return said_on, said_off
        return None

    def match(self, token: str) -> tuple[bool, bool]:
        """(is one of these options, its value is the next token)."""
        name, has_equals, _ = token.partition("=")
        if not token.startswith("-") or name not in self.names:
            return False, False
        # `--url=X` carries its value; a short option may too (`-uadmin`), but only the
        # spellings dtrctl documents are moved.
        return True, name in self.with_value and not has_equals


# Resolves the path of command names (["repo", "show"]) to the option names of that command;
# None when the first name is not a command.
LeafOptions = Callable[[Sequence[str]], "OptionNames | None"]


def command_path(
    args: Sequence[str],
    global_options: OptionNames,
    commands: Iterable[str],
    is_group: Callable[[Sequence[str]], bool],
) -> list[str]:
    """The command names `args` run (["repo", "set-immutable"]), after rearranging."""
    head = _split_at_end_of_options(args)[0]
    _, _, index = _before_command(head, global_options, set(commands))
    if index >= len(head):
        return []
    path, rest = [head[index]], list(head[index + 1 :])
    while is_group(path):
        position = _first_operand(rest, global_options)
        if position is None:
            break
        path.append(rest.pop(position))
    return path


def rearrange(
    args: Sequence[str],
    global_options: OptionNames,
    commands: Iterable[str],
    leaf_options: LeafOptions,
    is_group: Callable[[Sequence[str]], bool],
) -> list[str]:
    """`args` with global options before the command and command options after its name."""
    head, separator, tail = _split_at_end_of_options(args)
    front, early, index = _before_command(head, global_options, set(commands))
    if index >= len(head):
        return [*args]
    path = [head[index]]
    rest = list(head[index + 1 :])
    # A group's subcommand is its first operand (groups take no options of their own but help).
    while is_group(path):
        position = _first_operand(rest, global_options)
        if position is None:
            break
        path.append(rest.pop(position))
    leaf = leaf_options(path) or OptionNames(frozenset(), frozenset())
    moved = _positions_of_globals(rest, global_options, leaf)
    front += [token for at, token in enumerate(rest) if at in moved]
    kept = [token for at, token in enumerate(rest) if at not in moved]
    return [*front, *path, *kept, *early, *separator, *tail]


def _split_at_end_of_options(args: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    if END_OF_OPTIONS in args:
        at = list(args).index(END_OF_OPTIONS)
        return list(args[:at]), [END_OF_OPTIONS], list(args[at + 1 :])
    return list(args), [], []


def _before_command(
    head: list[str], global_options: OptionNames, commands: set[str]
) -> tuple[list[str], list[str], int]:
    """Global options before the command, other options there, and the command's position."""
    front: list[str] = []
    early: list[str] = []
    index = 0
    while index < len(head):
        token = head[index]
        known, takes_value = global_options.match(token)
        if known:
            front += head[index : index + 1 + takes_value]
            index += 1 + takes_value
        elif token in commands:
            break
        else:
            # A command option (with its value, if any) given before the command name.
            early.append(token)
            index += 1
    return front, early, index


def _first_operand(tokens: list[str], global_options: OptionNames) -> int | None:
    index = 0
    while index < len(tokens):
        known, takes_value = global_options.match(tokens[index])
        if known:
            index += 1 + takes_value
        elif tokens[index].startswith("-"):
            index += 1
        else:
            return index
    return None


def _positions_of_globals(
    tokens: list[str], global_options: OptionNames, leaf: OptionNames
) -> set[int]:
    positions: set[int] = set()
    index = 0
    while index < len(tokens):
        own, own_value = leaf.match(tokens[index])
        if own:
            index += 1 + own_value
            continue
        known, takes_value = global_options.match(tokens[index])
        # An option whose value is missing stays: in front it would take the command's name.
        if known and index + takes_value < len(tokens):
            positions.update(range(index, index + 1 + takes_value))
            index += 1 + takes_value
        else:
            index += 1
    return positions


def output_fallback(leaf_params: Iterable[Any], args: Sequence[str], environ: Any) -> list[str]:
    """`--output text` when DTRCTL_OUTPUT=csv names a format this command lacks and no
    --output is given: CI can set csv once for the listings, and every other command still
    runs (in text). Any other unknown value stays an error."""
    if str(environ.get("DTRCTL_OUTPUT", "")).lower() != "csv":
        return []
    output = next((param for param in leaf_params if getattr(param, "name", "") == "output"), None)
    choices = getattr(getattr(output, "type", None), "choices", None)
    if output is None or choices is None or "csv" in choices:
        return []
    spellings = set(output.opts)
    head = _split_at_end_of_options(args)[0]
    given = any(token.partition("=")[0] in spellings for token in head)
    return [] if given else ["--output", "text"]
