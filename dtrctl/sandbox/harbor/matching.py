"""Harbor's tag immutability matching, ported for the sandbox from Harbor's own code.

Rule evaluation is src/pkg/immutable/match/rule/match.go: one candidate (the repository path
without the project, and its tags: one tag when Harbor asks about a tag) against the project's
rules in id order, disabled ones skipped, only the first repository selector and the first tag
selector of a rule counting, a rule without either skipped. The first rule that selects the
candidate makes it immutable. Any error (a selector Harbor cannot build, a pattern that is
malformed where matching reaches it) ends the evaluation: Harbor then leaves the tag mutable and
reads no later rule, for this candidate only.

Selectors are src/lib/selector/selectors/doublestar/selector.go and index/index.go: the kind must
be `doublestar` and the decoration one of six. A decoration acts on what it names wherever it
sits: `matches`/`excludes` test the candidate's tags even in the repository slot, `repoMatches`/
`repoExcludes` test the repository even in the tag slot, and `nsMatches`/`nsExcludes` never
select (Harbor sets no namespace on these candidates). An empty pattern matches everything.
Globs are doublestar v1.3.4 (`dtrctl.sandbox.harbor.doublestar`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dtrctl.sandbox.harbor import doublestar

KIND = "doublestar"
DECORATIONS = ("matches", "excludes", "repoMatches", "repoExcludes", "nsMatches", "nsExcludes")


class PatternError(ValueError):
    """A selector Harbor cannot build or a pattern it cannot match: it ends the evaluation."""


@dataclass(frozen=True)
class Candidate:
    """What Harbor matches: `repository` without the project; no tags means untagged."""

    repository: str
    tags: tuple[str, ...] = ()
    namespace: str = ""


def doublestar_match(pattern: str, name: str) -> bool:
    """Harbor's `match`: an empty pattern matches everything, else doublestar.Match."""
    if pattern == "":
        return True
    try:
        return doublestar.match(pattern, name)
    except doublestar.BadPattern:
        raise PatternError(f"syntax error in pattern {pattern!r}") from None


@dataclass(frozen=True)
class Selector:
    decoration: str
    pattern: str
    untagged: bool

    def selects(self, candidate: Candidate) -> bool:
        """Select() on a single candidate."""
        if self.decoration == "matches":
            if not candidate.tags:
                return self.untagged
            return any(doublestar_match(self.pattern, tag) for tag in candidate.tags)
        if self.decoration == "excludes":
            if not candidate.tags:
                return not self.untagged
            return any(not doublestar_match(self.pattern, tag) for tag in candidate.tags)
        repository = self.decoration.startswith("repo")
        value = candidate.repository if repository else candidate.namespace
        if not value:
            return False
        return doublestar_match(self.pattern, value) != self.decoration.endswith("Excludes")


def _text(selector: Mapping[str, Any], key: str) -> str:
    value = selector.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PatternError(f"selector {key} {value!r} is not a string")
    return value


def build_selector(raw: Any, untagged: bool | None = None) -> Selector:
    """index.Get and doublestar.New: `untagged` None when no extras are given (the
    repository slot), where it defaults to true except for `excludes`."""
    if not isinstance(raw, Mapping):
        raise PatternError(f"a selector must be an object, got {raw!r}")
    kind, decoration = _text(raw, "kind"), _text(raw, "decoration")
    if not kind or not decoration:
        raise PatternError("empty selector kind or decoration")
    if kind != KIND:
        raise PatternError(f"selector {kind} is not registered")
    if decoration not in DECORATIONS:
        raise PatternError(f"decoration {decoration} of selector {kind} is not supported")
    if untagged is None:
        untagged = decoration != "excludes"
    return Selector(decoration, _text(raw, "pattern"), untagged)


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def rule_selects(rule: Mapping[str, Any], candidate: Candidate) -> bool:
    """Whether one enabled rule selects the candidate; PatternError where Harbor errors."""
    scopes = rule.get("scope_selectors")
    if scopes is not None and not isinstance(scopes, Mapping):
        raise PatternError("scope_selectors must be an object")
    repository_selector = _first((scopes or {}).get("repository"))
    if repository_selector is None:
        return False
    if not build_selector(repository_selector).selects(candidate):
        return False
    tag_selector = _first(rule.get("tag_selectors"))
    if tag_selector is None:
        return False
    # match.go's extras: `excludes` keeps untagged artifacts, every other decoration drops them.
    excludes = isinstance(tag_selector, Mapping) and tag_selector.get("decoration") == "excludes"
    return build_selector(tag_selector, untagged=excludes).selects(candidate)


def matching_rule(rules: Iterable[Mapping[str, Any]], candidate: Candidate) -> int | None:
    """The id of the rule that makes the candidate immutable, or None (also after an error)."""
    for rule in sorted(rules, key=lambda item: int(item.get("id") or 0)):
        if rule.get("disabled"):
            continue
        try:
            if rule_selects(rule, candidate):
                return int(rule.get("id") or 0)
        except PatternError:
            return None  # Harbor fails open: the error ends the evaluation
    return None


def is_immutable(rules: Iterable[Mapping[str, Any]], repository: str, tag: str | None) -> bool:
    """Whether `tag` of `repository` (the path without the project) is immutable under the
    project's `rules` (each with `id`, `disabled`, `scope_selectors`, `tag_selectors`);
    `tag` None asks about an untagged artifact."""
    candidate = Candidate(repository, (tag,) if tag is not None else ())
    return matching_rule(rules, candidate) is not None
