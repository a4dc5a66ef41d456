"""Narrowing a rule for `repo unlock`: which rules are lists of names, the rule without one
name, and when Harbor's evaluation lets dtrctl narrow rather than disable."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dtrctl.backends.harbor.doublestar import V1_1_1, V1_3_4, GlobVersion
from dtrctl.backends.harbor.narrowing import brace_names, narrowing, without
from dtrctl.backends.harbor.rules import Selector
from tests.unit.backends.test_harbor_backend import own_rule, pattern_rule


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("{api,web}", ("api", "web")),
        ("{web,api,team/app}", ("web", "api", "team/app")),  # any order: any admin's list
        ("{api}", ("api",)),
        ("{api,w*}", None),  # a glob among them
        ("{api,web", None),
        ("api", None),
        ("{api,}", None),
    ],
)
def test_only_a_list_of_literal_names_is_one(pattern: str, names: tuple[str, ...] | None) -> None:
    assert brace_names(pattern_rule(1, pattern)) == names


def test_a_list_of_excluded_names_is_not_one() -> None:
    excluding = replace(
        pattern_rule(1, "{api,web}"),
        repository_selectors=(Selector("doublestar", "repoExcludes", "{api,web}"),),
    )
    assert brace_names(excluding) is None


def test_without_keeps_the_order_and_everything_else() -> None:
    rule = pattern_rule(7, "{web,api,db}", tags="v*", priority=3)
    assert without(rule, "api") == pattern_rule(7, "{web,db}", tags="v*", priority=3)
    assert without(rule, "nope") is None
    assert without(pattern_rule(7, "{api,api}"), "api") is None  # nothing left: disable


@pytest.mark.parametrize(
    ("glob", "narrowed"),
    [
        (V1_3_4, "{api}"),
        # On doublestar v1.1.1 `{api,team/app}` is a syntax error: Harbor stops at the rule for
        # every repository. `{api}` would work there and change what api and every later rule
        # get: with the server's version unknown, dtrctl cannot show narrowing safe.
        (None, None),
    ],
)
def test_a_narrowing_that_changes_another_repository_is_refused(
    glob: GlobVersion | None, narrowed: str | None
) -> None:
    rule = pattern_rule(1, "{api,team/app}")
    rules = [rule, own_rule(2, "web")]
    result = narrowing(rules, rule, "team/app", ["api", "web"], glob)
    assert (result.repository_selectors[0].pattern if result else None) == narrowed


def test_v1_1_1_narrows_a_list_of_plain_names() -> None:
    rule = pattern_rule(1, "{api,db,web}")
    result = narrowing([rule], rule, "db", ["api", "web"], V1_1_1)
    assert result == pattern_rule(1, "{api,web}")
