"""Harbor immutability rules: the doublestar matcher, the rule bodies and Harbor's evaluation."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtrctl.backends.harbor.rule_findings import malformed_rule_findings
from dtrctl.backends.harbor.rules import (
    MAX_UI_RULES,
    ImmutableRule,
    PatternError,
    Selector,
    canonical_rule,
    check_pattern,
    doublestar_match,
    is_canonical_for,
    repository_immutability,
    tag_is_immutable,
)
from dtrctl.errors import ExitCode, InvalidReference, InvalidResponse
from tests.harbor_cases import FACTS_TABLE

# The rule FACTS.md gives for "library/team/app is immutable" (path without the project).
CANONICAL_BODY = {
    "action": "immutable",
    "template": "immutable_template",
    "priority": 0,
    "disabled": False,
    "scope_selectors": {
        "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "team/app"}]
    },
    "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
}


def rule(
    rule_id: int | None,
    repository: str = "**",
    tags: str = "**",
    *,
    repository_decoration: str = "repoMatches",
    tag_decoration: str = "matches",
    kind: str = "doublestar",
    disabled: bool = False,
) -> ImmutableRule:
    return ImmutableRule(
        id=rule_id,
        disabled=disabled,
        action="immutable",
        template="immutable_template",
        priority=0,
        repository_selectors=(Selector(kind, repository_decoration, repository),),
        tag_selectors=(Selector(kind, tag_decoration, tags),),
    )


# The matcher: every row of FACTS.md (v1.3.4, Harbor >= 2.11), then doublestar v1.3.4's own test
# cases (doublestar_test.go) and edges checked against the real library built from v1.3.4.

LIBRARY_CASES = [
    ("*", "", True),
    ("/*", "/", True),
    ("/*", "//", False),
    ("*/", "a/", True),
    ("a*", "ab/c", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("ab[b-d]", "abc", True),
    ("ab[^c]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("[a-ζ]*", "α", True),
    ("[\\]a]", "]", True),
    ("[x\\-]", "-", True),
    ("[\\-x]", "a", False),
    ("a?b", "a/b", False),
    ("a/**/b", "a/b", True),
    ("a/**/d", "a/b/c/d", True),
    ("**/c", "a/abc", False),
    ("a/\\**", "a/b/c", False),
    ("a//b/c", "a/b/c", False),
    ("a/", "a", False),
    ("ab{c,d,*}", "abcde", True),
    ("a{,bc}", "a", True),
    ("{a/{b,c},abc}", "a/c", True),
    ("{a/{b,c},abc}", "a/b/c", False),
    ("abc**", "abc/b", False),
    ("**/【*", "abc/【test】.txt", True),
]

EDGE_CASES = [
    ("a\\*", "a*", True),  # an escaped star is a literal star
    ("a\\*", "ab", False),
    ("[!a]", "!", True),  # v1.3.4 negates with `^` only: `!` is a member
    ("[!a]", "b", False),
    ("[^]", "x", True),  # a class of nothing negated: any character
    ("[a/b]", "a", True),  # a class is scanned before the path is split
    ("***", "abc", True),
    ("a***", "a", False),  # only `*` and `**` may match nothing at a component's end
    ("*{,x}", "ab", False),  # a star never leaves the rest of the component to nothing
    ("{,a}b", "b", True),
    ("a{b/c,d}", "ad", True),
    ("**/**", "a", True),
    ("x/**/y", "x/y", True),
    ("team/{a,b}/**", "team/b/x/y", True),
    ("v[0-9]*", "v1.2", True),
    ("v[0-9]*", "vx", False),
    ("team/app", "team/app2", False),
    ("", "", True),
    ("", "x", False),  # Harbor's selector, not the library, makes "" match everything
    ("**/[", "a/b", False),  # errors after a `**` component are swallowed in v1.3.4
    ("a[", "a", False),  # the bad class is never reached for this name
]


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    FACTS_TABLE + LIBRARY_CASES + EDGE_CASES,
    ids=[f"{p!r}~{n!r}" for p, n, _ in FACTS_TABLE + LIBRARY_CASES + EDGE_CASES],
)
def test_doublestar_match_as_v1_3_4(pattern: str, name: str, expected: bool) -> None:
    assert doublestar_match(pattern, name) is expected


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("[", "anything"),  # FACTS.md
        ("{a,b", "anything"),  # FACTS.md
        ("[", "app"),
        ("[]a]", "]"),
        ("[-]", "-"),
        ("[x-]", "z"),
        ("[a-b-c]", "a"),
        ("[^bc", "a"),
        ("\\", "a"),
        ("a[", "ab"),
        ("ab{c,d}[", "abcd"),
        ("a{b/c,d}", "a"),  # the name ends inside the group: the part up to '/' is unclosed
    ],
)
def test_malformed_patterns_raise_pattern_error(pattern: str, name: str) -> None:
    with pytest.raises(PatternError, match="is malformed"):
        doublestar_match(pattern, name)
    with pytest.raises(PatternError):
        check_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    ["", "**", "*", "team/app", "team/**", "{a/a,a/b}", "{**/x,**/y}", "v[0-9]*", "[^]", "a\\*"],
)
def test_check_pattern_accepts_well_formed_patterns(pattern: str) -> None:
    check_pattern(pattern)


def test_check_pattern_flags_a_bad_pattern_whose_error_doublestar_swallows() -> None:
    assert doublestar_match("**/[", "a/b") is False
    with pytest.raises(PatternError):
        check_pattern("**/[")


GLOB_ALPHABET = "ab/*?[]{},\\-^!"
names_without_empty_components = st.lists(
    st.text(alphabet="ab-^!]", min_size=1, max_size=3), min_size=1, max_size=3
).map("/".join)


@given(pattern=st.text(alphabet=GLOB_ALPHABET, max_size=10), name=names_without_empty_components)
def test_check_pattern_catches_every_error_the_matcher_raises(pattern: str, name: str) -> None:
    try:
        doublestar_match(pattern, name)
    except PatternError:
        with pytest.raises(PatternError):
            check_pattern(pattern)


@given(tag=st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", fullmatch=True))
def test_star_patterns_match_every_valid_tag(tag: str) -> None:
    for pattern in ("*", "**", "***"):
        assert doublestar_match(pattern, tag)


def test_a_deeply_nested_pattern_is_an_error_not_a_crash() -> None:
    pattern = "{" * 5000 + "a" + "}" * 5000
    with pytest.raises(PatternError):
        doublestar_match(pattern, "a")
    with pytest.raises(PatternError):
        check_pattern(pattern)


# Rule bodies


def test_canonical_rule_is_the_body_of_facts_md() -> None:
    assert canonical_rule("team/app").to_api() == CANONICAL_BODY


def test_to_api_includes_the_id_only_when_set() -> None:
    assert "id" not in rule(None).to_api()
    assert rule(7).to_api()["id"] == 7


@pytest.mark.parametrize(
    "body",
    [
        {**CANONICAL_BODY, "id": 3},
        {**CANONICAL_BODY, "id": 4, "disabled": True, "priority": 2},
        {
            "id": 5,
            "action": "immutable",
            "template": "immutable_template",
            "priority": 0,
            "disabled": False,
            "scope_selectors": {"repository": []},
            "tag_selectors": [
                {"kind": "regex", "decoration": "matches", "pattern": "["},
                {"kind": "doublestar", "decoration": "excludes", "pattern": ""},
            ],
        },
    ],
)
def test_bodies_round_trip(body: dict[str, Any]) -> None:
    assert ImmutableRule.from_api(body).to_api() == body
    parsed = ImmutableRule.from_api(body)
    assert ImmutableRule.from_api(parsed.to_api()) == parsed


def test_missing_disabled_and_priority_read_as_harbor_omits_them() -> None:
    body = {
        key: value for key, value in CANONICAL_BODY.items() if key not in ("disabled", "priority")
    }
    parsed = ImmutableRule.from_api({**body, "id": 9})
    assert (parsed.id, parsed.disabled, parsed.priority) == (9, False, 0)
    assert parsed.repository_selectors == (Selector("doublestar", "repoMatches", "team/app"),)


def test_null_and_missing_selector_lists_are_empty_as_in_go() -> None:
    parsed = ImmutableRule.from_api({"id": 1, "scope_selectors": None, "tag_selectors": None})
    assert parsed.repository_selectors == () and parsed.tag_selectors == ()
    assert ImmutableRule.from_api({"id": 2, "scope_selectors": {}}).repository_selectors == ()
    assert ImmutableRule.from_api({"id": 3, "tag_selectors": [{}]}).tag_selectors == (
        Selector("", "", ""),
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "is an array"),
        ({"id": "7"}, "'id' is a string"),
        ({"id": True}, "'id' is a boolean"),
        ({"id": 0}, "with id 0"),
        ({"id": 7, "disabled": "false"}, "rule 7 whose 'disabled' is a string"),
        ({"id": 7, "disabled": 0}, "'disabled' is a number"),
        ({"id": 7, "priority": 1.5}, "'priority' is a number"),
        ({"id": 7, "priority": False}, "'priority' is a boolean"),
        ({"id": 7, "action": 1}, "'action' is a number"),
        ({"id": 7, "scope_selectors": []}, "'scope_selectors' is an array"),
        (
            {"id": 7, "scope_selectors": {"repository": {}}},
            "repository selectors of immutability rule 7 as an object",
        ),
        (
            {"id": 7, "tag_selectors": "**"},
            "tag selectors of immutability rule 7 as a string, not an array",
        ),
        (
            {"id": 7, "tag_selectors": ["**"]},
            "tag selector 1 of immutability rule 7 as a string, not",
        ),
        (
            {"tag_selectors": [{}, {"pattern": 5}]},
            "tag selector 2 of an immutability rule whose 'pattern' is a number",
        ),
    ],
)
def test_garbled_rules_are_invalid_responses(body: Any, message: str) -> None:
    with pytest.raises(InvalidResponse, match=message) as caught:
        ImmutableRule.from_api(body)
    assert caught.value.exit_code == ExitCode.UNAVAILABLE


@pytest.mark.parametrize("body_rule", [canonical_rule("team/app"), rule(12, disabled=True)])
def test_to_api_uses_only_what_the_swagger_defines(
    harbor_swagger: dict[str, Any], body_rule: ImmutableRule
) -> None:
    definitions = harbor_swagger["definitions"]
    body = body_rule.to_api()
    schema = {"$ref": "#/definitions/ImmutableRule", "definitions": definitions}
    jsonschema.Draft4Validator(schema).validate(body)
    assert set(body) <= set(definitions["ImmutableRule"]["properties"])
    selectors = [*body["scope_selectors"]["repository"], *body["tag_selectors"]]
    for selector in selectors:
        assert set(selector) <= set(definitions["ImmutableSelector"]["properties"])


# The canonical rule


def test_canonical_rule_shape() -> None:
    created = canonical_rule("team/sub/app")
    assert created.id is None and not created.disabled and created.priority == 0
    assert created.repository_selectors == (Selector("doublestar", "repoMatches", "team/sub/app"),)
    assert created.tag_selectors == (Selector("doublestar", "matches", "**"),)


@pytest.mark.parametrize("path", ["", "Team/app", "team/*", "lib/{a,b}", "a//b", "/app", "app/"])
def test_canonical_rule_refuses_paths_that_are_not_literal_repository_paths(path: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        canonical_rule(path)
    assert caught.value.exit_code == ExitCode.USAGE


def test_is_canonical_for_recognises_dtrctls_rule_enabled_or_disabled() -> None:
    stored = ImmutableRule.from_api({**CANONICAL_BODY, "id": 4, "disabled": True, "priority": 3})
    assert is_canonical_for(stored, "team/app")
    assert is_canonical_for(rule(5, "team/app"), "team/app")
    assert not is_canonical_for(stored, "team/app2")


@pytest.mark.parametrize(
    "other",
    [
        rule(1, "team/*"),
        rule(1, "team/app", "*"),
        rule(1, "team/app", tag_decoration="excludes"),
        rule(1, "team/app", repository_decoration="repoExcludes"),
        rule(1, "team/app", kind="regex"),
        ImmutableRule(
            1,
            False,
            "immutable",
            "immutable_template",
            0,
            (Selector("doublestar", "repoMatches", "team/app"),) * 2,
            (Selector("doublestar", "matches", "**"),),
        ),
    ],
)
def test_is_canonical_for_refuses_other_shapes(other: ImmutableRule) -> None:
    assert not is_canonical_for(other, "team/app")


path_components = st.from_regex(r"[a-z0-9]{1,3}(?:[._-][a-z0-9]{1,3}){0,2}", fullmatch=True)
repository_paths = st.lists(path_components, min_size=1, max_size=3).map("/".join)


@given(path=repository_paths, other=repository_paths, tag=st.sampled_from(["latest", "1.0", "x"]))
def test_canonical_rule_matches_its_repository_and_no_other(
    path: str, other: str, tag: str
) -> None:
    rules = [canonical_rule(path)]
    assert tag_is_immutable(rules, path, tag).immutable
    assert repository_immutability(rules, path).level == "all"
    assert tag_is_immutable(rules, other, tag).immutable is (other == path)


# Harbor's evaluation of one tag


def test_rules_are_or_ed_and_the_first_match_decides() -> None:
    first, second = rule(1, "other/*"), rule(2, "team/*", "v*")
    verdict = tag_is_immutable([second, first], "team/app", "v1")
    assert verdict.immutable and verdict.matched_rule == second
    assert not tag_is_immutable([first, second], "team/app", "latest").immutable


def test_disabled_rules_are_skipped() -> None:
    assert not tag_is_immutable([rule(1, "team/app", disabled=True)], "team/app", "1.0").immutable


def test_a_broken_rule_stops_evaluation_of_every_later_rule() -> None:
    broken, protecting = rule(1, "[team"), rule(2, "team/app")
    verdict = tag_is_immutable([protecting, broken], "team/app", "1.0")
    assert not verdict.immutable
    assert verdict.stopped_at == broken and "'[team' is malformed" in verdict.stop_reason
    assert tag_is_immutable([rule(3, "[team"), rule(1, "team/app")], "team/app", "1").immutable


@pytest.mark.parametrize(
    "broken",
    [
        rule(1, kind="regex"),
        rule(1, kind=""),
        rule(1, repository_decoration="repoMatching"),
        rule(1, tag_decoration=""),
        rule(1, tags="{1,2"),
    ],
)
def test_selectors_harbor_cannot_build_stop_evaluation(broken: ImmutableRule) -> None:
    verdict = tag_is_immutable([broken, rule(2)], "team/app", "1")
    assert not verdict.immutable and verdict.stopped_at == broken


def test_a_broken_tag_selector_stops_only_when_the_repository_matches() -> None:
    assert tag_is_immutable([rule(1, "other", "["), rule(2)], "team/app", "1").immutable


def test_a_bad_pattern_stops_only_for_names_it_errors_on() -> None:
    rules = [rule(1, "team/app", "v["), rule(2)]
    assert tag_is_immutable(rules, "team/app", "x1").immutable
    assert tag_is_immutable(rules, "team/app", "v1").stopped_at == rules[0]


def test_only_the_first_selector_of_each_kind_counts() -> None:
    extra = ImmutableRule(
        1,
        False,
        "immutable",
        "immutable_template",
        0,
        (
            Selector("doublestar", "repoMatches", "other"),
            Selector("doublestar", "repoMatches", "**"),
        ),
        (Selector("doublestar", "matches", "**"), Selector("x", "y", "[")),
    )
    assert not tag_is_immutable([extra], "team/app", "1").immutable
    assert tag_is_immutable([extra], "other", "1").immutable


def test_rules_without_selectors_are_skipped() -> None:
    empty = ImmutableRule(1, False, "immutable", "immutable_template", 0, (), ())
    assert tag_is_immutable([empty, rule(2)], "team/app", "1").matched_rule == rule(2)


@pytest.mark.parametrize(
    ("repository", "decoration", "tags", "tag_decoration", "tag", "expected"),
    [
        ("", "repoMatches", "**", "matches", "1", True),  # empty pattern matches all
        ("team/*", "repoExcludes", "**", "matches", "1", False),
        ("other/*", "repoExcludes", "**", "matches", "1", True),
        ("**", "repoMatches", "v*", "excludes", "v1", False),
        ("**", "repoMatches", "v*", "excludes", "latest", True),
        ("**", "repoMatches", "", "excludes", "latest", False),
        ("**", "nsMatches", "**", "matches", "1", False),  # never matches, never stops
        ("**", "nsExcludes", "**", "matches", "1", False),
        ("v*", "matches", "**", "matches", "v1", True),  # a tag decoration matches the tag
        ("v*", "matches", "**", "matches", "1", False),
    ],
)
def test_decorations(
    repository: str, decoration: str, tags: str, tag_decoration: str, tag: str, expected: bool
) -> None:
    subject = rule(
        1, repository, tags, repository_decoration=decoration, tag_decoration=tag_decoration
    )
    verdict = tag_is_immutable([subject, rule(2, "nothing")], "team/app", tag)
    assert verdict.immutable is expected and verdict.stopped_at is None


def test_the_repository_path_is_taken_without_the_project() -> None:
    rules = [canonical_rule("team/app")]
    assert tag_is_immutable(rules, "team/app", "1").immutable
    assert not tag_is_immutable(rules, "library/team/app", "1").immutable


# Repository level


@pytest.mark.parametrize("tags", ["**", "*", "", "***"])
def test_all_when_a_rule_covers_every_tag(tags: str) -> None:
    result = repository_immutability([rule(1, "team/*", tags)], "team/app")
    assert result.level == "all" and result.immutable
    assert [(item.rule.id, item.covers) for item in result.applied] == [(1, "all")]


@pytest.mark.parametrize(
    ("rules", "level"),
    [
        ([rule(1, "team/*", "v*")], "some"),
        ([rule(1, "team/*", "v*", tag_decoration="excludes")], "some"),
        ([rule(1, "v*", repository_decoration="matches")], "some"),
        ([rule(1, "team/*", "**", tag_decoration="excludes")], "none"),
        ([rule(1, "team/*", "", tag_decoration="excludes")], "none"),
        ([rule(1, "other/*")], "none"),
        ([rule(1, "team/*", disabled=True)], "none"),
        ([rule(1, repository_decoration="nsMatches")], "none"),
        ([], "none"),
        ([rule(1, "team/*", "v*"), rule(2, "team/app")], "all"),
    ],
)
def test_repository_levels(rules: list[ImmutableRule], level: str) -> None:
    result = repository_immutability(rules, "team/app")
    assert result.level == level and result.stopped_at is None
    assert result.immutable is (level == "all")


def test_a_broken_rule_before_the_covering_one_leaves_only_what_came_before() -> None:
    partial, broken, covering = rule(1, "team/*", "v*"), rule(2, kind="regex"), rule(3)
    result = repository_immutability([covering, broken, partial], "team/app")
    assert result.level == "some"
    assert [item.rule for item in result.applied] == [partial]
    assert result.stopped_at == broken and "'regex'" in result.stop_reason


def test_a_tag_pattern_malformed_for_some_tags_leaves_the_others_to_later_rules() -> None:
    # issue #20: `v[` fails only for tags starting with `v`; Harbor reads rule 2 for the others.
    broken = rule(1, "team/app", "v[")
    result = repository_immutability([broken, rule(2)], "team/app")
    assert (result.level, result.stopped_at, result.stops_some_tags) == ("some", broken, True)
    assert [(item.rule.id, item.covers) for item in result.applied] == [(2, "some")]
    assert "for the tags it fails on" in result.stop_reason


def test_a_tag_pattern_malformed_for_every_tag_stops_for_every_tag() -> None:
    for pattern in ("[", "*[", "\\"):
        broken = rule(1, "team/app", pattern)
        result = repository_immutability([broken, rule(2)], "team/app")
        assert (result.level, result.stopped_at, result.stops_some_tags) == ("none", broken, False)


def test_a_broken_rule_after_a_covering_one_is_never_reached() -> None:
    result = repository_immutability([rule(1, "team/app"), rule(2, kind="")], "team/app")
    assert result.level == "all" and result.stopped_at is None


def test_a_broken_repository_pattern_stops_only_where_it_errors() -> None:
    assert repository_immutability([rule(1, "x["), rule(2)], "team/app").level == "all"
    assert repository_immutability([rule(1, "t["), rule(2)], "team/app").stopped_at == rule(1, "t[")


# Findings of `repo audit`


def codes(rules: list[ImmutableRule]) -> list[tuple[int | None, str, str]]:
    return [(f.rule_id, f.severity, f.code) for f in malformed_rule_findings(rules)]


def test_well_formed_rules_have_no_findings() -> None:
    assert malformed_rule_findings([canonical_rule("team/app"), rule(2, "team/**", "v*")]) == []


@pytest.mark.parametrize(
    ("bad", "code", "severity"),
    [
        (rule(3, kind="regex"), "unknown-kind", "error"),
        (rule(3, kind=""), "unknown-kind", "error"),
        (rule(3, tag_decoration="matching"), "unknown-decoration", "error"),
        (rule(3, repository_decoration="nsMatches"), "namespace-decoration", "error"),
        (rule(3, tag_decoration="nsExcludes"), "namespace-decoration", "error"),
        (rule(3, "[team"), "bad-pattern", "error"),
        (rule(3, "**/[", "**"), "bad-pattern", "error"),
        (rule(3, tags="{a,b"), "bad-pattern", "error"),
        (rule(3, "v*", repository_decoration="matches"), "misplaced-decoration", "warning"),
        (rule(3, tag_decoration="repoMatches"), "misplaced-decoration", "warning"),
        (ImmutableRule(3, False, "immutable", "t", 0, (), ()), "no-selector", "error"),
    ],
)
def test_findings_per_problem(bad: ImmutableRule, code: str, severity: str) -> None:
    assert (3, severity, code) in codes([bad])
    assert all(f.message.startswith("Rule 3: ") for f in malformed_rule_findings([bad]))


def test_finding_messages_say_what_happens() -> None:
    [finding] = malformed_rule_findings([rule(8, "[team")])
    assert "'[team' is malformed" in finding.message
    assert "Harbor stops evaluating the project's rules here" in finding.message


def test_problems_of_a_disabled_rule_are_warnings() -> None:
    findings = malformed_rule_findings([rule(4, kind="regex", disabled=True)])
    assert [(f.severity, f.code) for f in findings] == [("warning", "unknown-kind")] * 2
    for finding in findings:
        assert finding.message.startswith("disabled rule 4: ")
        assert "once it is enabled" in finding.message


def test_extra_selectors_are_a_warning_and_only_the_first_is_checked() -> None:
    extra = ImmutableRule(
        6,
        False,
        "immutable",
        "immutable_template",
        0,
        (Selector("doublestar", "repoMatches", "team/app"), Selector("doublestar", "x", "[")),
        (Selector("doublestar", "matches", "**"),),
    )
    [finding] = malformed_rule_findings([extra])
    assert (finding.severity, finding.code) == ("warning", "extra-selectors")
    assert "repoMatches 'team/app'" in finding.message


def test_more_rules_than_the_ui_shows_is_a_project_warning() -> None:
    assert malformed_rule_findings([rule(i, f"r{i}") for i in range(1, MAX_UI_RULES + 1)]) == []
    findings = malformed_rule_findings([rule(i, f"r{i}") for i in range(1, MAX_UI_RULES + 2)])
    assert [(f.rule_id, f.severity, f.code) for f in findings] == [
        (None, "warning", "too-many-rules")
    ]
    assert "16 immutability rules" in findings[0].message and "only 15" in findings[0].message


def test_findings_come_in_id_order() -> None:
    rules = [rule(9, kind="regex"), rule(2, "["), rule(5)]
    assert [rule_id for rule_id, _, _ in codes(rules)] == [2, 9, 9]  # both selectors of 9


def test_rule_descriptions_name_id_and_selectors() -> None:
    assert rule(7, "team/**", disabled=True).describe() == (
        "rule 7 (repository repoMatches 'team/**', tag matches '**', disabled)"
    )
    assert (
        canonical_rule("a").describe()
        == "a new rule (repository repoMatches 'a', tag matches '**')"
    )
