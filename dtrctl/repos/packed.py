"""Immutability of many repositories on Harbor: one plan of the rules per project, so dtrctl's
rules there are packed in one go (`dtrctl.backends.harbor.packing`) and the plan can show it.

On any other backend `harbor_of` is None and callers work repository by repository.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dtrctl.errors import DtrctlError
from dtrctl.records.changes import ImmutabilityResult, SettingsChange, SettingsResult
from dtrctl.reference import RepositoryName
from dtrctl.repos.bulk import (
    BulkOutcome,
    apply_settings_changes,
    run_bulk,
    set_immutability_bulk,
)
from dtrctl.repos.bulk import _unanswered as unanswered

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.backends.harbor.backend import HarborBackend
    from dtrctl.backends.harbor.packing import RuleLayout
    from dtrctl.records.repository import Repository


def harbor_of(backend: Backend) -> HarborBackend | None:
    """The Harbor backend `backend` is (or, detected under `auto`, stands for); else None."""
    from dtrctl.backends.harbor.backend import HarborBackend

    current = getattr(backend, "current", backend)
    return current if isinstance(current, HarborBackend) else None


def _by_project(wanted: Mapping[RepositoryName, bool]) -> list[tuple[str, dict[str, bool]]]:
    projects: dict[str, dict[str, bool]] = {}
    for name, immutable in wanted.items():
        projects.setdefault(name.namespace, {})[name.name] = immutable
    return sorted(projects.items())


@dataclass(frozen=True)
class _ProjectOutcome:
    results: dict[RepositoryName, ImmutabilityResult]
    layout: tuple[RuleLayout, ...] = ()


def _change(
    harbor: HarborBackend,
    wanted: Mapping[RepositoryName, bool],
    write: bool,
    concurrency: int,
    on_result: Callable[[ImmutabilityResult], None] | None,
) -> tuple[dict[RepositoryName, ImmutabilityResult], tuple[RuleLayout, ...], bool]:
    def one(group: tuple[str, dict[str, bool]]) -> _ProjectOutcome:
        project, paths = group
        try:
            change = harbor.change_project(project, paths, write=write)
        except DtrctlError as error:
            failed = ImmutabilityResult("", None, changed=False, error=error)
            return _ProjectOutcome(
                {
                    RepositoryName(project, p): replace(failed, repository=f"{project}/{p}")
                    for p in paths
                }
            )
        results = {RepositoryName(project, p): r for p, r in change.results.items()}
        return _ProjectOutcome(results, change.layout)

    def report(outcome: _ProjectOutcome) -> None:
        for result in outcome.results.values():
            if on_result is not None:
                on_result(result)

    def abandoned(group: tuple[str, dict[str, bool]]) -> _ProjectOutcome:
        names = [RepositoryName(group[0], path) for path in group[1]]
        return _ProjectOutcome(
            {n: ImmutabilityResult(str(n), None, False, error=unanswered(n)) for n in names}
        )

    groups = _by_project(wanted)
    outcome = run_bulk(
        groups, one, concurrency=concurrency, on_result=report, on_abandoned=abandoned
    )
    done = {name: r for project in outcome.results for name, r in project.results.items()}
    layout = tuple(item for project in outcome.results for item in project.layout)
    return done, layout, outcome.interrupted


def change_by_project(
    harbor: HarborBackend,
    wanted: Mapping[RepositoryName, bool],
    *,
    write: bool,
    concurrency: int = 8,
    on_result: Callable[[ImmutabilityResult], None] | None = None,
) -> tuple[BulkOutcome[ImmutabilityResult], tuple[RuleLayout, ...]]:
    """Each repository's immutability as `wanted` (`write` False: what would change), and
    how dtrctl's rules change (the packing); results in the order of `wanted`."""
    done, layout, interrupted = _change(harbor, wanted, write, concurrency, on_result)
    results = [done[name] for name in wanted if name in done]
    return BulkOutcome(results, total=len(wanted), interrupted=interrupted), layout


