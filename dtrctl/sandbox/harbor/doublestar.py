"""bmatcuk/doublestar v1.3.4 `Match`, the glob library Harbor 2.9.5, 2.10.3 and 2.11+ link.

A line-by-line port of doublestar.go at tag v1.3.4 (commit ec92414a), written for the sandbox
so that it checks the client's matcher instead of sharing it. Like the Go code it evaluates
lazily: a malformed part of a pattern raises `BadPattern` only when matching reaches it (`x[`
fails on `x1` and simply does not match `v1`), and errors met after a `**/` are dropped, as
`doMatching` drops them (`m, _ := doMatching(...)`). Names are split into `/` components; `*`
and `?` never cross a `/`; `**` is special only as a whole component (inside one it acts as `*`);
classes are `[...]` with `^` (never `!`) for negation, where a `-` must be escaped (`[\\-x]`)
and `[-x]`, `[x-]`, `[a-b-c]` are errors.
"""

from __future__ import annotations


class BadPattern(ValueError):
    """doublestar.ErrBadPattern: the pattern is malformed where matching reached it."""


def _index_unescaped(text: str, char: str) -> int:
    """indexRuneWithEscaping: the first `char` not directly after a backslash, or -1."""
    offset = 0
    while True:
        end = text.find(char, offset)
        if end == -1 or not (end > offset and text[end - 1] == "\\"):
            return end
        offset = end + 1


def split_name(name: str) -> list[str]:
    """splitPathOnSeparator(name, '/'): the components, an empty last one for a final `/`."""
    if "/" not in name:
        return [name]
    parts: list[str] = []
    start, empty_end = 0, False
    while start < len(name):
        end = _index_unescaped(name[start:], "/")
        if end == -1:
            empty_end, end = False, len(name)
        else:
            empty_end, end = True, end + start
        parts.append(name[start:end])
        start = end + 1
    if empty_end:
        parts.append("")
    return parts


def _split_alternatives(text: str) -> tuple[list[str], int]:
    """splitAlternatives: the options of `{...}` (text starts after the `{`) and the index
    after the closing `}`; -1 when it never closes."""
    options: list[str] = []
    index, depth, escaped, start = 0, 1, False, 0
    while depth > 0:
        if index >= len(text):
            return [], -1
        char = text[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 1:
            options.append(text[start:index])
            start = index + 1
        index += 1
    options.append(text[start : index - 1])
    return options, index


def _is_zero_length(pattern: str) -> bool:
    """isZeroLengthPattern: whether the pattern could match an empty component."""
    if pattern in ("", "*", "**"):
        return True
    if pattern[:1] == "{":
        options, end = _split_alternatives(pattern[1:])
        if end == -1:
            raise BadPattern(pattern)
        if not _is_zero_length(pattern[1 + end :]):
            return False
        return any(_is_zero_length(option) for option in options)
    return False


def _class_matches(pattern: str, body: str, char: str) -> bool:
    """One `[...]` class (its `body` without brackets) against one character."""
    if not body:
        raise BadPattern(pattern)
    index = 1 if body[0] == "^" else 0
    matched = False
    while index < len(body):
        low, index = _class_rune(pattern, body, index, first=True)
        high = low
        if index < len(body) and body[index] == "-":
            index += 1
            if index >= len(body) or body[index] == "-":
                raise BadPattern(pattern)
            high, index = _class_rune(pattern, body, index, first=False)
        if low <= char <= high:
            matched = True
    return matched != (body[0] == "^")


def _class_rune(pattern: str, body: str, index: int, first: bool) -> tuple[str, int]:
    """A class member at `index` (after an escape when there is one) and the next index."""
    char = body[index]
    if first and char == "-":
        raise BadPattern(pattern)
    index += 1
    if char == "\\":
        if index >= len(body):
            raise BadPattern(pattern)
        char, index = body[index], index + 1
    return char, index


def _star(pattern: str, after: int, name: str, position: int) -> list[str] | None:
    """A `*` (or `**` inside a component): the rest of the component, at every position."""
    if after >= len(pattern):
        return []
    if pattern[after] == "/":
        return [pattern[after + 1 :]]
    for start in range(position, len(name)):
        found = match_component(pattern[after:], name[start:])
        if found is not None:
            return found
    return None


def _alternatives(pattern: str, after: int, name: str) -> list[str] | None:
    options, end = _split_alternatives(pattern[after:])
    if end == -1:
        raise BadPattern(pattern)
    rest = pattern[after + end :]
    found: list[str] | None = None
    for option in options:
        matched = match_component(option + rest, name)
        if matched is not None:
            found = [*(found or []), *matched]
    return found


def _tail(pattern: str) -> list[str] | None:
    """The name's component is used up: what remains of the pattern must be able to match
    nothing up to its next `/`."""
    slash = _index_unescaped(pattern, "/")
    head = pattern if slash < 0 else pattern[:slash]
    if not _is_zero_length(head):
        return None
    return [] if slash < 0 else [pattern[slash + 1 :]]


def match_component(pattern: str, name: str) -> list[str] | None:
    """matchComponent: None when the component `name` does not match the pattern's first
    component; else the remaining patterns for the next component ([] when none is left)."""
    p = n = 0
    while p < len(pattern) and n < len(name):
        char = pattern[p]
        if char == "/":
            p += 1
            break
        if char == "\\":
            p += 1
            if p >= len(pattern):
                raise BadPattern(pattern)
            if pattern[p] != name[n]:
                return None
            p, n = p + 1, n + 1
        elif char == "*":
            return _star(pattern, p + 1, name, n)
        elif char == "[":
            end = _index_unescaped(pattern[p + 1 :], "]")
            if end == -1:
                raise BadPattern(pattern)
            end += p + 1
            if not _class_matches(pattern, pattern[p + 1 : end], name[n]):
                return None
            p, n = end + 1, n + 1
        elif char == "{":
            return _alternatives(pattern, p + 1, name[n:])
        elif char == "?" or char == name[n]:
            p, n = p + 1, n + 1
        else:
            return None
    if n < len(name):
        return None
    return [] if p >= len(pattern) else _tail(pattern[p:])


def match_components(pattern: str, names: list[str]) -> bool:
    """doMatching: whether the pattern matches the name components."""
    if not pattern and not names:
        return True
    if not pattern and len(names) == 1 and names[0] == "":
        return True
    slash = _index_unescaped(pattern, "/")
    last = slash == -1
    if last:
        slash = len(pattern)
    if pattern[:slash] == "**":
        if last:
            return True
        for start in range(len(names)):
            try:
                if match_components(pattern[slash + 1 :], names[start:]):
                    return True
            except BadPattern:
                continue  # doublestar drops the error here and tries the next component
        return False
    rests = match_component(pattern, names[0])
    if rests is None:
        return False
    if not rests and len(names) == 1:
        return True
    if len(names) > 1:
        return any(match_components(rest, names[1:]) for rest in rests)
    return False


def match(pattern: str, name: str) -> bool:
    """doublestar.Match(pattern, name); raises BadPattern where the pattern is malformed."""
    return match_components(pattern, split_name(name))
