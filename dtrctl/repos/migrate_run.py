"""The reads and writes of `dtrctl migrate immutability`, through the two registries' backends.

The source is any backend (DTR usually); the destination is Harbor. Planning and mapping are in
`dtrctl.repos.migrate` (pure); here they meet the registries: what is immutable at the source,
what each destination would need, the changes, and the verification afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dtrctl.errors import Conflict, DtrctlError
from dtrctl.reference import RepositoryName
from dtrctl.repos.bulk import BulkOutcome, run_bulk
from dtrctl.repos.migrate import (
    DestinationState,
    MigrationItem,
    NameMap,
    map_name,
    plan_migration,
)

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.backends.harbor.backend import HarborBackend


def immutable_sources(source: Backend) -> list[RepositoryName]:
    """Every repository the source shows as immutable (all of its tags)."""
    return sorted(
        (RepositoryName(r.namespace, r.name) for r in source.list_repositories() if r.immutable),
        key=str,
    )


def _destination_state(harbor: HarborBackend, name: RepositoryName) -> DestinationState:
    # Read failures stop the plan (they raise): they are not "blocked" but unknown.
    try:
        preview = harbor.preview_immutability(name, True)
    except Conflict as blocked:
        return DestinationState(would_change=False, problem=blocked.message)
    return DestinationState(would_change=preview.changed)


def plan(
    source: Backend,
    harbor: HarborBackend,
    maps: Sequence[NameMap],
    *,
    create_projects: bool,
    concurrency: int = 8,
) -> list[MigrationItem]:
    """Read both sides and plan; a failure to read either side raises (nothing was changed)."""
    sources = immutable_sources(source)
    destinations = [name for name in (map_name(s, maps) for s in sources) if name is not None]
    projects = sorted({name.namespace for name in destinations})
    exists = run_bulk(projects, harbor.api.project_exists, concurrency=concurrency)
    if exists.interrupted:
        raise KeyboardInterrupt
    found = dict(zip(projects, exists.results, strict=True))
    in_existing = [name for name in destinations if found[name.namespace]]
    states = run_bulk(
        in_existing, lambda name: _destination_state(harbor, name), concurrency=concurrency
    )
    if states.interrupted:
        raise KeyboardInterrupt
    return plan_migration(
        sources,
        maps,
        found,
        dict(zip(in_existing, states.results, strict=True)),
        create_projects=create_projects,
    )


@dataclass(frozen=True)
class MigrationResult:
    item: MigrationItem
    changed: bool
    error: DtrctlError | None = None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.item.to_json(),
            "changed": self.changed,
            "warnings": list(self.warnings),
            "error": self.error.to_dict() if self.error else None,
        }


def _create_projects(harbor: HarborBackend, items: Sequence[MigrationItem]) -> dict[str, Any]:
    """Create the missing projects the plan names; each project's error, if any."""
    errors: dict[str, Any] = {}
    for project in sorted({i.destination.namespace for i in items if i.destination}):
        try:
            if not harbor.api.project_exists(project):
                harbor.api.create_project(project)
        except Conflict:
            pass  # created meanwhile
        except DtrctlError as error:
            errors[project] = error
    return errors


def apply(
    harbor: HarborBackend,
    items: Sequence[MigrationItem],
    *,
    concurrency: int = 8,
    on_result: Callable[[MigrationResult], None] | None = None,
) -> BulkOutcome[MigrationResult]:
    """Make every `make-immutable` destination immutable (creating the projects planned)."""
    todo = [item for item in items if item.action == "make-immutable"]
    project_errors = _create_projects(harbor, todo)

    def one(item: MigrationItem) -> MigrationResult:
        assert item.destination is not None
        if item.destination.namespace in project_errors:
            return MigrationResult(item, False, project_errors[item.destination.namespace])
        try:
            result = harbor.set_immutability(item.destination, True)
        except DtrctlError as error:
            return MigrationResult(item, False, error)
        return MigrationResult(item, result.changed, None, result.warnings)

    return run_bulk(todo, one, concurrency=concurrency, on_result=on_result)


@dataclass(frozen=True)
class Mismatch:
    source: RepositoryName
    destination: RepositoryName
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "source": str(self.source),
            "destination": str(self.destination),
            "reason": self.reason,
        }


def verify(
    source: Backend, harbor: HarborBackend, maps: Sequence[NameMap], *, concurrency: int = 8
) -> tuple[int, list[Mismatch]]:
    """(checked, mismatches): every repository immutable at the source and not at Harbor."""
    pairs = [
        (name, mapped)
        for name in immutable_sources(source)
        if (mapped := map_name(name, maps)) is not None
    ]

    def check(pair: tuple[RepositoryName, RepositoryName]) -> Mismatch | None:
        try:
            preview = harbor.preview_immutability(pair[1], True)
        except DtrctlError as error:
            return Mismatch(*pair, error.message)
        if preview.changed:
            return Mismatch(*pair, "not immutable on Harbor")
        return None

    outcome = run_bulk(pairs, check, concurrency=concurrency)
    if outcome.interrupted:
        raise KeyboardInterrupt
    return len(pairs), [mismatch for mismatch in outcome.results if mismatch is not None]
