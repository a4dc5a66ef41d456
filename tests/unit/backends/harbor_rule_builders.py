"""Harbor rules as the packing tests build them: dtrctl's own single-repository rule, its packed
rule, and a rule someone else wrote."""

from __future__ import annotations

from dataclasses import replace

from dtrctl.backends.harbor.packing import packed_rule
from dtrctl.backends.harbor.rules import ImmutableRule, Selector, canonical_rule


def own(rule_id: int, path: str, *, disabled: bool = False) -> ImmutableRule:
    return replace(canonical_rule(path), id=rule_id, disabled=disabled)


def packed(rule_id: int, *names: str, disabled: bool = False) -> ImmutableRule:
    return replace(packed_rule(names, rule_id), disabled=disabled)


def foreign(rule_id: int, repository: str, tags: str = "**") -> ImmutableRule:
    return replace(
        canonical_rule("x"),
        id=rule_id,
        repository_selectors=(Selector("doublestar", "repoMatches", repository),),
        tag_selectors=(Selector("doublestar", "matches", tags),),
    )
