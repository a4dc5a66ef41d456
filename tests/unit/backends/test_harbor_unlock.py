"""`repo unlock` on Harbor: which rules a window disables, what else they cover, and restoring
(a rule deleted meanwhile comes back)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dtrctl.backends.harbor.backend import HarborBackend
from dtrctl.backends.harbor.rules import Selector
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


def test_a_rule_deleted_during_the_window_is_created_again() -> None:
    fake = harbor(own_rule(1, "api"))
    backend = HarborBackend(fake)
    [change] = backend.plan_unlock(API)
    backend.lift_change(change)
    fake.projects["engineering"].clear()
    backend.restore_change(change)
    [created] = fake.projects["engineering"]
    assert replace(created, id=1) == own_rule(1, "api")
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
