"""`explain_tag`: Harbor's evaluation of one tag, rule by rule, under each doublestar version."""

from __future__ import annotations

from dtrctl.backends.harbor.explain import explain_tag
from dtrctl.backends.harbor.rules import ImmutableRule, Selector
from tests.unit.backends.test_harbor_rules import rule


def reasons(rules: list[ImmutableRule], tag: str, glob: str | None = "1.3.4") -> list[str]:
    return [part.reason for part in explain_tag(rules, "team/app", tag, glob).parts]  # type: ignore[arg-type]


def test_the_first_matching_rule_decides_and_later_ones_are_not_reached() -> None:
    rules = [rule(3, "team/app"), rule(1, "other"), rule(2, "team/*", "v*")]
    verdict = explain_tag(rules, "team/app", "v1", "1.3.4")
    assert verdict.immutable and verdict.decided_by == rules[2]
    assert [(p.rule.id, p.matched, p.reason) for p in verdict.parts] == [
        (1, False, "repository-not-selected"),
        (2, True, "matched"),
        (3, None, "not-reached"),
    ]


def test_each_reason_a_rule_does_not_apply() -> None:
    rules = [
        rule(1, disabled=True),
        rule(2, "team/app", repository_decoration="repoExcludes"),
        rule(3, "team/app", "v*", tag_decoration="excludes"),
        rule(4, "team/app", "rc*"),
        ImmutableRule(
            5, False, "immutable", "t", 0, (), (Selector("doublestar", "matches", "**"),)
        ),
    ]
    assert reasons(rules, "v1") == [
        "disabled",
        "excluded",
        "excluded",
        "tag-not-selected",
        "no-selector",
    ]
    assert not explain_tag(rules, "team/app", "v1", "1.3.4").immutable


def test_a_malformed_pattern_ends_the_evaluation_for_that_tag_only() -> None:
    rules = [rule(1, "team/app", "x["), rule(2)]
    stopped = explain_tag(rules, "team/app", "x1", "1.3.4")
    assert stopped.immutable is False and stopped.stopped_at == rules[0]
    assert [p.reason for p in stopped.parts] == ["malformed", "not-reached"]
    assert "'x['" in stopped.parts[0].message and "stops here" in stopped.parts[0].message
    assert explain_tag(rules, "team/app", "v1", "1.3.4").decided_by == rules[1]


def test_an_unknown_kind_is_malformed_wherever_it_is_reached() -> None:
    assert reasons([rule(1, kind="regex"), rule(2)], "v1") == ["malformed", "not-reached"]


def test_the_server_s_version_decides_and_an_unknown_one_is_unknown_where_they_differ() -> None:
    rules = [rule(1, "{team/app,team/x}"), rule(2, "team/app", "v*")]
    assert explain_tag(rules, "team/app", "1", "1.3.4").immutable is True
    old = explain_tag(rules, "team/app", "1", "1.1.1")
    assert old.immutable is False and old.stopped_at == rules[0]
    unknown = explain_tag(rules, "team/app", "1", None)
    assert unknown.immutable is None and unknown.decided_by is None
    assert [p.reason for p in unknown.parts] == ["version-dependent", "not-reached"]
    assert [p.matched for p in unknown.parts] == [None, None]


def test_an_unknown_version_is_no_obstacle_where_both_agree() -> None:
    rules = [rule(1, "team/**", "v*")]
    verdict = explain_tag(rules, "team/app", "v2", None)
    assert verdict.immutable is True and verdict.decided_by == rules[0]
