"""Harbor's rules by the server's doublestar version (issue #20), and tag patterns malformed for
some tags only, which end Harbor's evaluation for those tags alone."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dtrctl.backends.harbor.backend import HarborBackend, _reads_alike
from dtrctl.backends.harbor.doublestar import GLOB_VERSIONS, GlobVersion
from dtrctl.backends.harbor.explain import explain_tag
from dtrctl.backends.harbor.rule_findings import malformed_rule_findings
from dtrctl.backends.harbor.rules import ImmutableRule, repository_immutability, tag_is_immutable
from tests.harbor_cases import HARBOR_MATCH_TESTS
from tests.unit.backends.test_harbor_rules import rule

ALTERNATIVES = rule(1, "{team/app,team/tools}")  # v1.1.1: a bad pattern; v1.3.4: two paths


def test_alternatives_with_a_slash_protect_on_v1_3_4_only() -> None:
    assert repository_immutability([ALTERNATIVES], "team/app", "1.3.4").level == "all"
    old = repository_immutability([ALTERNATIVES, rule(2, "team/app")], "team/app", "1.1.1")
    assert (old.level, old.stopped_at) == ("none", ALTERNATIVES)
    assert tag_is_immutable([ALTERNATIVES], "team/app", "1", "1.3.4").immutable
    verdict = tag_is_immutable([ALTERNATIVES, rule(2)], "team/app", "1", "1.1.1")
    assert not verdict.immutable and verdict.stopped_at == ALTERNATIVES


def test_an_unknown_version_never_says_immutable_where_the_versions_differ() -> None:
    result = repository_immutability([ALTERNATIVES], "team/app", None)
    assert (result.level, result.versions_differ) == ("none", True)
    assert not result.immutable
    same = repository_immutability([rule(1, "team/app")], "team/app", None)
    assert (same.level, same.versions_differ) == ("all", False)


def test_an_empty_last_alternative_matches_the_bare_tag_on_v1_3_4_only() -> None:
    rules = [rule(1, "team/app", "v1{,.*}")]
    assert tag_is_immutable(rules, "team/app", "v1", "1.3.4").immutable
    assert not tag_is_immutable(rules, "team/app", "v1", "1.1.1").immutable


def codes(
    rules: list[ImmutableRule], glob: GlobVersion | None
) -> list[tuple[int | None, str, str]]:
    return [(f.rule_id, f.severity, f.code) for f in malformed_rule_findings(rules, glob)]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        (None, [(1, "error", "version-dependent")]),  # unknown: never "immutable", exit 1
        ("1.1.1", [(1, "error", "version-dependent")]),  # malformed where the server is old
        ("1.3.4", [(1, "warning", "version-dependent")]),  # fine here, not after a downgrade
    ],
)
def test_a_version_dependent_pattern_is_a_finding(
    glob: GlobVersion | None, expected: list[tuple[int | None, str, str]]
) -> None:
    assert codes([ALTERNATIVES], glob) == expected
    [finding] = malformed_rule_findings([ALTERNATIVES], glob)
    assert "'{team/app,team/tools}'" in finding.message and "v1.1.1" in finding.message


def test_a_pattern_malformed_under_both_versions_is_bad_whatever_the_version() -> None:
    for glob in (None, "1.1.1", "1.3.4"):
        assert codes([rule(1, "[team")], glob) == [(1, "error", "bad-pattern")]


def test_plain_patterns_have_no_version_finding() -> None:
    assert codes([rule(1, "team/**", "v{1,2}.*"), rule(2, "app")], None) == []


# `x[` fails only for tags that reach the bracket: the others still meet later rules.


def test_per_tag_a_partly_malformed_pattern_stops_only_where_it_fails() -> None:
    rules = [rule(1, "team/app", "x["), rule(2, "team/app", "v*")]
    stopped = tag_is_immutable(rules, "team/app", "x1")
    assert not stopped.immutable and stopped.stopped_at == rules[0]
    later = tag_is_immutable(rules, "team/app", "v1")
    assert later.immutable and later.matched_rule == rules[1]


def test_a_repository_behind_a_partly_malformed_pattern_is_some_by_the_later_rules() -> None:
    rules = [rule(1, "team/app", "x["), rule(2, "team/app", "v*")]
    result = repository_immutability(rules, "team/app")
    assert result.level == "some" and result.stops_some_tags
    assert [item.rule.id for item in result.applied] == [2]


HARBOR_CASES = [
    (name, rules, repository, tag, expected)
    for name, (rules, candidates) in HARBOR_MATCH_TESTS.items()
    for repository, tag, expected in candidates
]


@pytest.mark.parametrize(("test", "bodies", "repository", "tag", "expected"), HARBOR_CASES)
@pytest.mark.parametrize("glob", ["1.1.1", "1.3.4", None])
def test_harbor_s_own_matcher_cases(
    test: str,
    bodies: list[dict[str, object]],
    repository: str,
    tag: str,
    expected: bool,
    glob: GlobVersion | None,
) -> None:
    rules = [ImmutableRule.from_api({"id": i, **body}) for i, body in enumerate(bodies, 1)]
    verdict = explain_tag(rules, repository, tag, glob)
    assert verdict.immutable is expected, test
    if glob is not None:
        assert tag_is_immutable(rules, repository, tag, glob).immutable is expected


def test_a_partly_malformed_pattern_after_a_covering_rule_is_never_reached() -> None:
    result = repository_immutability([rule(1, "team/app"), rule(2, "team/app", "x[")], "team/app")
    assert (result.level, result.stopped_at) == ("all", None)


# Where no pattern reads differently in the two versions, the backend asks no version: the
# answer must then be the same whichever version the server links, or none known.
PATTERN_PARTS = ["a", "b", "/", "*", "**", "?", "{a,b}", "{a/b,c}", "[a-c]", "[", "]", "{", ","]
PATHS = ["a", "b", "a/b", "a/a/b", "ab", "team/app"]


@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(PATTERN_PARTS), max_size=4).map("".join),
            st.lists(st.sampled_from(PATTERN_PARTS), max_size=3).map("".join),
            st.sampled_from(["repoMatches", "repoExcludes"]),
            st.sampled_from(["matches", "excludes"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_rules_whose_patterns_read_alike_need_no_version(specs: list[tuple[str, ...]]) -> None:
    rules = [
        rule(index + 1, path, tags, repository_decoration=scope, tag_decoration=decoration)
        for index, (path, tags, scope, decoration) in enumerate(specs)
    ]
    assume(all(_reads_alike(pattern) for spec in specs for pattern in spec[:2]))
    backend = HarborBackend(cast(Any, None))  # no API: asking the version would fail
    assert backend.glob_for(rules) is not None
    for path in PATHS:
        answers = [repository_immutability(rules, path, glob) for glob in (*GLOB_VERSIONS, None)]
        assert answers[0] == answers[1] == answers[2], path
    findings = [malformed_rule_findings(rules, glob) for glob in (*GLOB_VERSIONS, None)]
    assert findings[0] == findings[1] == findings[2]
