"""What repositories must look like: the declarative policy file of `dtrctl apply`, the plan that
brings the registry there, and the immutability audit of `dtrctl repo audit`.

A policy file is TOML:

    [defaults]                    # optional, for every [[repository]] below
    immutable = true
    visibility = "private"

    [[repository]]
    name = "engineering/api"      # NAMESPACE/NAME: this repository must exist
    description = "API service"   # optional: immutable, visibility, description,
                                  # long_description, scan_on_push, tag_limit
    [[repository]]
    match = "*/release-*"         # a pattern instead of a name: existing repositories only

A setting given neither in the entry nor in `[defaults]` is left as it is on the server (and is
DTR's default when the repository is created). A repository named exactly follows its own entry;
otherwise the first `match` entry that matches it (dtrctl.repos.policy_patterns). Everything
here is pure: the caller reads the file and the server.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from dtrctl.errors import InvalidReference, UsageError
from dtrctl.records.changes import MAX_SHORT_DESCRIPTION, RepositorySettings, SettingsChange
from dtrctl.records.findings import AuditFinding
from dtrctl.records.repository import VISIBILITIES, Repository
from dtrctl.reference import RepositoryName, parse_repository_name
from dtrctl.repos.selection import EVERY_REPOSITORY, Pattern, parse_pattern
from dtrctl.text import xml_text
from dtrctl.tomlfile import TomlLines, TomlSyntaxError, parse_toml

# Policy key -> RepositorySettings field.
SETTING_KEYS = {
    "immutable": "immutable",
    "visibility": "visibility",
    "description": "short_description",
    "long_description": "long_description",
    "scan_on_push": "scan_on_push",
    "tag_limit": "tag_limit",
}
ENTRY_KEYS = ("name", "match", *SETTING_KEYS)
TOP_LEVEL_KEYS = ("defaults", "repository")
Table = dict[str, Any]  # a TOML table as parsed
# The fields a plan shows, as (Repository attribute, policy word).
PLANNED_FIELDS = (
    ("immutable", "immutable"),
    ("visibility", "visibility"),
    ("short_description", "description"),
    ("long_description", "long_description"),
    ("scan_on_push", "scan_on_push"),
    # Also shown when only turning immutability on clears it.
    ("tag_limit", "tag_limit"),
)
# What a created repository's plan shows only when set (the rest always).
_SHOWN_WHEN_SET = ("description", "long_description", "scan_on_push", "tag_limit")


@dataclass(frozen=True)
class PolicyEntry:
    name: RepositoryName
    settings: RepositorySettings
    line: int | None = None


@dataclass(frozen=True)
class PatternEntry:
    """A `match = "NS/NAME-GLOB"` entry: settings for existing repositories that match."""

    pattern: Pattern
    settings: RepositorySettings
    line: int | None = None


@dataclass(frozen=True)
class Policy:
    source: str
    entries: tuple[PolicyEntry, ...]
    patterns: tuple[PatternEntry, ...] = ()


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


def parse_policy(text: str, source: str, *, nested: bool = False) -> Policy:
    """Parse and validate a policy file (`nested`: Harbor paths); problems name file and line."""
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
    entries, patterns = _entries(entries_table, defaults, lines, problems, nested)
    problems.raise_any()
    return Policy(source, tuple(entries), tuple(patterns))


def _entries(
    tables: list[Table], defaults: Table, lines: _Lines, problems: _Problems, nested: bool
) -> tuple[list[PolicyEntry], list[PatternEntry]]:
    """The valid entries (each repository once) and pattern entries; the rest are problems."""
    entries = []
    patterns = []
    first_line: dict[RepositoryName, int | None] = {}
    for index, table in enumerate(tables):
        entry = _entry(index, table, defaults, lines, problems, nested)
        if isinstance(entry, PatternEntry):
            patterns.append(entry)
            continue
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
    return entries, patterns


def _entry(
    index: int,
    table: dict[str, Any],
    defaults: dict[str, Any],
    lines: _Lines,
    problems: _Problems,
    nested: bool,
) -> PolicyEntry | PatternEntry | None:
    if "match" in table:
        return _pattern_entry(index, table, defaults, lines, problems, nested)
    raw_name = table.get("name")
    if not isinstance(raw_name, str):
        what = "has no name" if raw_name is None else "has a name that is not a string"
        problems.add(
            lines.of(index, "name"), f"repository entry {index + 1} {what} (or match pattern)"
        )
        return None
    try:
        name = parse_repository_name(raw_name, nested=nested)
    except InvalidReference as error:
        problems.add(lines.of(index, "name"), error.message)
        return None
    where = f"repository {name}"
    given = _settings(table, index, where, lines, problems, allowed=ENTRY_KEYS)
    settings = _valid_settings({**defaults, **given}, lines.of(index), where, problems)
    return PolicyEntry(name, settings, lines.of(index)) if settings else None


def _pattern_entry(
    index: int,
    table: dict[str, Any],
    defaults: dict[str, Any],
    lines: _Lines,
    problems: _Problems,
    nested: bool,
) -> PatternEntry | None:
    raw = table["match"]
    line = lines.of(index, "match")
    if "name" in table:
        problems.add(line, f"repository entry {index + 1} has both name and match: give one")
        return None
    if not isinstance(raw, str):
        problems.add(line, f"repository entry {index + 1} has a match that is not a string")
        return None
    try:
        pattern = parse_pattern(raw, nested=nested)
    except InvalidReference as error:
        problems.add(line, error.message)
        return None
    where = f"match {raw}"
    given = _settings(table, index, where, lines, problems, allowed=ENTRY_KEYS)
    settings = _valid_settings({**defaults, **given}, lines.of(index), where, problems)
    return PatternEntry(pattern, settings, lines.of(index)) if settings else None


def _valid_settings(
    fields: dict[str, Any], line: int | None, where: str, problems: _Problems
) -> RepositorySettings | None:
    """The settings, if they go together (immutability excludes a tag limit)."""
    settings = RepositorySettings(**fields)
    try:
        settings.validate()
    except UsageError as error:
        problems.add(line, f"{where}: {error.message}")
        return None
    return settings


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
        if key in ("name", "match"):
            continue
        problem = _value_problem(key, value)
        if problem:
            problems.add(line, f"{where}: {problem}")
            continue
        settings[SETTING_KEYS[key]] = value
    return settings


def _value_problem(key: str, value: Any) -> str | None:
    if key in ("immutable", "scan_on_push") and not isinstance(value, bool):
        return f"{key} must be true or false"
    if key == "tag_limit" and (isinstance(value, bool) or not isinstance(value, int)):
        return "tag_limit must be a whole number (0 = no limit)"
    if key == "tag_limit" and value < 0:
        return "tag_limit cannot be negative (0 = no limit)"
    if key == "long_description" and not isinstance(value, str):
        return "long_description must be a string"
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
                if word not in _SHOWN_WHEN_SET or getattr(created, attribute)
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
    findings: tuple[AuditFinding, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(finding.severity == "error" for finding in self.findings)

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
    # Server names may hold what XML 1.0 cannot: replaced, so the report always parses.
    body = xml_text(ElementTree.tostring(suites, encoding="unicode"))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
