"""Pattern entries of a policy (`match = "*/release-*"`) and the repositories no entry covers.

A repository named exactly follows its own entry. Any other listed repository follows the
first `match` entry (in file order) that matches it; pattern entries never create
repositories. `--report-unmanaged` lists what neither covers. Only what the patterns need is
listed (one namespace for `engineering/release-*`), everything for the unmanaged report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from dtrctl.errors import NotFound
from dtrctl.records.repository import Repository
from dtrctl.reference import RepositoryName
from dtrctl.repos.bulk import RepositoryLister
from dtrctl.repos.policy import PatternEntry, Policy, PolicyEntry
from dtrctl.repos.selection import EVERY_REPOSITORY, parse_pattern


@dataclass(frozen=True)
class Coverage:
    """The policy with its pattern entries expanded to the repositories they match."""

    policy: Policy
    # The listing's view of the repositories the pattern entries cover.
    listed: dict[RepositoryName, Repository] = field(default_factory=dict)
    # Listed repositories no entry covers (only with `report_unmanaged`), sorted.
    unmanaged: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def cover(lister: RepositoryLister, policy: Policy, *, report_unmanaged: bool) -> Coverage:
    """List what the pattern entries (and the unmanaged report) need, and expand them."""
    if not policy.patterns and not report_unmanaged:
        return Coverage(policy)
    warnings: list[str] = []
    listed = list(_listing(lister, policy, report_unmanaged, warnings))
    return expand(policy, listed, report_unmanaged=report_unmanaged, warnings=warnings)


def expand(
    policy: Policy,
    listed: Iterable[Repository],
    *,
    report_unmanaged: bool,
    warnings: Iterable[str] = (),
) -> Coverage:
    """Pure: entries for the listed repositories the patterns cover, and the unmanaged ones."""
    exact = {entry.name for entry in policy.entries}
    expanded: list[PolicyEntry] = []
    covered: dict[RepositoryName, Repository] = {}
    hits = [0] * len(policy.patterns)
    unmanaged: list[str] = []
    for repository in listed:
        name = RepositoryName(repository.namespace, repository.name)
        if name in exact or name in covered:
            continue
        index = first_match(policy.patterns, name)
        if index is None:
            unmanaged.append(str(name))
            continue
        hits[index] += 1
        entry = policy.patterns[index]
        covered[name] = repository
        expanded.append(PolicyEntry(name, entry.settings, entry.line))
    unmatched = [
        f"match {entry.pattern.text!r} matched no repository"
        for entry, count in zip(policy.patterns, hits, strict=True)
        if not count
    ]
    return Coverage(
        replace(policy, entries=(*policy.entries, *expanded)),
        covered,
        tuple(sorted(unmanaged)) if report_unmanaged else (),
        (*warnings, *unmatched),
    )


def first_match(patterns: Sequence[PatternEntry], name: RepositoryName) -> int | None:
    """The index of the first pattern entry that matches `name`."""
    return next(
        (
            index
            for index, entry in enumerate(patterns)
            if entry.pattern.matches(name.namespace, name.name)
        ),
        None,
    )


def _listing(
    lister: RepositoryLister, policy: Policy, everything: bool, warnings: list[str]
) -> Iterator[Repository]:
    patterns = [parse_pattern(EVERY_REPOSITORY)] if everything else []
    patterns += [entry.pattern for entry in policy.patterns]
    namespaces = [pattern.literal_namespace for pattern in patterns]
    scopes: tuple[str | None, ...] = (
        (None,) if None in namespaces else tuple(dict.fromkeys(namespaces))
    )
    for scope in scopes:
        try:
            yield from lister.list_repositories(scope)
        except NotFound:
            if scope is None:
                raise
            # A pattern over a namespace that does not exist matches nothing: not an error.
            warnings.append(f"namespace {scope} does not exist")
