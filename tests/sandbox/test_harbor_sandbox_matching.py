"""The Harbor flavor's own rule matcher against Harbor's matching cases: FACTS.md, doublestar
v1.3.4's test table, Harbor's match_test.go and the rule cases shared with the client's tests."""

from __future__ import annotations

import random

import pytest

from dtrctl.sandbox.harbor import doublestar
from dtrctl.sandbox.harbor.matching import (
    Candidate,
    PatternError,
    doublestar_match,
    is_immutable,
    matching_rule,
)
from dtrctl.sandbox.harbor.seed import canonical_rule
from tests.harbor_cases import (
    DOUBLESTAR_V1_3_4_EXTRA,
    DOUBLESTAR_V1_3_4_TABLE,
    ERROR,
    FACTS_TABLE,
    HARBOR_MATCH_TEST_CASES,
    HARBOR_RULE_CASES,
)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    # An empty pattern matches everything: Harbor's rule, which this matcher applies itself.
    [*FACTS_TABLE, ("", "anything/at/all", True)],
)
def test_doublestar_cases_of_harbor_2_11_and_later(pattern, name, expected):
    assert doublestar_match(pattern, name) is expected


@pytest.mark.parametrize("pattern", ["[", "{a,b"])
def test_unparsable_patterns_are_errors(pattern):
    with pytest.raises(PatternError):
        doublestar_match(pattern, "anything")


def rule(rule_id: int, path: str, tags: str = "**", **changes) -> dict:
    body = {**canonical_rule(path), "id": rule_id, **changes}
    body["tag_selectors"] = [{"kind": "doublestar", "decoration": "matches", "pattern": tags}]
    return body


def test_the_repository_pattern_is_matched_without_the_project():
    assert is_immutable([rule(1, "team/app")], "team/app", "1.0")
    assert not is_immutable([rule(1, "library/team/app")], "team/app", "1.0")


def test_rules_are_or_ed_and_disabled_ones_skipped():
    rules = [rule(1, "api", disabled=True), rule(2, "web"), rule(3, "api", tags="v*")]
    assert is_immutable(rules, "api", "v1")
    assert not is_immutable(rules, "api", "latest")


def test_excludes_decorations_invert_the_match():
    excluding = rule(1, "api", tags="latest")
    excluding["tag_selectors"][0]["decoration"] = "excludes"
    assert is_immutable([excluding], "api", "1.0")
    assert not is_immutable([excluding], "api", "latest")


def test_only_the_first_selectors_count():
    body = rule(1, "api")
    body["scope_selectors"]["repository"].append(
        {"kind": "doublestar", "decoration": "repoMatches", "pattern": "web"}
    )
    assert not is_immutable([body], "web", "1.0")


def test_a_malformed_rule_switches_off_every_later_rule():
    broken_tags = rule(1, "api", tags="[")
    broken_repository = rule(1, "{a,b")
    broken_kind = rule(1, "api")
    broken_kind["tag_selectors"][0]["kind"] = "regex"
    for first in (broken_tags, broken_repository, broken_kind):
        assert not is_immutable([first, rule(2, "api")], "api", "1.0")
    # An earlier good rule still counts: evaluation stops at the error, in id order.
    assert is_immutable([rule(2, "api", tags="["), rule(1, "api")], "api", "1.0")
    # The tag selector of a rule whose repository does not match is never built (as in Harbor).
    assert is_immutable([rule(1, "other", tags="["), rule(2, "api")], "api", "1.0")


@pytest.mark.parametrize(
    ("pattern", "name", "expected"), [*DOUBLESTAR_V1_3_4_TABLE, *DOUBLESTAR_V1_3_4_EXTRA]
)
def test_doublestar_v1_3_4_test_table(pattern, name, expected):
    if expected == ERROR:
        with pytest.raises(PatternError):
            doublestar_match(pattern, name)
    else:
        assert doublestar_match(pattern, name) is expected


@pytest.mark.parametrize(
    ("rules", "repository", "tags", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in HARBOR_MATCH_TEST_CASES + HARBOR_RULE_CASES],
)
def test_harbor_rule_evaluation(rules, repository, tags, expected):
    assert (matching_rule(rules, Candidate(repository, tags)) is not None) is expected


def test_an_error_for_one_tag_leaves_the_others_to_later_rules():
    rules = [rule(1, "api", tags="x["), rule(2, "api")]
    assert not is_immutable(rules, "api", "x1")  # Harbor stops at rule 1 for this tag
    assert is_immutable(rules, "api", "v1")  # rule 1 never reaches the bracket: rule 2 counts
    assert matching_rule(rules, Candidate("api", ("v1",))) == 2


def test_the_sandbox_and_the_client_agree_on_random_patterns():
    """Two ports of doublestar v1.3.4 written apart: any name and pattern on which they differ
    is a bug in one of them (both are checked on the tables above)."""
    from dtrctl.backends.harbor import doublestar as client  # the client, checked here

    def outcome(match, pattern: str, name: str) -> bool | str:
        try:
            return bool(match(pattern, name))
        except ValueError:
            return ERROR

    generator = random.Random(20)
    disagreements = []
    for _ in range(20_000):
        pattern = "".join(generator.choices("ab/*?[]{},\\-^!", k=generator.randint(0, 7)))
        name = "".join(generator.choices("ab/-!^", k=generator.randint(0, 6)))
        expected = outcome(client.doublestar_match, pattern, name)
        if outcome(doublestar.match, pattern, name) != expected:
            disagreements.append((pattern, name, expected))
    assert not disagreements, disagreements[:10]
