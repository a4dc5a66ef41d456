"""The two doublestar versions Harbor links: each on its own test table, and where they differ.

The tables are bmatcuk/doublestar's own (`doublestar_test.go` at tags v1.1.1 and v1.3.4, in
tests/doublestar_tables.py); the differences are those issue #20 names and FACTS.md lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtrctl.backends.harbor.doublestar import (
    GLOB_VERSIONS,
    V1_1_1,
    V1_3_4,
    GlobVersion,
    PatternError,
    check_pattern,
    doublestar_match,
    glob_version_for,
    version_dependent,
)
from tests.doublestar_tables import V1_1_1_MATCH_TESTS, V1_3_4_MATCH_TESTS, Expected
from tests.harbor_cases import FACTS_TABLE, FACTS_V1_1_1


def outcome(pattern: str, name: str, version: GlobVersion) -> Expected:
    try:
        return doublestar_match(pattern, name, version)
    except PatternError:
        return "error"


def table(rows: Sequence[tuple[str, str, Expected]]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        ("pattern", "name", "expected"), rows, ids=[f"{p!r}~{n!r}" for p, n, _ in rows]
    )


@table(V1_1_1_MATCH_TESTS)
def test_v1_1_1_on_its_own_table(pattern: str, name: str, expected: Expected) -> None:
    assert outcome(pattern, name, V1_1_1) == expected


@table(V1_3_4_MATCH_TESTS)
def test_v1_3_4_on_its_own_table(pattern: str, name: str, expected: Expected) -> None:
    assert outcome(pattern, name, V1_3_4) == expected


@table(FACTS_TABLE)
def test_v1_1_1_on_harbor_s_table(pattern: str, name: str, expected: Expected) -> None:
    assert outcome(pattern, name, V1_1_1) == FACTS_V1_1_1.get((pattern, name), expected)


DIFFERENCES = [
    # pattern, name, v1.1.1, v1.3.4
    ("{a/a,a/b}", "a/b", "error", True),  # an alternative with '/' is a bad pattern in v1.1.1
    ("team/{app,tools/x}", "team/app", "error", True),
    ("{**/x,**/y}", "y", "error", False),
    ("x{a,}", "x", False, True),  # an empty alternative at the end of a name
    ("x{,a}", "x", False, True),
    ("{a,}b", "b", False, True),  # v1.1.1 drops an empty last alternative
    ("v1{,.*}", "v1", False, True),
    ("a/", "a", True, False),  # v1.1.1 drops an empty last component
    ("*[", "ab", False, "error"),  # v1.1.1 ignores errors after a star
    ("[a/b]", "a", "error", True),  # v1.1.1 splits at '/' before reading the class
    ("{a,[}", "a", True, "error"),  # v1.1.1 stops at the first alternative that matches
]


@pytest.mark.parametrize(("pattern", "name", "old", "new"), DIFFERENCES)
def test_where_the_versions_differ(pattern: str, name: str, old: Expected, new: Expected) -> None:
    assert (outcome(pattern, name, V1_1_1), outcome(pattern, name, V1_3_4)) == (old, new)
    assert version_dependent(pattern)


@pytest.mark.parametrize(
    "pattern", ["**", "*", "team/app", "team/**", "v*", "release-**", "{a,b}", "app-{x,y?}", "x["]
)
def test_patterns_both_versions_read_alike_are_not_version_dependent(pattern: str) -> None:
    assert not version_dependent(pattern)


GLOB_ALPHABET = [*list("ab/*?[]{},\\-^!."), "{a,b}", "{a,}", "{,b}", "{a/b,a}", "**", "{a*,b}"]
patterns = st.lists(st.sampled_from(GLOB_ALPHABET), max_size=7).map("".join)
names = st.lists(st.text(alphabet="ab-^!].", min_size=1, max_size=3), min_size=1, max_size=3).map(
    "/".join
)


@given(pattern=patterns, name=names)
def test_a_pattern_not_version_dependent_gets_one_answer(pattern: str, name: str) -> None:
    if not version_dependent(pattern):
        assert outcome(pattern, name, V1_1_1) == outcome(pattern, name, V1_3_4)


@given(pattern=patterns, name=names)
def test_check_pattern_v1_1_1_catches_every_error_its_matcher_raises(
    pattern: str, name: str
) -> None:
    if outcome(pattern, name, V1_1_1) == "error":
        with pytest.raises(PatternError):
            check_pattern(pattern, V1_1_1)


def test_check_pattern_follows_the_version() -> None:
    check_pattern("{a/a,a/b}", V1_3_4)
    with pytest.raises(PatternError, match="never closed"):
        check_pattern("{a/a,a/b}", V1_1_1)


@pytest.mark.parametrize(
    ("harbor_version", "glob"),
    [
        ("v2.0.0-abc", V1_1_1),
        ("v2.9.4-6d4cd6b7", V1_1_1),
        ("v2.9.5-1234", V1_3_4),
        ("v2.10.0", V1_1_1),
        ("v2.10.2-9e5b5b1e", V1_1_1),
        ("v2.10.3-a", V1_3_4),
        ("v2.11.0-rc1", V1_3_4),
        ("2.13.0", V1_3_4),
        ("v3.0.0", V1_3_4),
        ("v1.10.0", None),  # older than every go.mod dtrctl knows
        ("dev", None),
        ("", None),
        (None, None),
    ],
)
def test_the_glob_library_follows_harbor_s_release(
    harbor_version: str | None, glob: GlobVersion | None
) -> None:
    assert glob_version_for(harbor_version) == glob
    assert glob is None or glob in GLOB_VERSIONS
