"""What repositories must look like: the declarative policy file of `dtrctl apply`, the plan that
brings the registry there, and the immutability audit of `dtrctl repo audit`.

A policy file is TOML:

    [defaults]                    # optional, for every [[repository]] below
    immutable = true
    visibility = "private"

    [[repository]]
    name = "engineering/api"      # required: NAMESPACE/NAME
    description = "API service"   # optional: immutable, visibility, description

A setting given neither in the entry nor in `[defaults]` is left as it is on the server (and is
DTR's default when the repository is created). Everything here is pure: the caller reads the
file and the server.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from dtrctl.errors import InvalidReference, UsageError
from dtrctl.models import VISIBILITIES, Repository
from dtrctl.reference import RepositoryName, parse_repository_name
from dtrctl.repos.selection import EVERY_REPOSITORY, Pattern, parse_pattern
from dtrctl.repos.settings import MAX_SHORT_DESCRIPTION, RepositorySettings, SettingsChange
from dtrctl.tomlfile import TomlLines, TomlSyntaxError, parse_toml

# Policy key -> RepositorySettings field.
SETTING_KEYS = {
    "immutable": "immutable",
    "visibility": "visibility",
    "description": "short_description",
}
ENTRY_KEYS = ("name", *SETTING_KEYS)
TOP_LEVEL_KEYS = ("defaults", "repository")
# The fields a plan shows, as (Repository attribute, policy word).
PLANNED_FIELDS = (
    ("immutable", "immutable"),
    ("visibility", "visibility"),
    ("short_description", "description"),
    # Not a policy key, but turning immutability on clears it: the plan says so.
    ("tag_limit", "tag_limit"),
)


@dataclass(frozen=True)
class PolicyEntry:
    name: RepositoryName
    settings: RepositorySettings
    line: int | None = None


@dataclass(frozen=True)
class Policy:
    source: str
    entries: tuple[PolicyEntry, ...]


class _Lines:
    """Lines of a policy's blocks: "" (the top level), "defaults" or a [[repository]] index."""

    def __init__(self, text: str) -> None:
        self._lines = TomlLines(text)

    def of(self, block: str | int, key: str | None = None) -> int | None:
        """The line of `key` in `block`, else of the block's header."""
        path = ("repository", block) if isinstance(block, int) else (block,) if block else ()
        found = self._lines.key(key, *path) if key is not None else None
        if found is not None:
            return found
        if isinstance(block, int):
            return self._lines.entry("repository", block)
        return self._lines.table(block) if block else None


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[tuple[int, str]] = []

    def add(self, line: int | None, message: str) -> None:
        where = f"{self.source}:{line}" if line is not None else self.source
        self.messages.append((line or 0, f"{where}: {message}"))

    def raise_any(self) -> None:
        if self.messages:
            raise UsageError(
                "\n".join(message for _, message in sorted(self.messages)),
                hint="See `dtrctl apply --help` for the policy file format",
            )


def parse_policy(text: str, source: str) -> Policy:
    """Parse and validate a policy file; every problem is reported with its file and line."""
    problems = _Problems(source)
    try:
        document = parse_toml(text)
    except TomlSyntaxError as error:
        problems.add(error.line, error.message)
        problems.raise_any()
        raise  # not reached: raise_any raised
    lines = _Lines(text)
    for key in document:
        if key not in TOP_LEVEL_KEYS:
            problems.add(
                lines.of("", key) or lines.of(key),
                f"unknown key {key!r} (a policy has [defaults] and [[repository]] entries)",
            )
    defaults_table = document.get("defaults", {})
    defaults: dict[str, Any] = {}
    if not isinstance(defaults_table, dict):
        problems.add(lines.of("", "defaults"), "defaults must be a table: [defaults]")
    else:
        defaults = _settings(defaults_table, "defaults", "[defaults]", lines, problems)
    entries_table = document.get("repository", [])
    if not isinstance(entries_table, list) or not all(
        isinstance(entry, dict) for entry in entries_table
    ):
        problems.add(
            lines.of("", "repository"),
            "repository must be a list of tables: [[repository]] sections",
        )
        entries_table = []
    if not entries_table and not problems.messages:
        problems.add(None, "the policy names no repository: add [[repository]] sections")
    entries = _entries(entries_table, defaults, lines, problems)
    problems.raise_any()
    return Policy(source, tuple(entries))


