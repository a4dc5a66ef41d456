"""Packing a one-component name with names below it (`a` with `a/b`): doublestar v1.3.4 reads
`{a,a/b}` as `a/b` only, so the planner never forms such a group and every name asked for ends up
immutable, on every doublestar version; a name not asked for is never selected."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from dtrctl.backends.harbor.doublestar import (
    GLOB_VERSIONS,
    V1_1_1,
    V1_3_4,
    GlobVersion,
    PatternError,
    doublestar_match,
)
from dtrctl.backends.harbor.packing import (
    ProjectPlan,
    after_rules,
    packed_names,
    packed_rule,
    plan_project,
)
from dtrctl.backends.harbor.packing_draft import selects_each
from dtrctl.backends.harbor.rules import canonical_rule, repository_immutability
from dtrctl.sandbox.harbor import doublestar as sandbox_doublestar

ASKED = ["a", "a/b", "a/b/c", "x"]
OTHERS = ["b", "ab", "a/c", "a/bb", "a/b/c/d", "x/a", "b/a"]


def versions_of(glob: GlobVersion | None) -> tuple[GlobVersion, ...]:
    return GLOB_VERSIONS if glob is None else (glob,)


def selected(pattern: str, name: str, version: GlobVersion) -> bool:
    try:
        return doublestar_match(pattern, name, version)
    except PatternError:
        return False


def patterns(plan: ProjectPlan) -> list[str]:
    return [action.rule.repository_selectors[0].pattern for action in plan.actions]


class TestTheRule:
    def test_a_group_selects_each_name_exactly_when_no_name_of_one_part_has_one_below(
        self,
    ) -> None:
        # The rule `selects_each` checks, against both ports of doublestar v1.3.4.
        universe = ["a", "b", "ab", "a/b", "a/c", "a/b/c", "b/a", "ab/c", "a/ab"]
        for size in (1, 2, 3):
            for group in itertools.combinations(universe, size):
                pattern = packed_rule(group).repository_selectors[0].pattern
                exact = all(
                    doublestar_match(pattern, name, V1_3_4)
                    and sandbox_doublestar.match(pattern, name)
                    for name in group
                )
                assert selects_each(group) == exact, pattern
                for name in set(universe) - set(group):  # and never another name
                    assert not doublestar_match(pattern, name, V1_3_4)


class TestPlan:
    def test_under_v1_3_4_a_and_the_names_below_it_go_into_separate_rules(self) -> None:
        plan = plan_project([], "p", ASKED, glob=V1_3_4)
        assert plan.errors == {}
        assert patterns(plan) == ["{a,x}", "{a/b,a/b/c}"]
        assert plan.changing == set(ASKED)

    @pytest.mark.parametrize("glob", [V1_3_4, V1_1_1, None])
    def test_every_name_asked_for_is_immutable_and_no_other_is_selected(
        self, glob: GlobVersion | None
    ) -> None:
        plan = plan_project([], "p", ASKED, glob=glob)
        assert plan.errors == {}
        after = after_rules([], plan.actions)
        for version in versions_of(glob):
            for name in ASKED:
                assert repository_immutability(after, name, version).immutable, (version, name)
            for name in OTHERS:
                assert not repository_immutability(after, name, version).immutable
        for pattern in patterns(plan):  # as the sandbox's own port of v1.3.4 reads them too
            assert all(sandbox_doublestar.match(pattern, n) for n in pattern.strip("{}").split(","))

    def test_a_name_below_stays_out_of_a_rule_holding_its_top(self) -> None:
        rules = [replace(packed_rule(["a", "c"]), id=1)]
        plan = plan_project(rules, "p", ["a/b", "d"], glob=V1_3_4)
        assert [
            (a.kind, a.rule.id, p) for a, p in zip(plan.actions, patterns(plan), strict=True)
        ] == [
            ("create", None, "{a/b}"),
            ("update", 1, "{a,c,d}"),
        ]

    def test_a_top_name_stays_out_of_a_rule_holding_a_name_below_it(self) -> None:
        rules = [replace(packed_rule(["a/b", "c"]), id=1)]
        plan = plan_project(rules, "p", ["a"], glob=V1_3_4)
        assert [(a.kind, p) for a, p in zip(plan.actions, patterns(plan), strict=True)] == [
            ("create", "a")
        ]
        assert repository_immutability(after_rules(rules, plan.actions), "a", V1_3_4).immutable

    def test_a_rule_that_misses_a_name_it_holds_is_never_extended(self) -> None:
        # `{a,a/b}` (as dtrctl wrote it before) selects `a/b` only: `a` gets its own rule.
        rules = [replace(packed_rule(["a", "a/b"]), id=1)]
        plan = plan_project(rules, "p", ["a", "c"], glob=V1_3_4)
        assert plan.errors == {}
        assert patterns(plan) == ["{a,c}"]
        after = after_rules(rules, plan.actions)
        assert all(repository_immutability(after, n, V1_3_4).immutable for n in ["a", "a/b", "c"])

    @pytest.mark.parametrize("glob", [V1_3_4, None])
    def test_random_nested_names_each_selected_by_the_group_it_is_put_in(
        self, glob: GlobVersion | None
    ) -> None:
        rng = random.Random(25)
        tops = ["a", "b", "ab", "team"]
        names = tops + [f"{t}/{s}" for t in tops for s in ("a", "b", "app")] + ["a/b/c", "b/a/b"]
        for _ in range(150):
            asked = rng.sample(names, rng.randrange(2, 12))
            bound = rng.choice([12, 20, 2000])
            plan = plan_project([], "p", asked, glob=glob, bound=bound)
            assert plan.errors == {}, asked
            for action in plan.actions:
                group = packed_names(action.rule) or (action.rule.repository_selectors[0].pattern,)
                pattern = action.rule.repository_selectors[0].pattern
                for version in versions_of(glob):
                    assert all(selected(pattern, n, version) for n in group), (pattern, version)


def test_a_lone_name_below_another_rule_keeps_the_canonical_rule() -> None:
    plan = plan_project([replace(packed_rule(["a", "x"]), id=1)], "p", ["a/b"], glob=V1_3_4)
    assert [a.rule for a in plan.actions] == [canonical_rule("a/b")]
