"""Benchmark results as data, and as the Markdown of `benchmarks/RESULTS.md`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """A goal of issue 7: `measured` must be at most `limit` (a ratio)."""

    what: str
    measured: float
    limit: float

    @property
    def met(self) -> bool:
        return self.measured <= self.limit

    def line(self) -> str:
        verdict = "met" if self.met else "**missed**"
        return f"{self.what}: {self.measured:.2f}× (target ≤ {self.limit:.2f}×): {verdict}"


@dataclass
class Section:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Figures other sections are built from, by row label (e.g. `median_s`, `ratio`, `trips`).
    figures: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, *cells: str) -> None:
        if len(cells) != len(self.headers):
            raise ValueError(f"{self.title}: {len(cells)} cells for {len(self.headers)} columns")
        self.rows.append(cells)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(
    sections: Sequence[Section], machine: Mapping[str, str], profile: str, command: str
) -> str:
    parts = [
        "# dtrctl benchmarks",
        "",
        f"Written by `{command}` (profile: {profile}). Each ratio compares candidates measured "
        "in the same run, alternating, as the median of several repetitions.",
        "",
        table(("Machine", ""), list(machine.items())),
        "",
        "## Targets",
        "",
        *[f"- {target.line()}" for section in sections for target in section.targets],
    ]
    for section in sections:
        parts += ["", f"## {section.title}", "", table(section.headers, section.rows)]
        if section.targets:
            parts += ["", *[f"- {target.line()}" for target in section.targets]]
        for note in section.notes:
            parts += ["", note]
    return "\n".join(parts) + "\n"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def seconds_text(seconds: float) -> str:
    return f"{seconds:.2f} s"
