"""The installed `dtrctl` against `dtrctl sandbox --flavor harbor`: every command on MSR 4 /
Harbor, skopeo pushing real images, and a migration from the DTR sandbox."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtrctl.sandbox.images import build_image, write_oci_layout
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, Run, Skopeo, dtrctl_binary, run_dtrctl

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
ROBOT = ("robot$dtrctl", "sandbox-robot-dtrctl-secret")
CI_ROBOT = "robot$engineering+ci:sandbox-robot-ci-secret"


@pytest.fixture
def harbor() -> Iterator[SandboxServer]:
    with SandboxServer(flavor="harbor", seed="demo") as server:
        yield server


def dtrctl(server: SandboxServer, *args: str, user: tuple[str, str] = ROBOT) -> Run:
    """Under `auto`, with no profile: the run detects Harbor itself."""
    env = {"DTRCTL_URL": server.url, "DTRCTL_USERNAME": user[0], "DTRCTL_PASSWORD": user[1]}
    return run_dtrctl(*args, env=env)


def as_json(run: Run) -> Any:
    return json.loads(run.stdout)


def add_rule(server: SandboxServer, project: str, repository: str, tags: str, **extra: Any) -> None:
    """A rule dtrctl did not write, as an admin adds it in Harbor's UI or API."""
    rule = {
        "action": "immutable",
        "template": "immutable_template",
        "scope_selectors": {
            "repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": repository}
            ]
        },
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": tags}],
        **extra,
    }
    with httpx.Client(base_url=server.url, auth=ADMIN) as client:
        answer = client.post(
            f"/api/v2.0/projects/{project}/immutabletagrules",
            json=rule,
            headers={"X-Is-Resource-Name": "true"},
        )
    assert answer.status_code == 201, answer.text


class TestRepositoryCommands:
    def test_list_evaluates_every_project_s_rules(self, harbor: SandboxServer) -> None:
        run = dtrctl(harbor, "repo", "list", "-o", "json")
        assert run.code == 0, run.stderr
        levels = {r["repository"]: r["immutability"] for r in as_json(run)["repositories"]}
        assert levels == {
            "engineering/api": "all",
            "engineering/team/app": "some",
            "engineering/web": "none",
            "library/alpine": "none",
            "library/nginx": "all",
        }

    def test_show_names_the_rule_that_applies(self, harbor: SandboxServer) -> None:
        run = dtrctl(harbor, "repo", "show", "library/nginx", "-o", "json")
        assert run.code == 0, run.stderr
        repository = as_json(run)["repository"]
        assert repository["immutable"] is True
        assert [(rule["dtrctl"], rule["covers"]) for rule in repository["rules"]] == [(True, "all")]

    def test_set_immutable_on_then_off_round_trips(self, harbor: SandboxServer) -> None:
        on = dtrctl(harbor, "repo", "set-immutable", "engineering/web", "-o", "json")
        assert on.code == 0, on.stderr
        assert as_json(on)["results"][0]["changed"] is True
        again = dtrctl(harbor, "repo", "set-immutable", "engineering/web", "-o", "json")
        assert as_json(again)["results"][0]["changed"] is False
        off = dtrctl(harbor, "repo", "set-immutable", "engineering/web", "--off")
        assert off.code == 0, off.stderr
        shown = as_json(dtrctl(harbor, "repo", "show", "engineering/web", "-o", "json"))
        assert shown["repository"]["immutability"] == "none"

    def test_the_disabled_rule_is_enabled_again(self, harbor: SandboxServer) -> None:
        run = dtrctl(harbor, "repo", "set-immutable", "library/alpine")
        assert run.code == 0, run.stderr
        rules = as_json(dtrctl(harbor, "repo", "show", "library/alpine", "-o", "json"))
        assert [rule["id"] for rule in rules["repository"]["rules"]] == [2]

    def test_off_under_a_foreign_rule_exits_1_and_deletes_nothing(
        self, harbor: SandboxServer
    ) -> None:
        add_rule(harbor, "engineering", "**", "**")
        run = dtrctl(harbor, "repo", "set-immutable", "engineering/api", "--off")
        assert run.code == 1
        assert "dtrctl never edits or deletes a rule it did not create" in run.stderr
        shown = as_json(dtrctl(harbor, "repo", "show", "engineering/api", "-o", "json"))
        assert len(shown["repository"]["rules"]) == 2

    def test_create_needs_the_project_unless_asked(self, harbor: SandboxServer) -> None:
        missing = dtrctl(harbor, "repo", "create", "team/app", "--immutable")
        assert missing.code == 4
        assert "project team does not exist" in missing.stderr
        created = dtrctl(
            harbor, "repo", "create", "team/app", "--immutable", "--create-project", "-o", "json"
        )
        assert created.code == 0, created.stderr
        document = as_json(created)
        assert document["repository"]["immutable"] is True
        assert any("first push" in note for note in document["notes"])

    def test_audit_reports_a_malformed_rule(self, harbor: SandboxServer) -> None:
        add_rule(harbor, "library", "[", "**")
        run = dtrctl(harbor, "repo", "audit", "library/nginx", "-o", "json")
        assert run.code == 1
        findings = as_json(run)["findings"]
        assert [(f["namespace"], f["code"], f["severity"]) for f in findings] == [
            ("library", "bad-pattern", "error")
        ]

    def test_apply_makes_the_policy_true_then_changes_nothing(
        self, harbor: SandboxServer, tmp_path: Path
    ) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text(
            '[defaults]\nimmutable = true\n[[repository]]\nname = "engineering/web"\n'
            '[[repository]]\nname = "engineering/next"\n'
        )
        first = dtrctl(harbor, "apply", "-f", str(policy), "--yes")
        assert first.code == 0, first.stderr
        second = dtrctl(harbor, "apply", "-f", str(policy), "--yes", "-o", "json")
        assert second.code == 0, second.stderr
        assert {c["action"] for c in as_json(second)["plan"]} <= {"unchanged", "create"}
        shown = as_json(dtrctl(harbor, "repo", "show", "engineering/web", "-o", "json"))
        assert shown["repository"]["immutable"] is True


