"""Repositories as `dtrctl repo` shows them: settings, tables, CSV, audit drift and JUnit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dtrctl.cli.output import write_csv
from dtrctl.errors import UsageError

if TYPE_CHECKING:
    from dtrctl.backends.harbor.packing import RuleLayout
    from dtrctl.cli.output import Output, Segment
    from dtrctl.records.repository import Repository
    from dtrctl.repos.policy import AuditReport


def print_rule_packing(out: Output, layout: tuple[RuleLayout, ...]) -> None:
    """Which repositories go into which of dtrctl's Harbor rules (`rules` in JSON)."""
    for item in layout:
        if item.action == "delete":
            removed = ", ".join(item.removed)
            out.line(f"rules {item.project}: {item.key} delete (-{len(item.removed)}: {removed})")
            continue
        changes = [f"+{len(item.added)}"] if item.added else []
        changes += [f"-{len(item.removed)}: {', '.join(item.removed)}"] if item.removed else []
        action = f"{item.action} (disabled, identical)" if item.disabled_twin else item.action
        out.line(
            f"rules {item.project}: {item.key} {action}, {len(item.repositories)} "
            f"repositories ({' '.join(changes)}): {', '.join(item.repositories)}"
        )


def print_drift(out: Output, report: AuditReport) -> None:
    out.line(
        f"Drift: {len(report.drift)} of {len(report.checked)} checked repositories must be "
        "immutable but are not:"
    )
    for item in report.drift:
        out.line(f"  {item.repository.full_name} (required by {item.rule})")


def print_findings(out: Output, report: AuditReport) -> None:
    for finding in report.findings:
        label = ("error", "red") if finding.severity == "error" else ("warning", "yellow")
        out.line(f"project {finding.namespace}: ", label, f": {finding.message}")


def write_junit(path: str, report: AuditReport, fixed: set[str]) -> None:
    from dtrctl.repos.policy import audit_junit_xml

    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(audit_junit_xml(report, fixed))
    except OSError as error:
        raise UsageError(f"cannot write the JUnit report {path}: {error}") from None


def harbor_immutability(repository: Repository) -> tuple[str, str] | None:
    """A Harbor repository's level (`all`, `some`, `none`, `unknown`) and its words, e.g.
    `some (v* by rule 4)`; None for a DTR repository (on or off)."""
    extra = repository.extra_json or {}
    level, summary = extra.get("immutability"), extra.get("immutability_summary")
    if not isinstance(level, str) or not isinstance(summary, str):
        return None
    return level, summary


def known_immutable(repository: Repository) -> bool | None:
    """Whether every tag is immutable; None when unknown (Harbor rules the user cannot read)."""
    harbor = harbor_immutability(repository)
    return None if harbor is not None and harbor[0] == "unknown" else repository.immutable


def unknown_notes(repositories: list[Repository]) -> list[str]:
    """Why some repositories' immutability is unknown, once per reason."""
    notes = ((repository.extra_json or {}).get("immutability_note") for repository in repositories)
    return list(dict.fromkeys(note for note in notes if isinstance(note, str)))


_HARBOR_CONSEQUENCES = {
    "all": ("bold green", ": existing tags cannot be overwritten"),
    "some": ("bold yellow", ": Harbor refuses to overwrite those tags, other tags can be"),
    "none": ("bold yellow", ": tags can be overwritten"),
    "unknown": ("bold red", ": the project's rules could not be read"),
}


def _immutability_segments(repository: Repository) -> list[Segment]:
    harbor = harbor_immutability(repository)
    if harbor is not None:
        style, consequence = _HARBOR_CONSEQUENCES.get(harbor[0], ("bold", ""))
        return [(harbor[1], style), consequence]
    if repository.immutable:
        return [("on", "bold green"), " (existing tags cannot be overwritten)"]
    return [("off", "bold yellow"), " (tags can be overwritten)"]


def _immutable_cell(repository: Repository) -> str | tuple[str, str]:
    harbor = harbor_immutability(repository)
    if harbor is not None:
        return harbor[1] if harbor[0] == "all" else (harbor[1], "yellow")
    return "yes" if repository.immutable else ("no", "yellow")


def print_repository(out: Output, repository: Repository, heading: str = "") -> None:
    immutable = _immutability_segments(repository)
    if heading:
        out.line(f"{repository.full_name}: {heading}")
    rows: list[tuple[str, list[Segment]]] = [
        ("Repository", [repository.full_name]),
        ("Immutable tags", immutable),
        ("Visibility", [repository.visibility]),
        ("Tag limit", [str(repository.tag_limit or "none")]),
        ("Scan on push", ["yes" if repository.scan_on_push else "no"]),
        ("Description", [repository.short_description or "-"]),
        ("Namespace type", [repository.namespace_type]),
        ("Pulls / pushes", [f"{repository.pulls} / {repository.pushes}"]),
    ]
    if repository.long_description:
        rows.append(("Long description", [repository.long_description]))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.line(f"{label + ':':<{width + 1}} ", *value)


def print_table(out: Output, repositories: list[Repository]) -> None:
    out.table(
        ("REPOSITORY", "IMMUTABLE", "VISIBILITY", "TAG LIMIT"),
        [
            (
                repository.full_name,
                _immutable_cell(repository),
                repository.visibility,
                str(repository.tag_limit or "-"),
            )
            for repository in repositories
        ],
    )


def print_csv(repositories: list[Repository]) -> None:
    columns = ["repository", "immutable", "visibility", "tag_limit", "short_description"]
    write_csv(
        columns,
        (
            (r.full_name, known_immutable(r), r.visibility, r.tag_limit, r.short_description)
            for r in repositories
        ),
    )
