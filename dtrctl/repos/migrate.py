"""`dtrctl migrate immutability`: carry DTR's immutable repositories over to MSR 4 / Harbor.

Pure: the name mapping, the plan and the verification; the command reads both registries.

Name mapping. A map is `SRC_GLOB=DEST_TEMPLATE`:
- `SRC_GLOB` matches a DTR name `namespace/name`: `*` matches any text without `/`, `?` one
  character other than `/`; everything else is literal.
- `DEST_TEMPLATE` is the Harbor name `project/path` (the first component is the project, the
  rest may contain `/`). In it, `{ns}` and `{name}` are the DTR namespace and name, and `{1}`,
  `{2}`, ... the text the glob's 1st, 2nd, ... wildcard matched. `-` alone skips the repository.
- Maps are tried in order; the first whose glob matches decides. A name no map matches keeps
  its name: `ns/repo` → project `ns`, repository `repo` (the default `*/*={ns}/{name}`).
A map file holds one map per line; empty lines and lines starting with `#` are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dtrctl.errors import UsageError
from dtrctl.globs import Glob, compile_glob
from dtrctl.reference import COMPONENT_RE, RepositoryName

SKIP = "-"
DEFAULT_TEMPLATE = "{ns}/{name}"
_PLACEHOLDER_RE = re.compile(r"\{([a-z]+|[0-9]+)\}")
MAX_HARBOR_NAME = 255

Action = Literal["make-immutable", "already-immutable", "missing-project", "skip", "blocked"]


@dataclass(frozen=True)
class NameMap:
    """One `SRC_GLOB=DEST_TEMPLATE`, compiled."""

    text: str
    glob: Glob
    template: str

    def apply(self, source: RepositoryName) -> str | None:
        """The destination text, `-` to skip, or None when the glob does not match."""
        captured = self.glob.captures(str(source))
        if captured is None:
            return None
        if self.template == SKIP:
            return SKIP
        values = {"ns": source.namespace, "name": source.name}
        values.update({str(index): text for index, text in enumerate(captured, start=1)})
        return _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], self.template)


def parse_map(text: str, where: str = "--map") -> NameMap:
    """`SRC_GLOB=DEST_TEMPLATE`; a UsageError naming `where` for anything else."""
    glob, separator, template = text.partition("=")
    glob, template = glob.strip(), template.strip()
    if not separator or not glob or not template:
        raise UsageError(
            f"{where}: {text!r} is not SRC_GLOB=DEST_TEMPLATE",
            hint="For example 'engineering/*=eng/{name}' or 'legacy/*=-' (skip)",
        )
    # Matched without backtracking (`dtrctl.globs`): a regex takes minutes on some globs.
    compiled = compile_glob(glob, classes=False, separator="/")
    wildcards = compiled.wildcards
    for placeholder in _PLACEHOLDER_RE.findall(template):
        known = placeholder in ("ns", "name") or (
            placeholder.isdigit() and 1 <= int(placeholder) <= wildcards
        )
        if not known:
            raise UsageError(
                f"{where}: unknown placeholder {{{placeholder}}} in {template!r}",
                hint=f"Use {{ns}}, {{name}} or {{1}}..{{{max(wildcards, 1)}}} (one per wildcard)",
            )
    return NameMap(text, compiled, template)


def parse_map_file(text: str, source: str) -> list[NameMap]:
    maps = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            maps.append(parse_map(stripped, f"{source}:{number}"))
    return maps


def harbor_name(text: str, source: RepositoryName, rule: str) -> RepositoryName:
    """`project/path` from a mapped name, every component checked as Harbor names them."""
    parts = text.split("/")
    if (
        len(parts) < 2
        or len(text) > MAX_HARBOR_NAME
        or not all(COMPONENT_RE.fullmatch(part) for part in parts)
    ):
        raise UsageError(
            f"{rule} maps {source} to {text!r}, which is not a Harbor PROJECT/REPOSITORY name",
            hint="Components are lowercase letters and digits separated by '.', '_' or '-'",
        )
    return RepositoryName(parts[0], "/".join(parts[1:]))


def map_name(source: RepositoryName, maps: Sequence[NameMap]) -> RepositoryName | None:
    """The Harbor name of a DTR repository; None when a map says to skip it."""
    for name_map in maps:
        mapped = name_map.apply(source)
        if mapped == SKIP:
            return None
        if mapped is not None:
            return harbor_name(mapped, source, f"map {name_map.text!r}")
    return harbor_name(str(source), source, "the default map")


@dataclass(frozen=True)
class MigrationItem:
    """One immutable DTR repository and what becomes of it on Harbor."""

    source: RepositoryName
    destination: RepositoryName | None  # None: skipped by a map
    action: Action
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "destination": str(self.destination) if self.destination else None,
            "action": self.action,
            "detail": self.detail or None,
        }


@dataclass(frozen=True)
class DestinationState:
    """What Harbor says of a destination: would `set_immutability` change it, or fail."""

    would_change: bool
    problem: str | None = None


def plan_migration(
    sources: Iterable[RepositoryName],
    maps: Sequence[NameMap],
    projects: Mapping[str, bool],
    states: Mapping[RepositoryName, DestinationState],
    *,
    create_projects: bool,
) -> list[MigrationItem]:
    """One item per immutable DTR repository, sorted by source name.

    `projects`: whether each destination project exists; `states`: the destinations in existing
    projects (a missing one is planned as a change).
    """
    items = []
    for source in sorted(set(sources), key=str):
        destination = map_name(source, maps)
        if destination is None:
            items.append(MigrationItem(source, None, "skip", "skipped by a map"))
        elif not projects.get(destination.namespace, False):
            action: Action = "make-immutable" if create_projects else "missing-project"
            detail = f"project {destination.namespace} does not exist" + (
                ": it will be created" if create_projects else ""
            )
            items.append(MigrationItem(source, destination, action, detail))
        else:
            state = states.get(destination, DestinationState(would_change=True))
            if state.problem:
                items.append(MigrationItem(source, destination, "blocked", state.problem))
            elif state.would_change:
                items.append(MigrationItem(source, destination, "make-immutable"))
            else:
                items.append(MigrationItem(source, destination, "already-immutable"))
    _check_unique_destinations(items)
    return items


def _check_unique_destinations(items: Sequence[MigrationItem]) -> None:
    seen: dict[RepositoryName, RepositoryName] = {}
    for item in items:
        if item.destination is None:
            continue
        first = seen.setdefault(item.destination, item.source)
        if first != item.source:
            raise UsageError(
                f"{first} and {item.source} both map to {item.destination}",
                hint="Each DTR repository needs its own Harbor name: check the maps",
            )


def plan_summary(items: Sequence[MigrationItem]) -> dict[str, int]:
    counts = {action: 0 for action in Action.__args__}  # type: ignore[attr-defined]
    for item in items:
        counts[item.action] += 1
    return counts
