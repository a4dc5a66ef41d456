"""`repo unlock` on Harbor: which rules a window disables, what else they cover, and restoring
(a rule deleted meanwhile comes back)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dtrctl.backends.harbor.backend import HarborBackend
from dtrctl.backends.harbor.rules import ImmutableRule, Selector, repository_immutability
from dtrctl.errors import Conflict, ServerError
from dtrctl.reference import RepositoryName
from tests.unit.backends.test_harbor_backend import FakeHarbor, own_rule, pattern_rule

API = RepositoryName("engineering", "api")


def harbor(
    *rules: object, repositories: tuple[str, ...] = ("api", "web", "team/app")
) -> FakeHarbor:
    fake = FakeHarbor()
    fake.projects["engineering"] = list(rules)  # type: ignore[arg-type]
    fake.repositories["engineering"] = list(repositories)
    return fake


def test_every_enabled_rule_selecting_the_repository_is_lifted_and_no_other() -> None:
    fake = harbor(
        own_rule(1, "api"),
        own_rule(2, "web"),  # another repository
        pattern_rule(3, "**", tags="v*"),  # some tags of every repository
        own_rule(4, "api", disabled=True),  # off already
        replace(
            own_rule(5, "api"), tag_selectors=(Selector("doublestar", "excludes", "**"),)
        ),  # selects no tag
        replace(
            own_rule(6, "api"),
            repository_selectors=(Selector("doublestar", "repoExcludes", "api"),),
        ),  # every repository but this one
    )
    changes = HarborBackend(fake).plan_unlock(API)
    assert [change.rule_id for change in changes] == [1, 3]
    assert changes[0].also_covers == ()
    assert changes[1].also_covers == ("engineering/team/app", "engineering/web")
    assert all(change.kind == "rule" and change.project == "engineering" for change in changes)


def test_a_mutable_repository_needs_nothing() -> None:
    assert HarborBackend(harbor(own_rule(2, "web"))).plan_unlock(API) == ()


def test_lift_disables_and_restore_enables_only_that_rule() -> None:
    fake = harbor(own_rule(1, "api"), own_rule(2, "web"))
    backend = HarborBackend(fake)
    [change] = backend.plan_unlock(API)
    backend.lift_change(change)
    assert [rule.disabled for rule in fake.projects["engineering"]] == [True, False]
    assert backend.plan_unlock(API) == ()
    backend.restore_change(change)
    backend.restore_change(change)  # idempotent: --recover after a restore changes nothing
    assert [rule.disabled for rule in fake.projects["engineering"]] == [False, False]
    # Each write toggled `disabled` only (Harbor's PUT then ignores the rest).
    assert [(kind, rule.id, rule.disabled) for kind, rule in fake.writes] == [
        ("update", 1, True),
        ("update", 1, False),
    ]


@pytest.mark.parametrize(
    "rule",
    [
        own_rule(1, "api"),  # disabled for the window
        pattern_rule(1, "{api,web}"),  # narrowed: it comes back whole
    ],
)
def test_a_rule_deleted_during_the_window_is_created_again(rule: ImmutableRule) -> None:
    fake = harbor(rule)
    backend = HarborBackend(fake)
    [change] = backend.plan_unlock(API)
    backend.lift_change(change)
    fake.projects["engineering"].clear()
    backend.restore_change(change)
    [created] = fake.projects["engineering"]
    assert replace(created, id=1) == rule
    assert backend.plan_unlock(API) != ()  # immutable again


def test_a_repository_harbor_does_not_have_is_not_found() -> None:
    from dtrctl.errors import RepositoryNotFound

    with pytest.raises(RepositoryNotFound):
        HarborBackend(harbor(own_rule(1, "api"), repositories=("web",))).plan_unlock(API)


@pytest.mark.parametrize(
    ("version", "lifted"),
    [
        ("v2.13.0", [1]),  # doublestar v1.3.4: the alternatives select team/app
        ("v2.8.0", []),  # v1.1.1: a syntax error, so Harbor never makes a tag immutable by it
        (None, [1]),  # unknown: lifted, since the window must work whichever the server links
    ],
)
def test_the_server_s_doublestar_decides_which_rules_select(
    version: str | None, lifted: list[int]
) -> None:
    fake = harbor(pattern_rule(1, "{team/app,x/y}"))
    fake.version = version
    changes = HarborBackend(fake).plan_unlock(RepositoryName("engineering", "team/app"))
    assert [change.rule_id for change in changes] == lifted


def packed(rule_id: int, *names: str) -> ImmutableRule:
    return pattern_rule(rule_id, "{" + ",".join(names) + "}")


class TestNarrowing:
    def test_a_packed_rule_is_narrowed_to_the_other_names_not_disabled(self) -> None:
        fake = harbor(packed(1, "api", "db", "web"), repositories=("api", "db", "web"))
        [change] = HarborBackend(fake).plan_unlock(API)
        assert (change.rule_id, change.action, change.also_covers) == (1, "narrow", ())
        assert change.summary == "narrowed rule 1 of project engineering: {api,db,web} without api"
        assert change.to_json()["narrowed_to"] == "{db,web}"
        assert change.narrowed == packed(1, "db", "web").to_api()
        assert change.rule == packed(1, "api", "db", "web").to_api()

    def test_lift_replaces_the_content_and_restore_puts_it_back_same_id(self) -> None:
        fake = harbor(own_rule(1, "x"), packed(2, "api", "web"), repositories=("api", "web"))
        backend = HarborBackend(fake)
        [change] = backend.plan_unlock(API)
        backend.lift_change(change)
        assert backend.plan_unlock(API) == ()  # api mutable
        # The rest of the pack is not.
        assert repository_immutability(fake.projects["engineering"], "web").immutable
        backend.restore_change(change)
        backend.restore_change(change)  # idempotent, as --recover after a restore
        assert fake.projects["engineering"] == [own_rule(1, "x"), packed(2, "api", "web")]
        assert fake.writes == [("update", packed(2, "web")), ("update", packed(2, "api", "web"))]

    @pytest.mark.parametrize(
        "rule",
        [
            packed(1, "api"),  # nothing would be left
            pattern_rule(1, "{api,team/**}"),  # not a list of names
            pattern_rule(1, "**"),
            own_rule(1, "api"),  # one literal name: disabled as always
            replace(  # a list, but of the repositories NOT selected
                packed(1, "db", "web"),
                repository_selectors=(Selector("doublestar", "repoExcludes", "{db,web}"),),
            ),
        ],
    )
    def test_other_rules_are_disabled(self, rule: ImmutableRule) -> None:
        [change] = HarborBackend(harbor(rule, repositories=("api", "web"))).plan_unlock(API)
        assert (change.action, change.narrowed) == ("disable", None)
        assert change.summary.startswith("disabled rule 1 (")

    def test_a_narrowing_identical_to_another_rule_disables_instead(self) -> None:
        # Harbor keeps a project's rules unique: the narrowed rule would be rule 2.
        fake = harbor(packed(1, "api", "web"), packed(2, "web"), repositories=("api", "web"))
        [change] = HarborBackend(fake).plan_unlock(API)
        assert (change.action, change.also_covers) == ("disable", ("engineering/web",))

    def test_a_rule_changed_by_someone_during_the_window_is_left_and_named(self) -> None:
        fake = harbor(packed(1, "api", "web"), repositories=("api", "web"))
        backend = HarborBackend(fake)
        [change] = backend.plan_unlock(API)
        backend.lift_change(change)
        fake.projects["engineering"] = [packed(1, "db", "web")]  # an admin's edit
        with pytest.raises(Conflict) as raised:
            backend.restore_change(change)
        assert "was changed by someone else" in raised.value.message
        assert "'{db,web}'" in raised.value.message and "'{web}'" in raised.value.message
        assert fake.projects["engineering"] == [packed(1, "db", "web")]
        assert len(fake.writes) == 1  # the narrowing only

    def test_an_edit_during_the_window_that_covers_the_repository_again_is_kept(self) -> None:
        fake = harbor(packed(1, "api", "web"), repositories=("api", "web"))
        backend = HarborBackend(fake)
        [change] = backend.plan_unlock(API)
        backend.lift_change(change)
        fake.projects["engineering"] = [packed(1, "api", "db", "web")]  # db packed meanwhile
        backend.restore_change(change)  # nothing of the window's to put back
        assert fake.projects["engineering"] == [packed(1, "api", "db", "web")]
        assert len(fake.writes) == 1

    def test_a_rule_changed_between_plan_and_lift_is_not_written(self) -> None:
        fake = harbor(packed(1, "api", "web"), repositories=("api", "web"))
        backend = HarborBackend(fake)
        [change] = backend.plan_unlock(API)
        fake.projects["engineering"] = [packed(1, "api", "db", "web")]
        with pytest.raises(Conflict, match="since dtrctl read it") as raised:
            backend.lift_change(change)
        assert raised.value.hint is not None and "The command did not run" in raised.value.hint
        assert fake.writes == []

    def test_a_lost_answer_is_settled_by_reading_and_a_refusal_is_raised(self) -> None:
        fake = harbor(packed(1, "api", "web"), repositories=("api", "web"))
        backend = HarborBackend(fake)
        [change] = backend.plan_unlock(API)
        applied = fake.update_rule

        def lost(project: str, rule: ImmutableRule) -> None:
            applied(project, rule)
            raise ServerError("the answer was lost", status=502)

        fake.update_rule = lost  # type: ignore[method-assign]
        backend.lift_change(change)  # written: no error
        assert fake.projects["engineering"] == [packed(1, "web")]

        def refused(project: str, rule: ImmutableRule) -> None:
            raise Conflict("cannot change immutability rule 1: conflict", status=409)

        fake.update_rule = refused  # type: ignore[method-assign]
        with pytest.raises(Conflict):
            backend.restore_change(change)
        assert fake.projects["engineering"] == [packed(1, "web")]