def _entries(
    tables: list[dict[str, Any]], defaults: dict[str, Any], lines: _Lines, problems: _Problems
) -> list[PolicyEntry]:
    """The valid entries, each repository once; the rest are problems."""
    entries = []
    first_line: dict[RepositoryName, int | None] = {}
    for index, table in enumerate(tables):
        entry = _entry(index, table, defaults, lines, problems)
        if entry is None:
            continue
        if entry.name in first_line:
            earlier = first_line[entry.name]
            problems.add(
                lines.of(index, "name"),
                f"repository {entry.name} is listed twice"
                + (f" (first at line {earlier})" if earlier else ""),
            )
            continue
        first_line[entry.name] = lines.of(index, "name")
        entries.append(entry)
    return entries


def _entry(
    index: int,
    table: dict[str, Any],
    defaults: dict[str, Any],
    lines: _Lines,
    problems: _Problems,
) -> PolicyEntry | None:
    raw_name = table.get("name")
    if not isinstance(raw_name, str):
        what = "has no name" if raw_name is None else "has a name that is not a string"
        problems.add(lines.of(index, "name"), f"repository entry {index + 1} {what}")
        return None
    try:
        name = parse_repository_name(raw_name)
    except InvalidReference as error:
        problems.add(lines.of(index, "name"), error.message)
        return None
    given = _settings(table, index, f"repository {name}", lines, problems, allowed=ENTRY_KEYS)
    settings = RepositorySettings(**{**defaults, **given})
    return PolicyEntry(name, settings, lines.of(index))


def _settings(
    table: dict[str, Any],
    block: str | int,
    where: str,
    lines: _Lines,
    problems: _Problems,
    allowed: Sequence[str] = tuple(SETTING_KEYS),
) -> dict[str, Any]:
    """The RepositorySettings fields a table gives, checking each value."""
    settings: dict[str, Any] = {}
    for key, value in table.items():
        line = lines.of(block, key)
        if key not in allowed:
            problems.add(line, f"unknown key {key!r} in {where} (known keys: {', '.join(allowed)})")
            continue
        if key == "name":
            continue
        problem = _value_problem(key, value)
        if problem:
            problems.add(line, f"{where}: {problem}")
            continue
        settings[SETTING_KEYS[key]] = value
    return settings


def _value_problem(key: str, value: Any) -> str | None:
    if key == "immutable" and not isinstance(value, bool):
        return "immutable must be true or false"
    if key == "visibility" and value not in VISIBILITIES:
        return f'visibility must be "private" or "public", not {value!r}'
    if key == "description":
        if not isinstance(value, str):
            return "description must be a string"
        if len(value) > MAX_SHORT_DESCRIPTION:
            return (
                f"the description is {len(value)} characters; "
                f"DTR allows at most {MAX_SHORT_DESCRIPTION}"
            )
    return None


# The plan


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class PlannedChange:
    name: RepositoryName
    # "create", "update" or "unchanged".
    action: str
    settings: RepositorySettings
    # For an update the differences; for a create the settings the repository gets.
    fields: tuple[FieldChange, ...] = ()

    @property
    def turns_immutability_off(self) -> bool:
        return any(
            change.field == "immutable" and change.old is True and change.new is False
            for change in self.fields
        )


