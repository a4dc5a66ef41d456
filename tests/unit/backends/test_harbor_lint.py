"""`lint_rules`: issue #21's codes on tables of rules; `shadowed` only where it is certain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtrctl.backends.harbor.doublestar import GlobVersion
from dtrctl.backends.harbor.lint import lint_rules
from dtrctl.backends.harbor.rules import MAX_UI_RULES, ImmutableRule, tag_is_immutable
from tests.unit.backends.test_harbor_rules import rule


def codes(
    rules: list[ImmutableRule], glob: GlobVersion | None = "1.3.4", paths: list[str] | None = None
) -> list[tuple[int | None, str, str]]:
    return [(f.rule_id, f.code, f.severity) for f in lint_rules("p", rules, glob, paths)]


def test_clean_rules_have_no_findings() -> None:
    assert codes([rule(1, "team/app"), rule(2, "team/**", "v*")], None, ["team/app"]) == []


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([rule(1, kind="regex")], [(1, "malformed", "error")] * 2),
        ([rule(1, tag_decoration="matching")], [(1, "malformed", "error")]),
        ([rule(1, "[team")], [(1, "malformed", "error")]),
        ([rule(1, repository_decoration="nsMatches")], [(1, "never-matches", "error")]),
        ([rule(1, disabled=True)], [(1, "disabled", "warning")]),
        ([rule(1, "a"), rule(2, "a")], [(2, "duplicate", "warning")]),
        (
            [rule(1, "a", disabled=True), rule(2, "a")],
            [(1, "disabled", "warning"), (2, "duplicate", "warning")],
        ),
        ([rule(1, "{a/b,c}")], [(1, "version-dependent", "error")]),
    ],
)
def test_each_code(rules: list[ImmutableRule], expected: list[tuple[int, str, str]]) -> None:
    assert codes(rules, None) == expected


def test_over_the_ui_limit_is_a_project_warning() -> None:
    rules = [rule(i, f"r{i}") for i in range(1, MAX_UI_RULES + 2)]
    assert codes(rules) == [(None, "over-ui-limit", "warning")]


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (rule(1, "team/**"), rule(2, "team/**", "v*")),  # same repositories, every tag
        (rule(1, "**"), rule(2, "team/app", "v*")),  # every repository, every tag
        (rule(1, "", ""), rule(2, "x", "y")),  # empty patterns select everything
        (rule(1, "**", "v*"), rule(2, "team/app", "v*")),  # every repository, same tags
        (rule(1, "**", "*"), rule(2, "team/app", "latest")),  # `*` is every tag
    ],
)
def test_shadowed_when_an_earlier_rule_provably_selects_everything(
    earlier: ImmutableRule, later: ImmutableRule
) -> None:
    assert codes([earlier, later]) == [(2, "shadowed", "warning")]


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (rule(1, "team/**", "v*"), rule(2, "team/**")),  # fewer tags
        (rule(1, "team/*"), rule(2, "team/**")),  # fewer repositories, though it looks alike
        (rule(1, "**", disabled=True), rule(2, "a")),  # disabled
        (rule(1, "**", "v[0-9]*"), rule(2, "a", "v1*")),  # a subset, but not provably here
        (rule(1, "**", tag_decoration="excludes"), rule(2, "a")),  # selects nothing
        (rule(1, "**", repository_decoration="nsMatches"), rule(2, "a")),  # never matches
        (rule(1, "**", kind="regex"), rule(2, "a")),  # stops rather than selects
        (rule(2, "**"), rule(1, "a")),  # later in Harbor's order: it is rule 1 that decides
    ],
)
def test_never_shadowed_without_proof(earlier: ImmutableRule, later: ImmutableRule) -> None:
    assert all(code != "shadowed" for _, code, _ in codes([earlier, later], None))


PATTERNS = ["**", "*", "", "team/**", "team/*", "v*", "a", "{a,b}", "x[", "**/app"]
rules_strategy = st.lists(
    st.builds(
        rule,
        st.integers(1, 6),
        st.sampled_from(PATTERNS),
        st.sampled_from(PATTERNS),
        repository_decoration=st.sampled_from(["repoMatches", "repoExcludes"]),
        tag_decoration=st.sampled_from(["matches", "excludes"]),
        disabled=st.booleans(),
    ),
    max_size=4,
    unique_by=lambda r: r.id,
)


@given(
    rules=rules_strategy,
    path=st.sampled_from(["a", "b", "team/app", "team/x/app", "app"]),
    tag=st.sampled_from(["v1", "latest", "a", "x1"]),
)
def test_a_shadowed_rule_never_decides_a_tag(
    rules: list[ImmutableRule], path: str, tag: str
) -> None:
    ordered = sorted(rules, key=lambda r: r.id or 0)
    # A duplicate of an enabled earlier rule never decides; of a disabled one, it may.
    copies = {
        r.id
        for i, r in enumerate(ordered)
        if any(
            not o.disabled
            and (o.repository_selectors, o.tag_selectors)
            == (r.repository_selectors, r.tag_selectors)
            for o in ordered[:i]
        )
    }
    shadowed = {
        f.rule_id
        for f in lint_rules("p", rules, "1.3.4")
        if f.code == "shadowed" or (f.code == "duplicate" and f.rule_id in copies)
    }
    verdict = tag_is_immutable(rules, path, tag, "1.3.4")
    assert verdict.matched_rule is None or verdict.matched_rule.id not in shadowed


def test_matches_nothing_needs_the_project_s_repositories() -> None:
    rules = [rule(1, "team/app"), rule(2, "gone"), rule(3, "gone", disabled=True)]
    assert codes(rules, paths=["team/app"]) == [
        (2, "matches-nothing", "warning"),
        (3, "disabled", "warning"),
    ]
    assert codes(rules[:2]) == []  # offline: the repositories are unknown


def test_matches_nothing_is_never_claimed_where_a_version_selects_one() -> None:
    assert codes([rule(1, "{team/app,x}")], None, ["team/app"]) == [
        (1, "version-dependent", "error")
    ]
