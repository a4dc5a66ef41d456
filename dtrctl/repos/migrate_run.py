"""The reads and writes of `dtrctl migrate immutability`, through the two registries' backends.

The source is any backend (DTR usually); the destination is Harbor. Planning and mapping are in
`dtrctl.repos.migrate` (pure); here they meet the registries: what is immutable at the source,
what each destination would need, the changes, and the verification afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dtrctl.backends.harbor.packing import plan_project
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
    from dtrctl.backends.harbor.packing import RuleLayout


def immutable_sources(source: Backend) -> list[RepositoryName]:
    """Every repository the source shows as immutable (all of its tags)."""
    return sorted(
        (RepositoryName(r.namespace, r.name) for r in source.list_repositories() if r.immutable),
        key=str,
    )


def _project_states(
    harbor: HarborBackend, project: str, paths: list[str]
) -> tuple[dict[str, DestinationState], tuple[RuleLayout, ...]]:
    """Each destination of one project, from one plan of the project's rules (and its packing)."""
    change = harbor.change_project(project, dict.fromkeys(paths, True), write=False)
    states = {}
    for path, result in change.results.items():
        if result.error is not None and not isinstance(result.error, Conflict):
            raise result.error  # read failures stop the plan: not "blocked" but unknown
        problem = result.error.message if result.error is not None else None
        states[path] = DestinationState(would_change=result.changed, problem=problem)
    return states, change.layout


@dataclass(frozen=True)
class MigrationPlan:
    """The items, and how dtrctl's rules of each destination project change (the packing)."""

    items: list[MigrationItem]
    rules: tuple[RuleLayout, ...] = ()


def plan(
    source: Backend,
    harbor: HarborBackend,
    maps: Sequence[NameMap],
    *,
    create_projects: bool,
    concurrency: int = 8,
) -> MigrationPlan:
    """Read both sides and plan; a failure to read either side raises (nothing was changed)."""
    sources = immutable_sources(source)
    destinations = [name for name in (map_name(s, maps) for s in sources) if name is not None]
    projects = sorted({name.namespace for name in destinations})
    exists = run_bulk(projects, harbor.api.project_exists, concurrency=concurrency)
    if exists.interrupted:
        raise KeyboardInterrupt
    found = dict(zip(projects, exists.results, strict=True))
    grouped = _by_project(name for name in destinations if found[name.namespace])
    planned = run_bulk(
        sorted(grouped.items()),
        lambda item: _project_states(harbor, item[0], item[1]),
        concurrency=concurrency,
    )
    if planned.interrupted:
        raise KeyboardInterrupt
    states: dict[RepositoryName, DestinationState] = {}
    layout: list[RuleLayout] = []
    for (project, _paths), (project_states, project_layout) in zip(
        sorted(grouped.items()), planned.results, strict=True
    ):
        states.update({RepositoryName(project, p): s for p, s in project_states.items()})
        layout += project_layout
    items = plan_migration(sources, maps, found, states, create_projects=create_projects)
    created = _new_project_layout(harbor, items, found)
    return MigrationPlan(items, tuple(layout) + created)


def _by_project(names: Iterable[RepositoryName]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in names:
        grouped.setdefault(name.namespace, []).append(name.name)
    return grouped


def _new_project_layout(
    harbor: HarborBackend, items: Sequence[MigrationItem], found: dict[str, bool]
) -> tuple[RuleLayout, ...]:
    """The packing of the projects --create-projects will create (no rules there yet)."""
    missing = [
        i.destination
        for i in items
        if i.action == "make-immutable" and i.destination and not found[i.destination.namespace]
    ]
    layout: list[RuleLayout] = []
    for project, paths in sorted(_by_project(n for n in missing if n is not None).items()):
        layout += plan_project([], project, paths, glob=harbor.glob_version()).layout
    return tuple(layout)


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
    """Make every `make-immutable` destination immutable (creating the projects planned), one
    plan and its writes per project, so dtrctl's rules there are packed in one go."""
    todo = [item for item in items if item.action == "make-immutable"]
    project_errors = _create_projects(harbor, todo)
    by_project: dict[str, list[MigrationItem]] = {}
    for item in todo:
        assert item.destination is not None
        by_project.setdefault(item.destination.namespace, []).append(item)

    def one(project_items: tuple[str, list[MigrationItem]]) -> list[MigrationResult]:
        project, chosen = project_items
        if project in project_errors:
            return [MigrationResult(i, False, project_errors[project]) for i in chosen]
        paths = {i.destination.name: True for i in chosen if i.destination is not None}
        try:
            change = harbor.change_project(project, paths, write=True)
        except DtrctlError as error:
            return [MigrationResult(i, False, error) for i in chosen]
        results = []
        for item in chosen:
            assert item.destination is not None
            result = change.results[item.destination.name]
            results.append(MigrationResult(item, result.changed, result.error, result.warnings))
        return results

    def report(results: list[MigrationResult]) -> None:
        for result in results:
            if on_result is not None:
                on_result(result)

    grouped = run_bulk(sorted(by_project.items()), one, concurrency=concurrency, on_result=report)
    done = {id(result.item): result for results in grouped.results for result in results}
    flat = [done[id(item)] for item in todo if id(item) in done]  # in the plan's order
    return BulkOutcome(flat, total=len(todo), interrupted=grouped.interrupted)


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
