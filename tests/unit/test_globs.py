"""One glob matcher for every user glob: fnmatch's meaning, the regex's captures, no
backtracking."""

from __future__ import annotations

import fnmatch
import random
import re

import pytest

from dtrctl.globs import compile_glob, glob_matches


def _has_reversed_range(pattern: str) -> bool:
    """fnmatch turns `[c-a]` into odd sets (even a negation): not a case worth agreeing on."""
    return any(
        low > high
        for part in compile_glob(pattern).parts
        for token in part
        for low, high in getattr(token, "ranges", ())
    )


def test_it_agrees_with_fnmatch_on_names() -> None:
    generator = random.Random(20)
    for _ in range(5_000):
        pattern = "".join(generator.choice("ab-]![*?c/") for _ in range(generator.randint(0, 7)))
        name = "".join(generator.choice("ab-]![c/") for _ in range(generator.randint(0, 7)))
        if _has_reversed_range(pattern):
            continue
        assert glob_matches(pattern, name) == fnmatch.fnmatchcase(name, pattern), (pattern, name)


def _regex(glob: str) -> re.Pattern[str]:
    """What `--map` globs compiled to before: each wildcard a group, `/` never matched."""
    parts = ("([^/]*)" if c == "*" else "([^/])" if c == "?" else re.escape(c) for c in glob)
    return re.compile("".join(parts))


def test_captures_are_what_the_backtracking_regex_captured() -> None:
    generator = random.Random(21)
    for _ in range(5_000):
        glob = "".join(generator.choice("ab*?/[") for _ in range(generator.randint(0, 8)))
        name = "".join(generator.choice("ab/[") for _ in range(generator.randint(0, 9)))
        match = _regex(glob).fullmatch(name)
        expected = match.groups() if match else None
        assert compile_glob(glob, classes=False, separator="/").captures(name) == expected, (
            glob,
            name,
        )


@pytest.mark.parametrize(
    ("glob", "name", "captured"),
    [
        ("*/*", "engineering/web", ("engineering", "web")),
        ("*-*", "a-b-c", ("a-b", "c")),  # the earlier wildcard as long as possible
        ("eng-*/app-?", "eng-x/app-1", ("x", "1")),
        ("*/*", "a/b/c", None),  # a wildcard never matches `/`
        ("[ab]", "[ab]", ()),  # `--map` has no sets
    ],
)
def test_map_captures(glob: str, name: str, captured: tuple[str, ...] | None) -> None:
    assert compile_glob(glob, classes=False, separator="/").captures(name) == captured


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("release-[0-9]*", "release-1.2", True),
        ("release-[!0-9]*", "release-1.2", False),
        ("[]a]x", "]x", True),
        ("[ab", "[ab", True),  # an unclosed `[` is literal
        ("V*", "v1", False),  # case matters, as for tags
    ],
)
def test_sets_as_fnmatch_reads_them(pattern: str, name: str, expected: bool) -> None:
    assert glob_matches(pattern, name) is expected


def test_without_a_separator_a_wildcard_spans_nested_names() -> None:
    """A Harbor repository `team/app` in project `engineering`: `engineering/*` selects it."""
    assert glob_matches("*", "team/app")
    assert glob_matches("t?am*app", "team/app")


def test_many_wildcards_on_a_long_name_do_not_backtrack() -> None:
    """8 wildcards on a 60-character name: minutes for the regex, at once here (the pytest
    timeout is the bound; nothing is timed)."""
    name = "engineering/" + "a" * 48
    for glob in ("engineering/a*a*a*a*a*a*a*a*b", "*a*a*a*a*a*a*a*a/b*a*a*a*a*a*a*a*a"):
        assert compile_glob(glob, classes=False, separator="/").captures(name) is None
        assert not glob_matches(glob, name)
    # Both ends match, the middle never does: the worst case, len(name) × len(glob) steps.
    assert not glob_matches("a" + "*a" * 100 + "*c*a", "a" * 255)
