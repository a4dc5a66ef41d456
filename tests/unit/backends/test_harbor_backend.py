"""HarborBackend against an in-memory Harbor: immutability as rules dtrctl owns, project checks,
records, audit findings and push-check facts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from dtrctl.backends.harbor.backend import HarborBackend
from dtrctl.backends.harbor.rules import ImmutableRule, Selector, canonical_rule
from dtrctl.backends.harbor.wire import (
    HarborArtifact,
    HarborProject,
    HarborRepository,
    HarborTag,
)
from dtrctl.backends.harbor.writes import plan_immutability
from dtrctl.errors import Conflict, DtrctlError, ExitCode, NotFound, ServerError, UsageError
from dtrctl.records.changes import RepositorySettings, SettingsChange
from dtrctl.reference import RepositoryName

DIGEST = "sha256:" + "b" * 64


def pattern_rule(rule_id: int, repository: str, tags: str = "**", **changes: Any) -> ImmutableRule:
    rule = canonical_rule("x")
    return replace(
        rule,
        id=rule_id,
        repository_selectors=(Selector("doublestar", "repoMatches", repository),),
        tag_selectors=(Selector("doublestar", "matches", tags),),
        **changes,
    )


def own_rule(rule_id: int, path: str, *, disabled: bool = False) -> ImmutableRule:
    return replace(canonical_rule(path), id=rule_id, disabled=disabled)


class FakeHarbor:
    """Projects with rules and repositories; records every write."""

    def __init__(self) -> None:
        self.projects: dict[str, list[ImmutableRule]] = {"library": [], "engineering": []}
        self.repositories: dict[str, list[str]] = {"library": ["app"], "engineering": []}
        self.artifacts: dict[tuple[str, str, str], HarborArtifact] = {}
        self.writes: list[tuple[str, Any]] = []
        self.next_id = 100
        self.failure: Exception | None = None
        self.version: str | None = "v2.13.0-db1569ae"

    def _rules(self, project: str) -> list[ImmutableRule]:
        if project not in self.projects:
            raise NotFound(f"project {project} does not exist on Harbor", status=404)
        return self.projects[project]

    def check_credentials(self) -> None: ...

    def current_permissions(self, scope: str | None = None) -> list[tuple[str, str]]:
        return [("repository", "pull"), ("repository", "push")]

    def harbor_version(self) -> str | None:
        return self.version

    def project_exists(self, project: str) -> bool:
        if self.failure:
            raise self.failure
        return project in self.projects

    def get_project(self, project: str) -> HarborProject:
        self._rules(project)
        return HarborProject(project, 1, public=project == "library")

    def create_project(self, project: str, *, public: bool = False) -> None:
        self.writes.append(("create-project", project))
        self.projects[project], self.repositories[project] = [], []

    def list_projects(self) -> Iterator[HarborProject]:
        return iter([HarborProject(name, 1) for name in self.projects])

    def list_rules(self, project: str) -> list[ImmutableRule]:
        return list(self._rules(project))

    def create_rule(self, project: str, rule: ImmutableRule) -> int | None:
        self.writes.append(("create", rule))
        self.next_id += 1
        self._rules(project).append(replace(rule, id=self.next_id))
        return self.next_id

    def update_rule(self, project: str, rule: ImmutableRule) -> None:
        self.writes.append(("update", rule))
        rules = self._rules(project)
        rules[:] = [rule if stored.id == rule.id else stored for stored in rules]

    def delete_rule(self, project: str, rule_id: int) -> None:
        self.writes.append(("delete", rule_id))
        rules = self._rules(project)
        rules[:] = [stored for stored in rules if stored.id != rule_id]

    def list_repositories(self, project: str | None = None) -> Iterator[HarborRepository]:
        names = [project] if project else sorted(self.projects)
        return iter(
            [HarborRepository(name, path) for name in names for path in self.repositories[name]]
        )

    def get_repository(self, project: str, path: str) -> HarborRepository:
        from dtrctl.errors import RepositoryNotFound

        if path not in self.repositories.get(project, []):
            raise RepositoryNotFound(f"repository {project}/{path} does not exist", status=404)
        return HarborRepository(project, path)

    def update_repository_description(self, project: str, path: str, description: str) -> None:
        self.writes.append(("describe", description))

    def list_artifacts(self, project: str, path: str) -> Iterator[HarborArtifact]:
        stored = {
            artifact.digest: artifact
            for (where, name, _), artifact in self.artifacts.items()
            if (where, name) == (project, path)
        }
        return iter(stored.values())

    def get_artifact(self, project: str, path: str, tag: str) -> HarborArtifact | None:
        if self.failure:
            raise self.failure
        return self.artifacts.get((project, path, tag))


@pytest.fixture
def fake() -> FakeHarbor:
    return FakeHarbor()


@pytest.fixture
def backend(fake: FakeHarbor) -> HarborBackend:
    return HarborBackend(fake)


APP = RepositoryName("library", "app")


class TestPlan:
    def test_on_adds_the_canonical_rule(self) -> None:
        plan = plan_immutability([], "library", "team/app", True)
        assert [(a.kind, a.rule) for a in plan.actions] == [("create", canonical_rule("team/app"))]

    def test_on_changes_nothing_when_a_rule_covers_every_tag(self) -> None:
        assert plan_immutability([pattern_rule(1, "team/**")], "p", "team/app", True).actions == ()

    def test_on_re_enables_dtrctl_s_disabled_rule(self) -> None:
        plan = plan_immutability([own_rule(4, "app", disabled=True)], "p", "app", True)
        assert [(a.kind, a.rule.id, a.rule.disabled) for a in plan.actions] == [
            ("enable", 4, False)
        ]

    def test_on_behind_a_broken_rule_is_an_error_naming_it(self) -> None:
        broken = pattern_rule(2, "[", "**")
        plan = plan_immutability([broken], "library", "app", True)
        assert plan.actions == () and isinstance(plan.error, Conflict)
        assert "rule 2" in plan.error.message and plan.error.exit_code is ExitCode.FAILED

    def test_on_behind_a_pattern_broken_for_some_tags_names_it_and_those_tags(self) -> None:
        # issue #20: `x[` stops Harbor only for tags reaching the bracket; the others would be
        # immutable under dtrctl's rule, those never: not "immutable", and said so.
        plan = plan_immutability([pattern_rule(2, "app", "x[")], "library", "app", True)
        assert plan.actions == () and isinstance(plan.error, Conflict)
        assert "for some tags at rule 2" in plan.error.message

    def test_on_follows_the_server_s_glob_library(self) -> None:
        alternatives = pattern_rule(2, "{app,tools/x}")
        assert plan_immutability([alternatives], "p", "app", True, "1.3.4").actions == ()
        old = plan_immutability([alternatives], "p", "app", True, "1.1.1")
        assert isinstance(old.error, Conflict) and "rule 2" in old.error.message
        # Unknown version: on a v1.1.1 server rule 2 would stop Harbor before dtrctl's rule.
        unknown = plan_immutability([alternatives], "p", "app", True, None)
        assert isinstance(unknown.error, Conflict) and "rule 2" in unknown.error.message

    def test_a_sixteenth_rule_warns_of_the_ui_limit(self) -> None:
        rules = [pattern_rule(n, f"app{n}-*") for n in range(1, 16)]
        plan = plan_immutability(rules, "library", "app", True)
        assert plan.actions and "shows only 15" in plan.warnings[0]

    def test_a_sixteenth_repository_packs_dtrctl_s_rules_instead(self) -> None:
        rules = [own_rule(n, f"app{n}") for n in range(1, 16)]
        plan = plan_immutability(rules, "library", "app", True)
        assert plan.warnings == ()
        assert plan.actions[0].kind == "create"
        pattern = plan.actions[0].rule.repository_selectors[0].pattern
        assert pattern == "{" + ",".join(sorted(["app", *(f"app{n}" for n in range(1, 16))])) + "}"
        assert [(a.kind, a.rule.id) for a in plan.actions[1:]] == [
            ("delete", n) for n in sorted(range(1, 16), key=lambda n: f"app{n}")
        ]

    def test_off_deletes_only_dtrctl_s_rule(self) -> None:
        plan = plan_immutability([own_rule(1, "app"), pattern_rule(2, "other")], "p", "app", False)
        assert [(a.kind, a.rule.id) for a in plan.actions] == [("delete", 1)]

    def test_off_under_a_foreign_covering_rule_fails_naming_it(self) -> None:
        plan = plan_immutability([own_rule(1, "app"), pattern_rule(2, "**")], "p", "app", False)
        assert plan.actions == () and isinstance(plan.error, Conflict)
        assert "rule 2" in plan.error.message


class TestSetImmutability:
    def test_on_writes_one_rule_and_reports_the_change(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        result = backend.set_immutability(APP, True)
        assert (result.immutable, result.changed, result.error) == (True, True, None)
        assert fake.writes == [("create", canonical_rule("app"))]
        assert backend.set_immutability(APP, True).changed is False
        assert len(fake.writes) == 1

    def test_off_never_touches_a_rule_dtrctl_did_not_create(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        fake.projects["library"] = [pattern_rule(3, "**")]
        with pytest.raises(Conflict):
            backend.set_immutability(APP, False)
        assert fake.writes == []

    def test_a_missing_project_is_not_found(self, backend: HarborBackend) -> None:
        with pytest.raises(DtrctlError) as raised:
            backend.set_immutability(RepositoryName("nope", "app"), True)
        assert raised.value.exit_code is ExitCode.NOT_FOUND

    def test_preview_writes_nothing(self, backend: HarborBackend, fake: FakeHarbor) -> None:
        assert backend.preview_immutability(APP, True).changed is True
        assert fake.writes == []


class TestCreateAndRecords:
    def test_create_needs_the_project(self, backend: HarborBackend) -> None:
        with pytest.raises(NotFound, match="project team does not exist"):
            backend.create_repository(
                RepositoryName("team", "app"), RepositorySettings(immutable=True), exist_ok=False
            )

    def test_create_project_then_rule_and_say_it_appears_on_first_push(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        outcome = backend.create_repository(
            RepositoryName("team", "app"),
            RepositorySettings(immutable=True),
            exist_ok=False,
            create_project=True,
        )
        assert [kind for kind, _ in fake.writes] == ["create-project", "create"]
        assert outcome.repository.immutable and outcome.changed
        assert any("first push" in note for note in outcome.notes)

    def test_without_immutable_nothing_is_created(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        outcome = backend.create_repository(
            RepositoryName("engineering", "new"), RepositorySettings(), exist_ok=False
        )
        assert fake.writes == [] and not outcome.changed
        assert "nothing to create on Harbor" in outcome.notes[0]

    @pytest.mark.parametrize(
        "settings",
        [
            RepositorySettings(visibility="public"),
            RepositorySettings(tag_limit=3),
            RepositorySettings(scan_on_push=True),
            RepositorySettings(long_description="x"),
        ],
    )
    def test_settings_harbor_lacks_are_usage_errors(
        self, backend: HarborBackend, settings: RepositorySettings
    ) -> None:
        with pytest.raises(UsageError, match="does not apply on Harbor"):
            backend.create_repository(APP, settings, exist_ok=True)
        with pytest.raises(UsageError, match="does not apply on Harbor"):
            backend.apply_settings(SettingsChange(APP, settings, create=False))

    def test_records_carry_the_level_and_the_rules(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        fake.projects["library"] = [pattern_rule(1, "app", "v*")]
        record = backend.get_repository(APP)
        document = record.to_json()
        assert record.immutable is False and document["immutability"] == "some"
        assert document["rules"][0]["id"] == 1 and document["visibility"] == "public"

    def test_audit_reports_malformed_rules(self, backend: HarborBackend, fake: FakeHarbor) -> None:
        fake.projects["library"] = [pattern_rule(1, "[")]
        findings = backend.audit_findings(["library", "library"])
        assert [(f.namespace, f.rule_id, f.severity) for f in findings] == [("library", 1, "error")]


class TestPushFacts:
    def test_a_missing_project_is_no_repository(self, backend: HarborBackend) -> None:
        state = backend.repository_state(RepositoryName("nope", "app"), None)
        assert (state.found, state.error) == (False, None)

    def test_a_failed_look_up_is_an_error_never_absent(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        fake.failure = ServerError("down", status=503)
        assert backend.repository_state(APP, None).error is not None
        details = backend.tag_details(APP, "1.0")
        assert details.error is not None and details.found is None

    def test_a_tag_s_immutability_is_harbor_s_verdict(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        fake.artifacts[("library", "app", "1.0")] = HarborArtifact(
            DIGEST, (HarborTag("1.0", True, "2026-01-01T00:00:00Z"),)
        )
        details = backend.tag_details(APP, "1.0")
        assert (details.immutable, details.found, details.pushed_at) == (
            True,
            True,
            "2026-01-01T00:00:00Z",
        )
        assert backend.tag_details(APP, "2.0").found is False


class TestLostAnswers:
    def test_a_create_whose_answer_was_lost_is_judged_by_the_rules_read_after(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        from dtrctl.errors import RequestTimeout

        stored = fake.create_rule

        def create_then_time_out(project: str, rule: ImmutableRule) -> int | None:
            stored(project, rule)
            raise RequestTimeout("timed out")

        fake.create_rule = create_then_time_out  # type: ignore[method-assign]
        result = backend.set_immutability(APP, True)
        assert (result.changed, result.error) == (True, None)

    def test_a_lost_create_that_did_not_happen_is_reported_with_a_hint(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        from dtrctl.errors import RequestTimeout

        def time_out(project: str, rule: ImmutableRule) -> int | None:
            raise RequestTimeout("timed out")

        fake.create_rule = time_out  # type: ignore[method-assign]
        with pytest.raises(RequestTimeout) as raised:
            backend.set_immutability(APP, True)
        assert "may not have applied" in (raised.value.hint or "")
