"""dtrctl's packed Harbor rules: recognition, the packing planner (bounds, doublestar versions,
nested names, idempotence, foreign rules, removal), each plan checked as Harbor evaluates it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dtrctl.backends.harbor.doublestar import V1_1_1, V1_3_4, doublestar_match, version_dependent
from dtrctl.backends.harbor.packing import (
    MAX_PACKED_PATTERN,
    after_rules,
    packable,
    packed_names,
    packed_pattern,
    packed_rule,
    plan_project,
)
from dtrctl.backends.harbor.rules import (
    ImmutableRule,
    Selector,
    canonical_rule,
    repository_immutability,
)
from dtrctl.errors import Conflict
from dtrctl.reference import RepositoryName
from tests.unit.backends.harbor_rule_builders import foreign, own, packed

VERSIONS = (V1_1_1, V1_3_4, None)


def immutable(rules: list[ImmutableRule], path: str, glob: str | None) -> bool:
    return repository_immutability(rules, path, glob).immutable  # type: ignore[arg-type]


def patterns(rules: list[ImmutableRule]) -> list[str]:
    return [rule.repository_selectors[0].pattern for rule in rules]


class TestRecognition:
    def test_a_packed_rule_is_sorted_literal_paths_in_braces_with_every_tag(self) -> None:
        rule = packed_rule(["b", "team/app", "a"])
        assert rule.repository_selectors[0].pattern == "{a,b,team/app}"
        assert rule.tag_selectors == (Selector("doublestar", "matches", "**"),)
        assert packed_names(rule) == ("a", "b", "team/app")

    @pytest.mark.parametrize(
        "pattern",
        ["{b,a}", "{a,a}", "{A,b}", "{a*,b}", "{a,{b,c}}", "{}", "{a,}", "a", "{a,b", "x{a,b}"],
    )
    def test_any_other_pattern_is_not_dtrctl_s(self, pattern: str) -> None:
        assert packed_names(foreign(1, pattern)) is None

    def test_excludes_other_tags_or_a_second_selector_are_not_dtrctl_s(self) -> None:
        rule = packed_rule(["a", "b"])
        excludes = Selector("doublestar", "repoExcludes", "{a,b}")
        assert packed_names(replace(rule, repository_selectors=(excludes,))) is None
        assert packed_names(foreign(1, "{a,b}", "v*")) is None
        tag = rule.tag_selectors[0]
        assert packed_names(replace(rule, tag_selectors=(tag, tag))) is None
        assert packed_names(replace(rule, action="retain")) is None


class TestPackable:
    def test_v1_3_4_packs_nested_names_v1_1_1_does_not(self) -> None:
        assert packable("team/app", V1_3_4) and packable("app", V1_3_4)
        assert packable("app", V1_1_1) and not packable("team/app", V1_1_1)

    def test_unknown_version_packs_only_what_both_read_alike(self) -> None:
        assert version_dependent("{team/app}") and not packable("team/app", None)
        assert not version_dependent("{app}") and packable("app", None)

    def test_a_packed_pattern_means_its_names_and_nothing_else(self) -> None:
        pattern = packed_pattern(["a", "a.b", "b-c", "team/app"])
        for name, expected in [("a", True), ("team/app", True), ("ab", False), ("team", False)]:
            assert doublestar_match(pattern, name, V1_3_4) is expected
        assert not version_dependent(packed_pattern(["a", "a.b", "b-c"]))


class TestPlan:
    def test_forty_repositories_become_one_rule(self) -> None:
        names = [f"app{n:02}" for n in range(40)]
        plan = plan_project([], "eng", names, glob=V1_3_4)
        assert [(a.kind, patterns([a.rule])[0]) for a in plan.actions] == [
            ("create", packed_pattern(names))
        ]
        assert [(c.key, c.action, c.repositories) for c in plan.layout] == [
            ("new rule 1", "create", tuple(names))
        ]
        assert plan.changing == set(names)
        after = after_rules([], plan.actions)
        assert all(immutable(after, name, V1_3_4) for name in names)
        assert not immutable(after, "app", V1_3_4)

    def test_past_the_bound_names_go_into_further_rules(self) -> None:
        names = [f"repository-{n:03}" for n in range(300)]
        plan = plan_project([], "eng", names, glob=V1_3_4)
        created = [a.rule for a in plan.actions]
        assert len(created) == 3
        assert all(len(p) <= MAX_PACKED_PATTERN for p in patterns(created))
        assert sorted(n for rule in created for n in packed_names(rule) or ()) == names

    def test_a_small_bound_splits_sooner(self) -> None:
        plan = plan_project([], "p", ["aa", "bb", "cc"], glob=V1_3_4, bound=len("{aa,bb}"))
        assert patterns([a.rule for a in plan.actions]) == ["{aa,bb}", "{cc}"]

    @pytest.mark.parametrize("glob", [V1_1_1, None])
    def test_nested_names_get_their_own_rule_where_alternatives_may_not_hold_slash(
        self, glob: str | None
    ) -> None:
        plan = plan_project([], "p", ["a", "b", "team/app", "team/db"], glob=glob)  # type: ignore[arg-type]
        assert sorted(patterns([a.rule for a in plan.actions])) == ["team/app", "team/db", "{a,b}"]
        after = after_rules([], plan.actions)
        for version in (V1_1_1, V1_3_4):  # whatever the server, every name immutable
            assert all(immutable(after, n, version) for n in ["a", "b", "team/app", "team/db"])

    def test_v1_3_4_packs_nested_names_too(self) -> None:
        plan = plan_project([], "p", ["a", "team/app"], glob=V1_3_4)
        assert patterns([a.rule for a in plan.actions]) == ["{a,team/app}"]

    def test_a_lone_name_gets_the_canonical_rule(self) -> None:
        plan = plan_project([], "p", ["app"], glob=V1_3_4)
        assert [a.rule for a in plan.actions] == [canonical_rule("app")]

    def test_a_name_joins_dtrctl_s_packed_rule_by_a_put(self) -> None:
        plan = plan_project([packed(4, "a", "c")], "p", ["b"], glob=V1_3_4)
        assert [(a.kind, a.rule) for a in plan.actions] == [("update", packed(4, "a", "b", "c"))]
        assert [(c.key, c.added) for c in plan.layout] == [("rule 4", ("b",))]

    def test_canonical_rules_are_merged_when_names_are_added(self) -> None:
        rules = [own(1, "a"), own(2, "b")]
        plan = plan_project(rules, "p", ["c"], glob=V1_3_4)
        assert [(a.kind, a.rule.id, patterns([a.rule])[0]) for a in plan.actions] == [
            ("create", None, "{a,b,c}"),
            ("delete", 1, "a"),
            ("delete", 2, "b"),
        ]
        assert plan.changing == {"c"}

    def test_a_canonical_rule_a_broken_rule_would_shadow_later_stays(self) -> None:
        # Rule 2 stops Harbor for `abc` (its '[' is reached) but not for `b` or `c`.
        rules = [own(1, "abc"), foreign(2, "ab[")]
        plan = plan_project(rules, "p", ["b", "c"], glob=V1_3_4)
        assert [(a.kind, patterns([a.rule])[0]) for a in plan.actions] == [("create", "{b,c}")]
        assert immutable(after_rules(rules, plan.actions), "abc", V1_3_4)

    def test_a_second_run_changes_nothing(self) -> None:
        names = [f"app{n}" for n in range(30)] + ["team/app"]
        rules = [own(1, "old"), foreign(2, "tools/**")]
        for glob in VERSIONS:
            plan = plan_project(rules, "p", names, glob=glob)
            again = plan_project(after_rules(rules, plan.actions), "p", names, glob=glob)
            assert again.actions == () and again.layout == () and again.changing == set()

    def test_foreign_rules_are_never_changed(self) -> None:
        rules = [
            foreign(1, "{b,a}"),
            foreign(2, "{a,b}", "v*"),
            packed(3, "a", "b", disabled=True),
            own(4, "c", disabled=False),
        ]
        plan = plan_project(rules, "p", ["d", "e"], ["a"], glob=V1_3_4)
        touched = {a.rule.id for a in plan.actions if a.rule.id is not None}
        assert touched == {4}  # dtrctl's canonical rule, merged
        # `{b,a}` is no packed rule of dtrctl's: it still covers `a`, and is left as it is.
        assert isinstance(plan.errors["a"], Conflict) and "rule 1" in plan.errors["a"].message

    def test_off_takes_the_name_out_and_deletes_an_emptied_rule(self) -> None:
        plan = plan_project([packed(5, "a", "b", "c"), packed(6, "d")], "p", (), ["b", "d"])
        assert [(a.kind, a.rule) for a in plan.actions] == [
            ("update", packed(5, "a", "c")),
            ("delete", packed(6, "d")),
        ]
        assert plan.changing == {"b", "d"}

    def test_off_under_a_foreign_rule_is_an_error_and_writes_nothing(self) -> None:
        plan = plan_project([packed(5, "a", "b"), foreign(6, "**")], "p", (), ["b"])
        assert plan.actions == () and isinstance(plan.errors["b"], Conflict)
        assert "rule 6" in plan.errors["b"].message

    def test_a_blocked_name_is_an_error_the_others_still_packed(self) -> None:
        rules = [foreign(1, "ab[")]  # stops Harbor for `abc`, not for `x` or `y`
        plan = plan_project(rules, "p", ["abc", "x", "y"], glob=V1_3_4)
        assert isinstance(plan.errors["abc"], Conflict)
        assert patterns([a.rule for a in plan.actions]) == ["{x,y}"]

    def test_the_plan_is_harbor_s_evaluation_for_every_version(self) -> None:
        names = ["a", "b", "team/app"]
        for glob in VERSIONS:
            plan = plan_project([own(1, "z")], "p", names, ["z"], glob=glob)
            after = after_rules([own(1, "z")], plan.actions)
            assert all(immutable(after, n, glob) for n in names)
            assert not immutable(after, "z", glob)


def test_repo_show_marks_a_packed_rule_naming_the_repository_as_dtrctl_s() -> None:
    from dtrctl.backends.harbor.repository_record import rule_json

    assert rule_json(packed(3, "a", "team/app"), "team/app")["dtrctl"] is True
    assert rule_json(packed(3, "a", "b"), "team/app")["dtrctl"] is False
    assert rule_json(foreign(4, "{b,a}"), "a")["dtrctl"] is False


class TestWrites:
    """Through HarborBackend on the in-memory Harbor of test_harbor_backend: the writes made."""

    @pytest.fixture
    def fake(self) -> Any:
        from tests.unit.backends.test_harbor_backend import FakeHarbor

        return FakeHarbor()

    def test_names_one_at_a_time_end_in_one_packed_rule(self, fake: Any) -> None:
        from dtrctl.backends.harbor.backend import HarborBackend

        backend = HarborBackend(fake)
        for path in ("a", "b", "c"):
            result = backend.set_immutability(RepositoryName("library", path), True)
            assert (result.changed, result.error) == (True, None)
        assert fake.writes == [
            ("create", canonical_rule("a")),
            ("create", packed_rule(["a", "b"])),
            ("delete", 101),
            ("update", packed(102, "a", "b", "c")),
        ]
        assert patterns(fake.projects["library"]) == ["{a,b,c}"]

    def test_one_plan_per_project_for_many_names(self, fake: Any) -> None:
        from dtrctl.backends.harbor.backend import HarborBackend
        from dtrctl.repos.packed import change_by_project

        names = [RepositoryName("library", p) for p in ("c", "a", "b")]
        names.append(RepositoryName("engineering", "x"))
        outcome, layout = change_by_project(
            HarborBackend(fake), dict.fromkeys(names, True), write=True
        )
        assert [r.repository for r in outcome.results] == [str(n) for n in names]
        assert all(r.changed and r.error is None for r in outcome.results)
        assert fake.writes == [
            ("create", canonical_rule("x")),
            ("create", packed_rule(["a", "b", "c"])),
        ]
        assert [(i.project, i.key) for i in layout] == [
            ("engineering", "new rule for x"),
            ("library", "new rule 1"),
        ]

    def test_a_lost_put_not_applied_is_an_error_with_a_hint(self, fake: Any) -> None:
        from dtrctl.backends.harbor.backend import HarborBackend
        from dtrctl.errors import RequestTimeout

        fake.projects["library"] = [packed(7, "b")]

        def lost(project: str, rule: ImmutableRule) -> None:
            raise RequestTimeout("timed out")

        fake.update_rule = lost
        # One repository's change raises (#19); the bulk runner turns it into its result.
        with pytest.raises(RequestTimeout) as lost_answer:
            HarborBackend(fake).set_immutability(RepositoryName("library", "a"), True)
        assert lost_answer.value.hint and "may not have applied" in lost_answer.value.hint

    def test_a_refused_clean_up_leaves_the_repositories_as_asked_and_says_so(
        self, fake: Any
    ) -> None:
        from dtrctl.backends.harbor.backend import HarborBackend

        fake.projects["library"] = [own(7, "a")]

        def refused(project: str, rule_id: int) -> None:
            raise Conflict(f"Harbor refused to delete immutability rule {rule_id}")

        fake.delete_rule = refused
        result = HarborBackend(fake).set_immutability(RepositoryName("library", "b"), True)
        assert (result.changed, result.error) == (True, None)
        assert "not all packed yet" in result.warnings[-1]
        assert patterns(fake.projects["library"]) == ["a", "{a,b}"]

    def test_a_refused_write_is_the_error_of_the_repositories_it_leaves_wrong(
        self, fake: Any
    ) -> None:
        from dtrctl.backends.harbor.backend import HarborBackend
        from dtrctl.errors import PermissionDenied

        def denied(project: str, rule: ImmutableRule) -> int | None:
            raise PermissionDenied("no")

        fake.create_rule = denied
        with pytest.raises(PermissionDenied):
            HarborBackend(fake).set_immutability(RepositoryName("library", "b"), True)
