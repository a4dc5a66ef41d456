"""dtrctl's records of Harbor repositories: `dtrctl.records.repository.Repository` with the
Harbor extras (`immutability` and the rules that apply) in its JSON form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

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
        details.append(f"Harbor stops at rule {stopped.id}: {immutability.stop_reason}")
    return f"{immutability.level} ({'; '.join(details)})" if details else immutability.level


def immutability_json(immutability: Immutability, path: str) -> dict[str, Any]:
    """The Harbor extras of a repository's JSON form."""
    stopped = immutability.stopped_at
    return {
        "immutability": immutability.level,
        "immutability_summary": immutability_summary(immutability),
        "rules": [
            {**rule_json(item.rule, path), "covers": item.covers} for item in immutability.applied
        ],
        "stopped_at": (
            {**rule_json(stopped, path), "reason": immutability.stop_reason} if stopped else None
        ),
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
    }


def repository_record(
    project: str,
    path: str,
    rules: Iterable[ImmutableRule] | str,
    *,
    public: bool = False,
    found: HarborRepository | None = None,
) -> Repository:
    """dtrctl's record of a Harbor repository (one not pushed yet when `found` is None);
    `rules` is the project's rules, or why they cannot be read (immutability `unknown`)."""
    if isinstance(rules, str):
        extra, immutable = unknown_json(rules), False
    else:
        immutability = repository_immutability(rules, path)
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
