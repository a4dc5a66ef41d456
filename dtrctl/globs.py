"""Globs a user writes (`--map`, selections, policy `match`, `--protect`), matched without
backtracking: one matcher for all of them.

A regex translation backtracks: `*a*a*a*a*a*a*a*b` against a 60-character name takes minutes.
This matcher walks name and pattern once, going back only to the latest `*` (the classic
two-pointer algorithm), so a match costs at most len(name) × len(pattern) steps.

Syntax: `*` matches any text, `?` one character, `[...]` one character of a set (`[a-z0-9]`,
`[!...]` negated; `]` first is literal; an unclosed `[` is literal), as `fnmatch` reads them;
with `classes=False` (`--map`), `[` and `]` are plain characters. With `separator="/"`
(`--map`), no wildcard matches `/`: pattern and name are matched part by part between their
`/`, so `*/*` means "namespace/name"; without one (selections, whose names may nest on Harbor,
and tags) `*` matches any text, as in fnmatch. Case matters. `captures` gives the text each `*`
and `?` matched, the earlier ones as long as possible (what a backtracking regex would give).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class _Star:
    pass


@dataclass(frozen=True)
class _Char:
    """One character: a literal (`chars` of one), `?` (`any_char`), or a set."""

    chars: frozenset[str] = frozenset()
    ranges: tuple[tuple[str, str], ...] = ()
    negated: bool = False
    any_char: bool = False

    def accepts(self, char: str) -> bool:
        if self.any_char:
            return True
        inside = char in self.chars or any(low <= char <= high for low, high in self.ranges)
        return inside != self.negated

    @property
    def is_wildcard(self) -> bool:
        return self.any_char


_Token = _Star | _Char
_STAR = _Star()
_ANY = _Char(any_char=True)


@dataclass(frozen=True)
class Glob:
    """A compiled glob: `matches(name)`, `captures(name)`."""

    text: str
    # The pattern split at the separator: each part matches one part of a name.
    parts: tuple[tuple[_Token, ...], ...]
    separator: str | None = None

    @property
    def wildcards(self) -> int:
        """How many `*` and `?` the pattern holds (numbered 1.. in `captures`)."""
        return sum(_is_capturing(token) for part in self.parts for token in part)

    def matches(self, name: str) -> bool:
        return self.captures(name) is not None

    def captures(self, name: str) -> tuple[str, ...] | None:
        """The text of each `*` and `?` in pattern order, or None when `name` does not match."""
        segments = name.split(self.separator) if self.separator else [name]
        if len(segments) != len(self.parts):
            return None
        found: list[str] = []
        for tokens, segment in zip(self.parts, segments, strict=True):
            spans = _match_segment(tokens, segment)
            if spans is None:
                return None
            found += [segment[start:end] for start, end in spans]
        return tuple(found)


def _is_capturing(token: _Token) -> bool:
    return isinstance(token, _Star) or token.is_wildcard


@lru_cache(maxsize=4096)
def compile_glob(text: str, *, classes: bool = True, separator: str | None = None) -> Glob:
    """The glob `text`; `classes=False` reads `[` and `]` as plain characters; wildcards never
    match `separator`."""
    parts: list[tuple[_Token, ...]] = []
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if char == separator:
            parts.append(tuple(tokens))
            tokens = []
        elif char == "*":
            tokens.append(_STAR)
        elif char == "?":
            tokens.append(_ANY)
        elif char == "[" and classes:
            token, index = _parse_set(text, index)
            tokens.append(token)
        else:
            tokens.append(_Char(frozenset(char)))
    parts.append(tuple(tokens))
    return Glob(text, tuple(parts), separator)


def glob_matches(pattern: str, name: str) -> bool:
    """Whether `name` matches the glob `pattern`, as `fnmatch.fnmatchcase` says."""
    return compile_glob(pattern).matches(name)


def _parse_set(text: str, start: int) -> tuple[_Char, int]:
    """The set whose `[` ends just before `start`, and the index after its `]`; an unclosed
    `[` is a literal `[`."""
    index = start
    negated = index < len(text) and text[index] == "!"
    index += negated
    end = text.find("]", index + 1 if index < len(text) and text[index] == "]" else index)
    if end < 0:
        return _Char(frozenset("[")), start
    body = text[index:end]
    chars: set[str] = set()
    ranges: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        if position + 2 < len(body) and body[position + 1] == "-":
            ranges.append((body[position], body[position + 2]))
            position += 3
        else:
            chars.add(body[position])
            position += 1
    return _Char(frozenset(chars), tuple(ranges), negated), end + 1


def _match_segment(tokens: tuple[_Token, ...], segment: str) -> list[tuple[int, int]] | None:
    """Spans of the capturing tokens when `segment` matches, the earlier `*` longest.

    The two-pointer walk places each run between stars as early as it fits (each `*` as short
    as possible); run on the reversed pattern and text, that is each `*` as long as possible
    from the left, as a backtracking regex would choose.
    """
    reversed_tokens = tokens[::-1]
    starts = _walk(reversed_tokens, segment[::-1])
    if starts is None:
        return None
    if not starts:
        return []
    length = len(segment)
    ends = [*starts[1:], length]
    spans = []
    for token, start, end in zip(reversed_tokens, starts, ends, strict=True):
        if _is_capturing(token):
            spans.append((length - end, length - start))
    return spans[::-1]


def _walk(tokens: tuple[_Token, ...], text: str) -> list[int] | None:
    """Where each token starts in `text` when the tokens match all of it, else None."""
    starts = [0] * len(tokens)
    token = position = 0
    star_token, star_end = -1, 0
    while position < len(text):
        current = tokens[token] if token < len(tokens) else None
        if isinstance(current, _Star):
            starts[token] = position
            star_token, star_end = token, position
            token += 1
        elif current is not None and current.accepts(text[position]):
            starts[token] = position
            token += 1
            position += 1
        elif star_token >= 0:
            # The latest `*` takes one more character; what follows it starts again.
            star_end += 1
            token, position = star_token + 1, star_end
        else:
            return None
    while token < len(tokens) and isinstance(tokens[token], _Star):
        starts[token] = position
        token += 1
    return starts if token == len(tokens) else None