def apply_settings_packed(
    harbor: HarborBackend,
    changes: Sequence[SettingsChange],
    *,
    concurrency: int = 8,
    on_result: Callable[[SettingsResult], None] | None = None,
) -> BulkOutcome[SettingsResult]:
    """`apply` on Harbor: immutability by one plan per project, then the descriptions."""
    from dtrctl.backends.harbor.writes import check_supported

    refused: dict[RepositoryName, DtrctlError] = {}
    for change in changes:
        try:
            check_supported(change.settings)
        except DtrctlError as error:
            refused[change.name] = error
    wanted = {
        c.name: c.settings.immutable
        for c in changes
        if c.settings.immutable is not None and c.name not in refused
    }
    made, _layout, interrupted = _change(harbor, wanted, True, concurrency, None)

    def one(change: SettingsChange) -> SettingsResult:
        if change.name in refused:
            return SettingsResult(str(change.name), "failed", refused[change.name])
        result = made.get(change.name)
        if result is not None and result.error is not None:
            return SettingsResult(str(change.name), "failed", result.error)
        try:  # a backend's change raises (#19): this runner makes it the item's result
            rest = harbor.apply_settings(
                replace(change, settings=replace(change.settings, immutable=None))
            )
        except DtrctlError as error:
            return SettingsResult(str(change.name), "failed", error)
        changed = rest.action == "updated" or (result is not None and result.changed)
        return SettingsResult(str(change.name), "updated" if changed else "unchanged")

    if interrupted:  # what the rule writes did, nothing more
        done = [one(c) for c in changes if c.name in made and c.settings.short_description is None]
        return BulkOutcome(done, total=len(changes), interrupted=True)
    return run_bulk(
        changes,
        one,
        concurrency=concurrency,
        on_result=on_result,
        on_abandoned=lambda change: SettingsResult(
            str(change.name), "failed", unanswered(change.name)
        ),
    )


def set_immutability_many(
    backend: Backend,
    names: Sequence[RepositoryName],
    immutable: bool,
    *,
    listed: Mapping[RepositoryName, Repository] | None = None,
    dry_run: bool = False,
    concurrency: int = 8,
    on_result: Callable[[ImmutabilityResult], None] | None = None,
) -> BulkOutcome[ImmutabilityResult]:
    """`set_immutability_bulk`, on Harbor by one plan of the rules per project."""
    harbor = harbor_of(backend)
    if harbor is None:
        return set_immutability_bulk(
            backend,
            names,
            immutable,
            listed=listed,
            dry_run=dry_run,
            concurrency=concurrency,
            on_result=on_result,
        )
    wanted = dict.fromkeys(names, immutable)
    return change_by_project(
        harbor, wanted, write=not dry_run, concurrency=concurrency, on_result=on_result
    )[0]


def apply_settings_many(
    backend: Backend,
    changes: Sequence[SettingsChange],
    *,
    concurrency: int = 8,
    on_result: Callable[[SettingsResult], None] | None = None,
) -> BulkOutcome[SettingsResult]:
    """`apply_settings_changes`, on Harbor with immutability by one plan per project."""
    harbor = harbor_of(backend)
    if harbor is None:
        return apply_settings_changes(
            backend, changes, concurrency=concurrency, on_result=on_result
        )
    return apply_settings_packed(harbor, changes, concurrency=concurrency, on_result=on_result)


def rule_packing(
    backend: Backend, changes: Sequence[SettingsChange], *, concurrency: int = 8
) -> tuple[RuleLayout, ...]:
    """How dtrctl's Harbor rules would change for `changes` (empty elsewhere): for the plan."""
    harbor = harbor_of(backend)
    wanted = {c.name: c.settings.immutable for c in changes if c.settings.immutable is not None}
    if harbor is None or not wanted:
        return ()
    return change_by_project(harbor, wanted, write=False, concurrency=concurrency)[1]
