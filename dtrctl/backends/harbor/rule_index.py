"""Harbor's evaluation of one project's rules for many repository paths, each path in time that
does not grow with the number of dtrctl's rules or their length (the packing planner evaluates
every path it touches, before and after its writes).

A rule whose first repository selector is `doublestar`/`repoMatches` with a literal path (`a/b`)
or a group of literal paths (`{a,b/c}`) selects no path it does not name, and never errors on
one: literal alternatives match only themselves. v1.1.1 splits a pattern at every `/` before
reading groups, so a group holding a `/` is a bad pattern there: on it such a rule counts only
without `/` in the group. Of the names, v1.3.4 misses a name of one component when another
alternative goes on below it (`{a,a/b}` does not match `a`: doublestar pools the leftovers of
alternatives). Harbor passes over such a rule for a path it does not select (nothing selected,
nothing stopped: `rules.repository_immutability`); for one it selects, the literal pattern of
that path selects it alike. So a path is evaluated against the other enabled rules and stand-ins
of the ones selecting it, with exactly Harbor's answer for all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from dtrctl.backends.harbor.doublestar import GLOB_VERSIONS, V1_1_1, GlobVersion
from dtrctl.backends.harbor.rules import (
    KIND_DOUBLESTAR,
    REPO_MATCHES,
    AppliedRule,
    ImmutableRule,
    Selector,
    is_repository_path,
    repository_immutability,
)

if TYPE_CHECKING:
    from dtrctl.backends.harbor.rules import Immutability

# `rules.is_repository_path` for every name of a group at once (one scan of a long pattern).
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
_GROUP_RE = re.compile(rf"\{{{_PATH}(?:,{_PATH})*\}}")


def literal_names(rule: ImmutableRule, versions: Iterable[GlobVersion]) -> frozenset[str] | None:
    """The only paths `rule` can select, none of them an error, on every version in `versions`;
    None when any path may be selected or stop Harbor."""
    if not rule.repository_selectors:
        return None
    selector = rule.repository_selectors[0]
    if (selector.kind, selector.decoration) != (KIND_DOUBLESTAR, REPO_MATCHES):
        return None
    pattern = selector.pattern
    if is_repository_path(pattern):
        return frozenset((pattern,))
    if not _GROUP_RE.fullmatch(pattern) or (V1_1_1 in versions and "/" in pattern):
        return None
    return frozenset(pattern[1:-1].split(","))


def _selected(pattern: str, path: str) -> bool:
    """Whether a literal pattern or group naming `path` selects it (v1.3.4's one quirk)."""
    if "/" in path or not pattern.startswith("{"):
        return True
    return f"{{{path}/" not in pattern and f",{path}/" not in pattern


class RuleIndex:
    """A project's rules (`rules`, in the order given) and, per path, the ones Harbor can reach."""

    def __init__(self, rules: Iterable[ImmutableRule], glob: GlobVersion | None) -> None:
        self.rules = list(rules)
        self.glob = glob
        self._versions = GLOB_VERSIONS if glob is None else (glob,)
        self._general: list[int] = []  # enabled rules that may select (or stop at) any path
        self._naming: dict[str, list[int]] = {}
        self._names: dict[int, frozenset[str] | None] = {}  # by id() of the rule
        for position, rule in enumerate(self.rules):
            if rule.disabled:
                continue  # Harbor skips it for every path
            names = self._names[id(rule)] = literal_names(rule, self._versions)
            if names is None:
                self._general.append(position)
            for name in names or ():
                self._naming.setdefault(name, []).append(position)

    def rules_for(
        self, path: str, extra: Iterable[tuple[int, ImmutableRule]] = ()
    ) -> list[ImmutableRule]:
        """The enabled rules that can select `path` or stop Harbor, in the order of `rules`, with
        each `(position, rule)` of `extra` inserted before the rule at that position: Harbor's
        evaluation of them for `path` is its evaluation of all (`extra` included)."""
        positions = sorted([*self._general, *self._naming.get(path, ())])
        chosen = [(position, 1, self.rules[position]) for position in positions]
        chosen += [(position, 0, rule) for position, rule in extra]
        return [rule for _position, _order, rule in sorted(chosen, key=lambda item: item[:2])]

    def evaluate(self, rules: Iterable[ImmutableRule], path: str) -> Immutability:
        """`repository_immutability(rules, path, glob)`, a long literal group read once."""
        stand_ins: dict[int, ImmutableRule] = {}
        cheap = []
        for rule in rules:
            known = id(rule) in self._names
            names = self._names[id(rule)] if known else literal_names(rule, self._versions)
            if rule.disabled or names is None:
                cheap.append(rule)
                continue
            pattern = rule.repository_selectors[0].pattern
            if path in names and _selected(pattern, path):
                selectors = (Selector(KIND_DOUBLESTAR, REPO_MATCHES, path),)
                stand_in = replace(rule, repository_selectors=selectors)
                stand_ins[id(stand_in)] = rule
                cheap.append(stand_in)
        result = repository_immutability(cheap, path, self.glob)
        if not stand_ins:
            return result
        applied = tuple(
            AppliedRule(stand_ins.get(id(item.rule), item.rule), item.covers)
            for item in result.applied
        )
        stopped = result.stopped_at
        return replace(result, applied=applied, stopped_at=stand_ins.get(id(stopped), stopped))

    def immutability(self, path: str) -> Immutability:
        """`repository_immutability(rules, path, glob)`."""
        return self.evaluate(self.rules_for(path), path)
