"""bmatcuk/doublestar's `Match` as Harbor links it, v1.3.4 and v1.1.1, reproduced in Python.

Harbor's immutability rules match repository paths and tags with it, so dtrctl must match the same
way, quirks included: a bad pattern errors only where the scan reaches it (the same pattern can
match one name and error on another), `**` spans path components only as a whole component, and
classes know `^` but not `!` as negation. Which version a server uses depends on its release
(`glob_version_for`): v1.1.1 splits the pattern at every `/` first, so an alternative containing
`/` is a bad pattern; it drops an empty last alternative, never matches alternatives once the name
is used up, and ignores errors after a `*`. `version_dependent` says where the two may disagree.
"""

from __future__ import annotations

import re
from contextlib import suppress
from functools import lru_cache
from typing import Literal

GlobVersion = Literal["1.1.1", "1.3.4"]
V1_1_1: GlobVersion = "1.1.1"
V1_3_4: GlobVersion = "1.3.4"
GLOB_VERSIONS: tuple[GlobVersion, ...] = (V1_1_1, V1_3_4)


class PatternError(ValueError):
    """A glob doublestar rejects (its ErrBadPattern): Harbor stops evaluating rules at it."""


# As in doublestar.go of v1.3.4: the name is split at '/' and matched component by component; a
# pattern component that is exactly `**` spans zero or more of them; any other is matched by a
# scanner that returns the pattern left over for the next name component.


def _find_unescaped(text: str, char: str, start: int = 0) -> int:
    # indexRuneWithEscaping: skips a hit right after a backslash, but never the hit at `start`.
    index = text.find(char, start)
    while index > start and text[index - 1] == "\\":
        start = index + 1
        index = text.find(char, start)
    return index


