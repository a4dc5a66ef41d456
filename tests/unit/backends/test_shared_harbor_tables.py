"""The client's matcher and the sandbox's own agree with Harbor on every shared table.

tests/harbor_cases.py holds Harbor's cases (FACTS.md, doublestar v1.3.4's `matchTests`,
goharbor/harbor src/pkg/immutable/match/rule/match_test.go, and rule cases read off match.go).
The two matchers were written separately; each runs here on the tables the other was built
against, so neither can drift from Harbor unseen.
"""

from __future__ import annotations

import pytest

from dtrctl.backends.harbor.doublestar import V1_3_4, PatternError, doublestar_match
from dtrctl.backends.harbor.rules import ImmutableRule, tag_is_immutable
from dtrctl.sandbox.harbor.matching import is_immutable
from tests.harbor_cases import (
    DOUBLESTAR_V1_3_4_EXTRA,
    DOUBLESTAR_V1_3_4_TABLE,
    ERROR,
    HARBOR_MATCH_TEST_CASES,
    HARBOR_MATCH_TESTS,
    HARBOR_RULE_CASES,
)


def client_match(pattern: str, name: str) -> bool | str:
    try:
        return doublestar_match(pattern, name, V1_3_4)
    except PatternError:
        return ERROR


@pytest.mark.parametrize(
    ("pattern", "name", "expected"), [*DOUBLESTAR_V1_3_4_TABLE, *DOUBLESTAR_V1_3_4_EXTRA]
)
def test_the_client_matcher_on_doublestar_v1_3_4_s_own_table(
    pattern: str, name: str, expected: bool | str
) -> None:
    assert client_match(pattern, name) == expected


def client_verdict(bodies: list[dict[str, object]], repository: str, tags: tuple[str, ...]) -> bool:
    rules = [ImmutableRule.from_api(body) for body in bodies]
    # An untagged candidate is never immutable in Harbor: there is no tag to protect.
    return any(tag_is_immutable(rules, repository, tag, V1_3_4).immutable for tag in tags)


@pytest.mark.parametrize(
    ("case", "bodies", "repository", "tags", "expected"),
    [*HARBOR_MATCH_TEST_CASES, *HARBOR_RULE_CASES],
)
def test_the_client_rules_on_the_sandbox_s_rule_cases(
    case: str,
    bodies: list[dict[str, object]],
    repository: str,
    tags: tuple[str, ...],
    expected: bool,
) -> None:
    assert client_verdict(bodies, repository, tags) is expected, case


SANDBOX_SIDE = [
    (name, rules, repository, tag, expected)
    for name, (rules, candidates) in HARBOR_MATCH_TESTS.items()
    for repository, tag, expected in candidates
]


@pytest.mark.parametrize(("case", "bodies", "repository", "tag", "expected"), SANDBOX_SIDE)
def test_the_sandbox_rules_on_the_client_s_match_test_cases(
    case: str, bodies: list[dict[str, object]], repository: str, tag: str, expected: bool
) -> None:
    numbered = [{"id": index, "disabled": False, **body} for index, body in enumerate(bodies, 1)]
    assert is_immutable(numbered, repository, tag) is expected, case