@dataclass(frozen=True)
class Plan:
    changes: tuple[PlannedChange, ...]

    def of(self, action: str) -> list[PlannedChange]:
        return [change for change in self.changes if change.action == action]

    @property
    def has_changes(self) -> bool:
        return any(change.action != "unchanged" for change in self.changes)

    def to_apply(self) -> list[SettingsChange]:
        return [
            SettingsChange(change.name, change.settings, create=change.action == "create")
            for change in self.changes
            if change.action != "unchanged"
        ]


def plan_policy(policy: Policy, current: Mapping[RepositoryName, Repository | None]) -> Plan:
    """Compare each entry with the server's state (None: the repository does not exist)."""
    changes = []
    for entry in policy.entries:
        existing = current.get(entry.name)
        if existing is None:
            created = entry.settings.apply_to(Repository(entry.name.namespace, entry.name.name))
            shown = [
                FieldChange(word, None, getattr(created, attribute))
                for attribute, word in PLANNED_FIELDS
                if word != "tag_limit" and (word != "description" or created.short_description)
            ]
            changes.append(PlannedChange(entry.name, "create", entry.settings, tuple(shown)))
            continue
        wanted = entry.settings.apply_to(existing)
        differences = tuple(
            FieldChange(word, getattr(existing, attribute), getattr(wanted, attribute))
            for attribute, word in PLANNED_FIELDS
            if getattr(existing, attribute) != getattr(wanted, attribute)
        )
        action = "update" if differences else "unchanged"
        changes.append(PlannedChange(entry.name, action, entry.settings, differences))
    return Plan(tuple(changes))


# The audit


@dataclass(frozen=True)
class Drift:
    repository: Repository
    # The pattern that requires the repository to be immutable.
    rule: str


@dataclass(frozen=True)
class AuditReport:
    checked: tuple[Repository, ...]
    drift: tuple[Drift, ...]

    def unfixed(self, fixed: Collection[str] = ()) -> list[Drift]:
        """The drift left once the repositories named in `fixed` were made immutable."""
        return [item for item in self.drift if item.repository.full_name not in fixed]


def audit_immutability(
    repositories: Iterable[Repository], required: Sequence[Pattern] = ()
) -> AuditReport:
    """Drift: a repository a `required` pattern (default: every one) says must be immutable
    that is not."""
    rules = tuple(required) or (parse_pattern(EVERY_REPOSITORY),)
    checked = tuple(repositories)
    drift = []
    for repository in checked:
        if repository.immutable:
            continue
        rule = next((r for r in rules if r.matches(repository.namespace, repository.name)), None)
        if rule is not None:
            drift.append(Drift(repository, rule.text))
    return AuditReport(checked, tuple(drift))


AUDIT_SUITE_NAME = "dtrctl repo audit"


def audit_junit_xml(report: AuditReport, fixed: Collection[str] = ()) -> str:
    """One test case per checked repository; `<failure>` for drift not `fixed` (full names)."""
    drift = {item.repository.full_name: item for item in report.drift}
    failures = sum(name not in fixed for name in drift)
    counts = {"tests": str(len(report.checked)), "failures": str(failures), "errors": "0"}
    suites = ElementTree.Element("testsuites", {"name": AUDIT_SUITE_NAME, **counts})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": AUDIT_SUITE_NAME, **counts})
    for repository in report.checked:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            {"name": repository.full_name, "classname": f"immutability.{repository.namespace}"},
        )
        item = drift.get(repository.full_name)
        if item is None:
            state = "immutable" if repository.immutable else "mutable (not required)"
            ElementTree.SubElement(case, "system-out").text = state
        elif repository.full_name in fixed:
            ElementTree.SubElement(
                case, "system-out"
            ).text = f"was mutable (required immutable by {item.rule}); fixed: now immutable"
        else:
            element = ElementTree.SubElement(
                case,
                "failure",
                {"type": "drift", "message": f"mutable, but {item.rule} must be immutable"},
            )
            element.text = f"{repository.full_name} has tag immutability off"
    ElementTree.indent(suites)
    body = ElementTree.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