def skopeo_push(skopeo: Skopeo, server: SandboxServer, layout: Path, tag: str, target: str) -> Any:
    return skopeo.copy(layout, tag, f"{server.host_port}/{target}", creds=CI_ROBOT, check=False)


@pytest.mark.skopeo
class TestPushCheck:
    def test_verdicts_match_what_harbor_then_does(
        self, harbor: SandboxServer, skopeo: Skopeo, tmp_path: Path
    ) -> None:
        first, second = build_image("harbor-first"), build_image("harbor-second")
        write_oci_layout(tmp_path, first, "first")
        write_oci_layout(tmp_path, second, "second")
        created = dtrctl(harbor, "repo", "create", "engineering/tools", "--immutable")
        assert created.code == 0, created.stderr

        free = dtrctl(harbor, "push-check", "engineering/tools:1.0", "--digest", first.digest)
        assert free.code == 0 and free.stdout.startswith("free"), free.stdout
        assert (
            skopeo_push(skopeo, harbor, tmp_path, "first", "engineering/tools:1.0").returncode == 0
        )

        present = dtrctl(
            harbor, "push-check", "engineering/tools:1.0", "--digest", first.digest, "-o", "json"
        )
        assert present.code == 0, present.stderr
        (result,) = as_json(present)["results"]
        assert (result["verdict"], result["immutable"]) == ("present", True)
        assert "Harbor refuses even an identical re-push" in result["reason"]
        identical = skopeo_push(skopeo, harbor, tmp_path, "first", "engineering/tools:1.0")
        assert identical.returncode != 0

        collision = dtrctl(harbor, "push-check", "engineering/tools:1.0", "--digest", second.digest)
        assert collision.code == 1 and collision.stdout.startswith("collision")
        refused = skopeo_push(skopeo, harbor, tmp_path, "second", "engineering/tools:1.0")
        assert "configured as immutable" in refused.stderr

    def test_mutable_tags_overwrite_and_missing_projects_are_no_repo(
        self, harbor: SandboxServer
    ) -> None:
        run = dtrctl(harbor, "push-check", "engineering/web:v1", "nope/app:1", "-o", "json")
        assert run.code == 4, run.stderr
        verdicts = [result["verdict"] for result in as_json(run)["results"]]
        assert verdicts == ["overwrite", "no-repo"]

    def test_nested_paths_are_checked_per_tag_under_backend_harbor(
        self, harbor: SandboxServer
    ) -> None:
        references = ("engineering/team/app:v1.0", "engineering/team/app:latest")
        run = dtrctl(harbor, "--backend", "harbor", "push-check", *references, "-o", "json")
        assert run.code == 1, run.stderr
        results = as_json(run)["results"]
        assert [(r["verdict"], r["immutable"]) for r in results] == [
            ("collision", True),
            ("overwrite", False),
        ]
        made = dtrctl(
            harbor, "--backend", "harbor", "repo", "set-immutable", "engineering/team/app"
        )
        assert made.code == 0, made.stderr
        shown = dtrctl(
            harbor, "--backend", "harbor", "repo", "show", "engineering/team/app", "-o", "json"
        )
        assert as_json(shown)["repository"]["immutability"] == "all"

    def test_a_wrong_password_is_an_error_never_absent(self, harbor: SandboxServer) -> None:
        run = dtrctl(harbor, "push-check", "library/nginx:1.25", user=("admin", "wrong"))
        assert run.code == 3


