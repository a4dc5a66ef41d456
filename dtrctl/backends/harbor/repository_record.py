"""dtrctl's records of Harbor repositories: `dtrctl.records.repository.Repository` with the
Harbor extras (`immutability` and the rules that apply) in its JSON form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dtrctl.backends.harbor.doublestar import V1_3_4, GlobVersion
from dtrctl.backends.harbor.rules import (
    TAG_DECORATIONS,
    TAG_EXCLUDES,
    AppliedRule,
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


def _tags_of(item: AppliedRule) -> str:
    """Which tags a rule makes immutable, in a few words: `v*`, `all but latest`."""
    rule = item.rule
    selector = rule.tag_selectors[0] if rule.tag_selectors else None
    if selector is None or selector.decoration not in TAG_DECORATIONS:
        return rule.describe()
    if selector.decoration == TAG_EXCLUDES:
        return f"all but {selector.pattern}"
    return selector.pattern or "**"


def applied_summary(immutability: Immutability) -> str:
    """`v* by rule 4; 1.* by rule 6`: the rules that make tags immutable, each with its tags."""
    return "; ".join(f"{_tags_of(item)} by rule {item.rule.id}" for item in immutability.applied)


def immutability_summary(immutability: Immutability) -> str:
    """The level in words, for text output: `all (by rule 1)`, `some (v* by rule 4)`, `none`,
    each with where Harbor stops evaluating when a broken rule ends it."""
    if immutability.level == "all":
        covering = next(item for item in immutability.applied if item.covers == "all")
        details = [f"by rule {covering.rule.id}"]
    elif immutability.level == "some":
        details = [applied_summary(immutability)]
    else:
        details = []
    stopped = immutability.stopped_at
    if stopped is not None:
        which = " for the tags its pattern fails on" if immutability.stops_some_tags else ""
        details.append(f"Harbor stops at rule {stopped.id}{which}: {immutability.stop_reason}")
    if immutability.versions_differ:
        details.append("Harbor versions differ here: the lesser is shown")
    return f"{immutability.level} ({'; '.join(details)})" if details else immutability.level


def immutability_json(immutability: Immutability, path: str) -> dict[str, Any]:
    """The Harbor extras of a repository's JSON form."""
    stopped = immutability.stopped_at
    stop = {"reason": immutability.stop_reason, "some_tags": immutability.stops_some_tags}
    return {
        "immutability": immutability.level,
        "immutability_summary": immutability_summary(immutability),
        "rules": [
            {**rule_json(item.rule, path), "covers": item.covers} for item in immutability.applied
        ],
        "stopped_at": ({**rule_json(stopped, path), **stop} if stopped else None),
        "versions_differ": immutability.versions_differ,
    }


def unknown_json(why: str) -> dict[str, Any]:
    """The Harbor extras when the project's rules cannot be read: `immutable` is null."""
    return {
        "immutable": None,
        "immutability": "unknown",
        "immutability_summary": "unknown",
        "immutability_note": why,
        "rules": [],
        "stopped_at": None,
        "versions_differ": None,
    }


def repository_record(
    project: str,
    path: str,
    rules: Iterable[ImmutableRule] | str,
    *,
    public: bool = False,
    found: HarborRepository | None = None,
    glob: GlobVersion | None = V1_3_4,
) -> Repository:
    """dtrctl's record of a Harbor repository (one not pushed yet when `found` is None);
    `rules` is the project's rules, or why they cannot be read (immutability `unknown`);
    `glob`: the server's doublestar version, None when unknown."""
    if isinstance(rules, str):
        extra, immutable = unknown_json(rules), False
    else:
        immutability = repository_immutability(rules, path, glob)
        extra, immutable = immutability_json(immutability, path), immutability.immutable
    return Repository(
        namespace=project,
        name=path,
        immutable=immutable,
        visibility="public" if public else "private",
        short_description=found.description if found else "",
        namespace_type="project",
        pulls=found.pull_count if found else 0,
        extra_json=extra,
    )
