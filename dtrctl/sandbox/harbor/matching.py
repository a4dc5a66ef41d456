"""Harbor's tag immutability matching, re-implemented for the sandbox.

Doublestar globs as bmatcuk/doublestar v1.3.4 (Harbor 2.11+) behaves for the cases dtrctl meets:
`*` and `?` never cross `/`, `**` as a whole component spans any number of components, `**` inside
a component acts as `*`, `{a,b}` alternatives (which may hold `/`), `[...]` classes, `\\` escapes.
Rule evaluation follows src/pkg/immutable/match/rule/match.go: rules in id order, disabled ones
skipped, only the first repository selector and the first tag selector count, the repository
pattern is matched against the path without the project, and an error stops the evaluation
(Harbor then treats the tag as mutable).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any


class PatternError(ValueError):
    """A pattern or selector Harbor cannot use; it switches off the rules after it."""


def _closing(pattern: str, start: int, opening: str, closing: str) -> int:
    depth = 0
    index = start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise PatternError(f"syntax error in pattern {pattern!r}")


def _split_alternatives(body: str) -> list[str]:
    parts, depth, current, index = [], 0, "", 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            current += body[index : index + 2]
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    return [*parts, current]


def _class(pattern: str, start: int) -> tuple[str, int]:
    end = pattern.find("]", start + 1)
    if end < 0:
        raise PatternError(f"syntax error in pattern {pattern!r}")
    body = pattern[start + 1 : end]
    negate = body[:1] in ("^", "!")
    if negate:
        body = body[1:]
    escaped = body.replace("\\", "\\\\").replace("[", "\\[")
    return ("[^/" if negate else "[") + escaped + "]", end + 1


def _star(pattern: str, index: int, in_braces: bool) -> tuple[str, int]:
    if not pattern.startswith("**", index):
        return "[^/]*", index + 1
    after = index + 2
    whole_component = (index == 0 or pattern[index - 1] == "/") and (
        after == len(pattern) or pattern[after] == "/"
    )
    if in_braces:
        return ".*", after
    if not whole_component:
        return "[^/]*", after
    if after < len(pattern):  # `**/`: any number of leading components, even none
        return "(?:.*/)?", after + 1
    return ".*", after


def _translate(pattern: str, in_braces: bool = False) -> str:
    regex, index = "", 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            piece, index = _star(pattern, index, in_braces)
            regex += piece
            continue
        if char == "?":
            regex += "[^/]"
        elif char == "[":
            piece, index = _class(pattern, index)
            regex += piece
            continue
        elif char == "{":
            end = _closing(pattern, index, "{", "}")
            options = _split_alternatives(pattern[index + 1 : end])
            regex += "(?:" + "|".join(_translate(option, True) for option in options) + ")"
            index = end + 1
            continue
        elif char == "\\":
            if index + 1 >= len(pattern):
                raise PatternError(f"syntax error in pattern {pattern!r}")
            regex += re.escape(pattern[index + 1])
            index += 1
        else:
            regex += re.escape(char)
        index += 1
    return regex


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(_translate(pattern))
    except re.error as error:
        raise PatternError(f"syntax error in pattern {pattern!r}: {error}") from None


def doublestar_match(pattern: str, name: str) -> bool:
    """Whether `name` matches the doublestar `pattern`; an empty pattern matches everything."""
    if pattern == "":
        return True
    return _compiled(pattern).fullmatch(name) is not None


def _selects(selector: Mapping[str, Any], repository: str, tag: str | None) -> bool:
    """Whether one selector selects the candidate (`tag` None: a repository candidate)."""
    if selector.get("kind") != "doublestar":
        raise PatternError(f"unknown selector kind {selector.get('kind')!r}")
    decoration = selector.get("decoration")
    pattern = str(selector.get("pattern") or "")
    if decoration in ("repoMatches", "repoExcludes"):
        return doublestar_match(pattern, repository) == (decoration == "repoMatches")
    if decoration in ("matches", "excludes"):
        matched = tag is not None and doublestar_match(pattern, tag)
        return matched == (decoration == "matches")
    if decoration in ("nsMatches", "nsExcludes"):
        return False  # no namespace is set on Harbor's candidates
    raise PatternError(f"unknown selector decoration {decoration!r}")


def _rule_matches(rule: Mapping[str, Any], repository: str, tag: str) -> bool:
    scopes = rule.get("scope_selectors") or {}
    repository_selectors = scopes.get("repository") or []
    tag_selectors = rule.get("tag_selectors") or []
    if not repository_selectors or not tag_selectors:
        return False
    return _selects(repository_selectors[0], repository, None) and _selects(
        tag_selectors[0], repository, tag
    )


def is_immutable(rules: Iterable[Mapping[str, Any]], repository: str, tag: str) -> bool:
    """Whether `tag` of `repository` (the path without the project) is immutable under the
    project's `rules` (each with `id`, `disabled`, `scope_selectors`, `tag_selectors`)."""
    for rule in sorted(rules, key=lambda item: int(item.get("id") or 0)):
        if rule.get("disabled"):
            continue
        try:
            if _rule_matches(rule, repository, tag):
                return True
        except PatternError:
            return False  # Harbor fails open: the error ends the evaluation
    return False
