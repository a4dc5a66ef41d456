"""Benchmark 1, start-up: `--version`, `--help` and a TAB completion against `import typer`."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.common import DTRCTL, PYTHON, Profile, Workspace, alternate, ratio, run_child
from benchmarks.report import Section, Target, milliseconds

TARGET = 1.25
FLOOR = "python -c 'import typer'"
# Typer's bash protocol (typer/_completion_classes.py): the words so far and the index of the
# word being completed, in the environment of a run with _DTRCTL_COMPLETE=complete_bash.
COMPLETION_ENV = {"_DTRCTL_COMPLETE": "complete_bash", "COMP_WORDS": "dtrctl re", "COMP_CWORD": "1"}
COMPLETION = "completion (`dtrctl re<TAB>`)"
TOP_OFFENDERS = 10


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    env: Mapping[str, str]


def commands() -> dict[str, Command]:
    return {
        FLOOR: Command((PYTHON, "-c", "import typer"), {}),
        "dtrctl --version": Command((DTRCTL, "--version"), {}),
        "dtrctl --help": Command((DTRCTL, "--help"), {}),
        COMPLETION: Command((DTRCTL,), COMPLETION_ENV),
    }


@dataclass(frozen=True)
class ImportCost:
    module: str
    self_us: float
    cumulative_us: float


def parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """`-X importtime` lines → module: (self µs, cumulative µs)."""
    found = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        found[name.strip()] = (int(self_us), int(cumulative_us))
    return found


def imports_beyond_floor(
    command: Command, floor: Command, workspace: Workspace, runs: int
) -> list[ImportCost]:
    """The modules `command` imports that the floor does not, by median self time, costliest
    first."""
    floor_modules = set(_importtime(floor, workspace))
    samples: dict[str, list[tuple[int, int]]] = {}
    for _ in range(runs):
        for module, cost in _importtime(command, workspace).items():
            if module not in floor_modules:
                samples.setdefault(module, []).append(cost)
    costs = [
        ImportCost(
            module,
            statistics.median(cost[0] for cost in measured),
            statistics.median(cost[1] for cost in measured),
        )
        for module, measured in samples.items()
    ]
    return sorted(costs, key=lambda cost: cost.self_us, reverse=True)


def _importtime(command: Command, workspace: Workspace) -> dict[str, tuple[int, int]]:
    # The console script is a Python file: the same interpreter runs it with the flag.
    script_args = command.argv[1:] if command.argv[0] == PYTHON else command.argv
    argv = (PYTHON, "-X", "importtime", *script_args)
    completed = run_child(argv, workspace.env(command.env))
    return parse_importtime(completed.stderr.decode())


def run(workspace: Workspace, profile: Profile) -> Section:
    every = commands()
    check_completion(every[COMPLETION], workspace)

    def timed(command: Command) -> float:
        return run_child(command.argv, workspace.env(command.env)).seconds

    samples = alternate(
        {name: functools.partial(timed, command) for name, command in every.items()},
        profile.repetitions,
        profile.warmup,
    )
    floor = samples[FLOOR].median
    section = Section(
        "1. Start-up",
        ("command", "median", "ratio to the floor"),
        notes=[
            f"Floor: `{FLOOR}` with the same interpreter; {profile.repetitions} alternating runs "
            "each after a warm-up, bytecode cached as in an installed package."
        ],
    )
    for name, measured in samples.items():
        label = f"`{name}`" if name != COMPLETION else name
        section.add(label, milliseconds(measured.median), f"{ratio(measured.median, floor):.2f}×")
        if name != FLOOR:
            section.targets.append(
                Target(f"start-up {label}", ratio(measured.median, floor), TARGET)
            )
    for name in ("dtrctl --help", COMPLETION):
        costs = imports_beyond_floor(every[name], every[FLOOR], workspace, profile.importtime_runs)
        section.notes.append(importtime_table(name, costs))
    return section


def check_completion(command: Command, workspace: Workspace) -> None:
    """A completion that answers nothing would be fast for the wrong reason."""
    answer = run_child(command.argv, workspace.env(command.env)).stdout.decode().split()
    if "repo" not in answer:
        raise RuntimeError(f"the completion request answered {answer!r}, not `repo`")


def importtime_table(name: str, costs: Sequence[ImportCost]) -> str:
    total_ms = sum(cost.self_us for cost in costs) / 1000
    lines = [
        f"`python -X importtime` for {name if name == COMPLETION else f'`{name}`'}: "
        f"{len(costs)} modules beyond the floor's, {total_ms:.1f} ms of import time "
        f"(median of runs); the top {TOP_OFFENDERS} by own time:",
        "",
        "| module | own | with its imports |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{cost.module}` | {cost.self_us / 1000:.1f} ms | {cost.cumulative_us / 1000:.1f} ms |"
        for cost in costs[:TOP_OFFENDERS]
    ]
    return "\n".join(lines)
