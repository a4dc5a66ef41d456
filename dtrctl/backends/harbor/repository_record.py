"""dtrctl's records of Harbor repositories: `dtrctl.records.repository.Repository` with the
Harbor extras (`immutability` and the rules that apply) in its JSON form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dtrctl.backends.harbor.doublestar import V1_3_4, GlobVersion
from dtrctl.backends.harbor.rules import (
    Immutability,
    ImmutableRule,
    is_canonical_for,
    repository_immutability,
)
from dtrctl.records.repository import Repository

if TYPE_CHECKING:
    from dtrctl.backends.harbor.wire import HarborRepository


def rule_json(rule: ImmutableRule, path: str) -> dict[str, Any]:
    return {
        "id": rule.id,
        "description": rule.describe(),
        "disabled": rule.disabled,
        "dtrctl": is_canonical_for(rule, path),
    }


def immutability_json(immutability: Immutability, path: str) -> dict[str, Any]:
    """The Harbor extras of a repository's JSON form."""
    stopped = immutability.stopped_at
    stop = {"reason": immutability.stop_reason, "some_tags": immutability.stops_some_tags}
    return {
        "immutability": immutability.level,
        "rules": [
            {**rule_json(item.rule, path), "covers": item.covers} for item in immutability.applied
        ],
        "stopped_at": ({**rule_json(stopped, path), **stop} if stopped else None),
        "versions_differ": immutability.versions_differ,
    }


def repository_record(
    project: str,
    path: str,
    rules: Iterable[ImmutableRule],
    *,
    public: bool = False,
    found: HarborRepository | None = None,
    glob: GlobVersion | None = V1_3_4,
) -> Repository:
    """dtrctl's record of a Harbor repository (one not pushed yet when `found` is None);
    `glob`: the server's doublestar version, None when unknown."""
    immutability = repository_immutability(rules, path, glob)
    return Repository(
        namespace=project,
        name=path,
        immutable=immutability.immutable,
        visibility="public" if public else "private",
        short_description=found.description if found else "",
        namespace_type="project",
        pulls=found.pull_count if found else 0,
        extra_json=immutability_json(immutability, path),
    )