def _split_alternatives(pattern: str, start: int) -> tuple[list[str], int]:
    """The options of the `{...}` whose body starts at `start`, and the index after its `}`."""
    options: list[str] = []
    depth, escaped, option_start, index = 1, False, start, start
    while depth:
        if index >= len(pattern):
            raise PatternError("a '{' is never closed")
        char = pattern[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "{}":
            depth += 1 if char == "{" else -1
        elif char == "," and depth == 1:
            options.append(pattern[option_start:index])
            option_start = index + 1
        index += 1
    options.append(pattern[option_start : index - 1])
    return options, index


def _class_char(body: str, index: int) -> tuple[str, int]:
    char = body[index]
    if char == "-":
        raise PatternError(
            "a '-' in a character class is neither escaped nor between two characters"
        )
    if char != "\\":
        return char, index + 1
    if index + 1 >= len(body):
        raise PatternError("a character class ends in an escape")
    return body[index + 1], index + 2


def _class_matches(body: str, char: str) -> bool:
    """Whether `char` is in `[body]`; the whole class is parsed first, as doublestar does."""
    if not body:
        raise PatternError("a character class '[]' is empty")
    negated = body[0] == "^"
    index, found = int(negated), False
    while index < len(body):
        low, index = _class_char(body, index)
        high = low
        if index < len(body) and body[index] == "-":
            if index + 1 >= len(body):
                raise PatternError("a range in a character class has no end")
            high, index = _class_char(body, index + 1)
        found = found or low <= char <= high
    return found != negated  # `[^]` matches any character, as in doublestar


def _can_be_empty(pattern: str) -> bool:
    # isZeroLengthPattern: deliberately narrow (`***` cannot match nothing, `{,x}` can).
    if pattern in ("", "*", "**"):
        return True
    if not pattern.startswith("{"):
        return False
    options, end = _split_alternatives(pattern, 1)
    return _can_be_empty(pattern[end:]) and any(_can_be_empty(option) for option in options)


def _escape_target(pattern: str, index: int) -> str:
    # Go reads a missing rune as utf8.RuneError (U+FFFD), so escaping a literal U+FFFD errors too.
    if index + 1 >= len(pattern) or pattern[index + 1] == "\ufffd":
        raise PatternError("it ends in an unfinished escape '\\'")
    return pattern[index + 1]


@lru_cache(maxsize=4096)
def _match_component(pattern: str, name: str) -> tuple[str, ...] | None:
    """Match one name component against the start of `pattern`.

    None: no match. Otherwise the patterns left for the next component, `()` when the pattern
    ended here. Alternatives pool their leftovers, so one option ending here is lost when another
    needs more components: `{**/x,**/y}` does not match `y` (it matches `n/y`), as in v1.3.4.
    """
    p, n = 0, 0
    while p < len(pattern) and n < len(name):
        char = pattern[p]
        if char == "/":
            return None
        if char == "\\":
            if _escape_target(pattern, p) != name[n]:
                return None
            p, n = p + 2, n + 1
        elif char == "*":
            p += 1
            if p >= len(pattern):
                return ()
            if pattern[p] == "/":
                return (pattern[p + 1 :],)
            # Only non-empty rests of the name are tried, as in v1.3.4.
            for start in range(n, len(name)):
                found = _match_component(pattern[p:], name[start:])
                if found is not None:
                    return found
            return None
        elif char == "[":
            end = _find_unescaped(pattern, "]", p + 1)
            if end < 0:
                raise PatternError("a '[' is never closed")
            if not _class_matches(pattern[p + 1 : end], name[n]):
                return None
            p, n = end + 1, n + 1
        elif char == "{":
            options, end = _split_alternatives(pattern, p + 1)
            results = [_match_component(option + pattern[end:], name[n:]) for option in options]
            matched = [rest for result in results if result is not None for rest in result]
            return tuple(matched) if any(result is not None for result in results) else None
        elif char in ("?", name[n]):
            p, n = p + 1, n + 1
        else:
            return None
    if n < len(name):
        return None
    if p >= len(pattern):
        return ()
    slash = _find_unescaped(pattern, "/", p)
    if not _can_be_empty(pattern[p:] if slash < 0 else pattern[p:slash]):
        return None
    return () if slash < 0 else (pattern[slash + 1 :],)


@lru_cache(maxsize=4096)
def _match_path(pattern: str, components: tuple[str, ...]) -> bool:
    if not pattern:
        return components == ("",)
    slash = _find_unescaped(pattern, "/")
    if (pattern if slash < 0 else pattern[:slash]) == "**":
        if slash < 0:
            return True
        for start in range(len(components)):
            # v1.3.4 ignores errors here (`m, _ := doMatching(...)`): `**/[` matches nothing.
            with suppress(PatternError):
                if _match_path(pattern[slash + 1 :], components[start:]):
                    return True
        return False
    rests = _match_component(pattern, components[0])
    if rests is None:
        return False
    if len(components) == 1:
        return not rests
    return any(_match_path(rest, components[1:]) for rest in rests)


def _split_name(name: str) -> tuple[str, ...]:
    parts, start = [], 0
    while (slash := _find_unescaped(name, "/", start)) >= 0:
        parts.append(name[start:slash])
        start = slash + 1
    return (*parts, name[start:])


def doublestar_match(pattern: str, name: str, version: GlobVersion = V1_3_4) -> bool:
    """`doublestar.Match(pattern, name)` of `version`; PatternError where it returns
    ErrBadPattern. Unlike Harbor's selector, an empty pattern matches only the empty name here.
    """
    try:
        if version == V1_1_1:
            return _match_v111(pattern, name)
        return _match_path(pattern, _split_name(name))
    except PatternError as error:
        raise PatternError(f"pattern {pattern!r} is malformed: {error}") from None
    except RecursionError:
        raise PatternError(f"pattern {pattern!r} is nested too deeply to evaluate") from None


@lru_cache(maxsize=4096)
def _check_syntax(pattern: str) -> None:
    may_end_here = False  # whether a name component may be used up before this point
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "{":
            if may_end_here:  # the name ended: doublestar parses the rest up to the next '/'
                slash = _find_unescaped(pattern, "/", index)
                _can_be_empty(pattern[index:] if slash < 0 else pattern[index:slash])
            options, end = _split_alternatives(pattern, index + 1)
            for option in options:
                _check_syntax(option + pattern[end:])
            return
        if char == "\\":
            _escape_target(pattern, index)
            index += 2
        elif char == "[":
            end = _find_unescaped(pattern, "]", index + 1)
            if end < 0:
                raise PatternError("a '[' is never closed")
            _class_matches(pattern[index + 1 : end], "")
            index = end + 1
        else:
            index += 1
        may_end_here = char not in "*/"


def check_pattern(pattern: str, version: GlobVersion = V1_3_4) -> None:
    """Raise PatternError if doublestar `version` can reject `pattern` for some name.

    Covers every error doublestar_match can raise for names without empty components (every
    repository path and tag); also flags patterns whose errors doublestar swallows (`**/[`).
    """
    try:
        if version == V1_1_1:
            _check_syntax_v111(pattern)
        else:
            _check_syntax(pattern)
    except PatternError as error:
        raise PatternError(f"pattern {pattern!r} is malformed: {error}") from None
    except RecursionError:
        raise PatternError(f"pattern {pattern!r} is nested too deeply to evaluate") from None


# --- v1.1.1 (Harbor 2.0.0-2.9.4 and 2.10.0-2.10.2): doublestar.go at tag v1.1.1 -----------------


def _split_v111(path: str, separator: str) -> tuple[str, ...]:
    # splitPathOnSeparator of v1.1.1: escapes respected, and a separator at the very end leaves
    # no empty last part (`a/` is `a`, `{a,}` has the one alternative `a`).
    if separator not in path:
        return (path,)
    parts, start = [], 0
    while start < len(path):
        end = _find_unescaped(path, separator, start)
        end = len(path) if end < 0 else end
        parts.append(path[start:end])
        start = end + 1
    return tuple(parts)


def _match_v111(pattern: str, name: str) -> bool:
    return _match_components_v111(_split_v111(pattern, "/"), _split_v111(name, "/"))


def _match_components_v111(patterns: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """doMatching of v1.1.1: the pattern was split at every `/`, alternatives or not."""
    if not patterns or not names:
        return not patterns and not names
    p = n = 0
    while p < len(patterns) and n < len(names):
        if patterns[p] == "**":
            if p + 1 >= len(patterns):
                return True
            for start in range(n, len(names)):
                with suppress(PatternError):  # `m, _ := doMatching(...)`: errors ignored
                    if _match_components_v111(patterns[p + 1 :], names[start:]):
                        return True
            return False
        if not _component_v111(patterns[p], names[n]):
            return False
        p, n = p + 1, n + 1
    return p >= len(patterns) and n >= len(names)


@lru_cache(maxsize=4096)
def _component_v111(pattern: str, name: str) -> bool:
    """matchComponent of v1.1.1 on one name component."""
    if not pattern or not name:
        return pattern == name or (not name and pattern == "*")
    p, n = 0, 0
    while p < len(pattern) and n < len(name):
        char = pattern[p]
        if char == "\\":
            if _escape_target(pattern, p) != name[n]:
                return False
            p, n = p + 2, n + 1
        elif char == "*":
            if p + 1 >= len(pattern):
                return True
            for start in range(n, len(name)):
                with suppress(PatternError):  # v1.1.1 ignores errors after a star
                    if _component_v111(pattern[p + 1 :], name[start:]):
                        return True
            return False
        elif char == "[":
            end = _find_unescaped(pattern, "]", p + 1)
            if end < 0:
                raise PatternError("a '[' is never closed")
            if not _class_matches(pattern[p + 1 : end], name[n]):
                return False
            p, n = end + 1, n + 1
        elif char == "{":
            return _alternatives_v111(pattern, p, name[n:])
        elif char in ("?", name[n]):
            p, n = p + 1, n + 1
        else:
            return False
    if p >= len(pattern) and n >= len(name):
        return True
    return pattern[p:] in ("*", "**")  # the name is used up: alternatives are never tried


def _alternatives_v111(pattern: str, start: int, name: str) -> bool:
    # The first unescaped '}' closes the group (no nesting); the first match or error decides.
    end = _find_unescaped(pattern, "}", start + 1)
    if end < 0:
        raise PatternError("a '{' is never closed before the next '/'")
    rest = pattern[end + 1 :]
    return any(
        _component_v111(option + rest, name)
        for option in _split_v111(pattern[start + 1 : end], ",")
    )


@lru_cache(maxsize=4096)
def _check_component_v111(component: str) -> None:
    index = 0
    while index < len(component):
        char = component[index]
        if char == "\\":
            _escape_target(component, index)
            index += 2
        elif char == "[":
            end = _find_unescaped(component, "]", index + 1)
            if end < 0:
                raise PatternError("a '[' is never closed before the next '/'")
            _class_matches(component[index + 1 : end], "")
            index = end + 1
        elif char == "{":
            end = _find_unescaped(component, "}", index + 1)
            if end < 0:
                raise PatternError("a '{' is never closed before the next '/'")
            for option in _split_v111(component[index + 1 : end], ","):
                _check_component_v111(option + component[end + 1 :])
            return
        else:
            index += 1


def _check_syntax_v111(pattern: str) -> None:
    for component in _split_v111(pattern, "/"):
        _check_component_v111(component)


# --- Which version, and where the two disagree ---------------------------------------------------

_HARBOR_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
# An alternative both versions read alike: plain text, neither empty nor able to match nothing.
_PLAIN_ALTERNATIVES_RE = re.compile(
    r"\{(?=[^,}]*[^*,}])[A-Za-z0-9._?*-]+(?:,(?=[^,}]*[^*,}])[A-Za-z0-9._?*-]+)*\}"
)


def glob_version_for(harbor_version: str | None) -> GlobVersion | None:
    """The doublestar a Harbor release links (each release tag's src/go.mod); None: unknown.

    v1.1.1 in 2.0.0-2.9.4 and 2.10.0-2.10.2; v1.3.4 in 2.9.5+, 2.10.3+ and 2.11+ (#19698).
    """
    found = _HARBOR_VERSION_RE.match((harbor_version or "").strip())
    if not found:
        return None
    release = tuple(int(part) for part in found.groups())
    if release < (2, 0, 0):
        return None  # older than every release dtrctl knows the go.mod of
    if release >= (2, 10, 3) or (2, 9, 5) <= release < (2, 10, 0):
        return V1_3_4
    return V1_1_1


def version_dependent(pattern: str) -> bool:
    """Whether v1.1.1 and v1.3.4 may answer differently (a match, no match or an error) for
    some name without empty components. Never False where they can differ; True also for some
    patterns that only look risky (any group of alternatives that is not plain text).
    """
    if pattern.endswith("/"):
        return True  # v1.1.1 drops the empty last component
    if "{" in _PLAIN_ALTERNATIVES_RE.sub("", pattern):
        return True
    for index, char in enumerate(pattern):
        if char == "[":
            end = _find_unescaped(pattern, "]", index + 1)
            if end > 0 and "/" in pattern[index:end]:
                return True  # v1.3.4 reads a class across '/', v1.1.1 splits it first
    for component in _split_v111(pattern, "/"):
        star = component.find("*")
        if star >= 0:
            try:  # after a star, v1.1.1 ignores errors that v1.3.4 reports
                _check_syntax(component[star + 1 :])
            except (PatternError, RecursionError):
                return True
    return False
