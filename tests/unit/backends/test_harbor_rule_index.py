"""The packing planner's evaluation of many paths (`rule_index`): exactly Harbor's evaluation of
every rule (`repository_immutability`), the rules that name a path read once; and planning that
grows linearly with the names (a ratio measured in one run, never a wall-clock limit)."""

from __future__ import annotations

import random
import time
from dataclasses import replace

import pytest

from dtrctl.backends.harbor.doublestar import (
    GLOB_VERSIONS,
    GlobVersion,
    PatternError,
    doublestar_match,
)
from dtrctl.backends.harbor.packing import packed_rule, plan_project
from dtrctl.backends.harbor.rule_index import RuleIndex, literal_names
from dtrctl.backends.harbor.rules import (
    ImmutableRule,
    Selector,
    canonical_rule,
    repository_immutability,
)
from tests.unit.backends.test_harbor_packing_plans import GLOBS

# `t` beside `t/x`: v1.3.4's group `{t,t/x}` does not match `t`.
NAMES = ["a", "b", "t", "t/x", "t/y", "t/x/z", "team", "team/app", "app-1", "w.b", "svc_1"]
FOREIGN = ["team/**", "a*", "[", "{a,b", "**", "t/*", "{t/x,c}", "{B,a}", "t"]


def random_rules(rng: random.Random) -> list[ImmutableRule]:
    rules = []
    for rule_id in range(1, rng.randrange(0, 8) + 1):
        kind = rng.randrange(4)
        if kind == 0:
            rule = canonical_rule(rng.choice(NAMES))
        elif kind == 1:  # unsorted and repeated names too: not dtrctl's, still literal
            rule = replace(
                canonical_rule("x"),
                repository_selectors=(
                    Selector(
                        "doublestar",
                        "repoMatches",
                        "{" + ",".join(rng.choices(NAMES, k=rng.randrange(1, 5))) + "}",
                    ),
                ),
            )
        else:
            rule = replace(
                canonical_rule("x"),
                repository_selectors=(
                    Selector("doublestar", rng.choice(["repoMatches", "repoExcludes"]), "x"),
                ),
            )
            rule = replace(
                rule,
                repository_selectors=(
                    replace(rule.repository_selectors[0], pattern=rng.choice(FOREIGN)),
                ),
            )
        tags = rng.choice(["**", "**", "v*", "[", "x["])
        rule = replace(rule, tag_selectors=(Selector("doublestar", "matches", tags),))
        rules.append(replace(rule, id=rule_id, disabled=rng.random() < 0.2))
    return rules


@pytest.mark.parametrize("glob", GLOBS)
def test_every_path_gets_harbor_s_evaluation_of_every_rule(glob: GlobVersion | None) -> None:
    rng = random.Random(7)
    for _ in range(300):
        rules = random_rules(rng)
        index = RuleIndex(rules, glob)
        for path in [*NAMES, "other", "t/q"]:
            assert index.immutability(path) == repository_immutability(rules, path, glob), (
                rules,
                path,
            )


@pytest.mark.parametrize("version", GLOB_VERSIONS)
def test_a_literal_group_selects_only_names_it_holds_and_never_errors(
    version: GlobVersion,
) -> None:
    rng = random.Random(11)
    for _ in range(300):
        names = rng.sample(NAMES, rng.randrange(1, 6))
        rule = packed_rule(names)
        held = literal_names(rule, (version,))
        pattern = rule.repository_selectors[0].pattern
        if held is None:
            with pytest.raises(PatternError):
                doublestar_match(pattern, names[0], version)
            continue
        for path in [*NAMES, "other", "t/q"]:
            matched = doublestar_match(pattern, path, version)
            assert not matched or path in held


def _seconds(count: int) -> float:
    names = [f"svc-{number}" for number in range(1, count + 1)]
    start = time.perf_counter()
    plan = plan_project([], "p", names, (), "1.3.4")
    seconds = time.perf_counter() - start
    assert len(plan.changing) == count
    return seconds


def test_planning_ten_times_the_names_takes_less_than_fifteen_times_as_long() -> None:
    _seconds(100)  # imports and caches warmed
    small = min(_seconds(100) for _ in range(3))
    large = min(_seconds(1000) for _ in range(3))
    assert large / small < 15, (small, large)