def login(home_env: dict[str, str], url: str, user: tuple[str, str], profile: str) -> None:
    options = ("--password-stdin", "--profile", profile, "--insecure-storage")
    completed = subprocess.run(
        [dtrctl_binary(), "login", url, "-u", user[0], *options],
        input=user[1] + "\n",
        env=home_env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


class TestMigrate:
    @pytest.fixture
    def profiles(self, harbor: SandboxServer) -> Iterator[dict[str, str]]:
        import os

        with SandboxServer(seed="demo") as dtr:
            env = dict(os.environ)
            login(env, dtr.url, ADMIN, "dtr")
            login(env, harbor.url, ROBOT, "msr4")
            yield env

    def migrate(self, env: dict[str, str], *args: str) -> Run:
        return run_dtrctl("migrate", "immutability", "--from", "dtr", "--to", "msr4", *args, env={})

    def test_login_recorded_each_kind(self, profiles: dict[str, str]) -> None:
        config = (Path(profiles["HOME"]) / ".config" / "dtrctl" / "config.toml").read_text()
        assert 'backend = "dtr"' in config and 'backend = "harbor"' in config

    def test_plan_then_apply_then_nothing_left(self, profiles: dict[str, str]) -> None:
        planned = self.migrate(profiles, "-o", "json")
        assert planned.code == 2  # off a terminal without --yes: the plan, then stop
        plan = {item["source"]: item["action"] for item in as_json(planned)["plan"]}
        assert plan == {
            "demo/hello": "missing-project",
            "engineering/web": "make-immutable",
            "library/nginx": "already-immutable",
        }
        applied = self.migrate(profiles, "--create-projects", "--yes", "--verify", "-o", "json")
        assert applied.code == 0, applied.stderr
        document = as_json(applied)
        assert document["summary"]["changed"] == 2 and document["verify"]["ok"] is True
        again = self.migrate(profiles, "--yes", "-o", "json")
        assert again.code == 0
        assert {item["action"] for item in as_json(again)["plan"]} == {"already-immutable"}

    def test_a_map_renames_and_verify_finds_the_gap_it_leaves(
        self, profiles: dict[str, str]
    ) -> None:
        run = self.migrate(profiles, "--map", "demo/*=-", "--yes", "--verify", "-o", "json")
        assert run.code == 0, run.stderr
        renamed = self.migrate(
            profiles, "--map", "demo/*=library/demo-{name}", "--dry-run", "--verify", "-o", "json"
        )
        assert renamed.code == 1
        document = as_json(renamed)
        assert document["plan"][0]["destination"] == "library/demo-hello"
        assert [gap["source"] for gap in document["verify"]["gaps"]] == ["demo/hello"]
