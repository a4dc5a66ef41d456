"""dtrctl's packed rules through the installed CLI against `dtrctl sandbox --flavor harbor`:
a migration of a DTR namespace of many immutable repositories into few rules that the sandbox
then enforces, `set-immutable` editing the packed rule, `apply`, and re-runs that change nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtrctl.sandbox.images import build_image, write_oci_layout
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import Run, Skopeo, run_dtrctl
from tests.integration.test_harbor_sandbox import (
    ADMIN,
    ROBOT,
    add_rule,
    as_json,
    dtrctl,
    login,
    skopeo_push,
)

pytestmark = pytest.mark.integration

APPS = [f"app-{number:02}" for number in range(40)]


@pytest.fixture
def harbor() -> Iterator[SandboxServer]:
    with SandboxServer(flavor="harbor", seed="demo") as server:
        yield server


def rules_of(server: SandboxServer, project: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.url, auth=ADMIN) as client:
        answer = client.get(
            f"/api/v2.0/projects/{project}/immutabletagrules",
            params={"page_size": 100},
            headers={"X-Is-Resource-Name": "true"},
        )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def repository_patterns(server: SandboxServer, project: str) -> dict[int, str]:
    return {
        rule["id"]: rule["scope_selectors"]["repository"][0]["pattern"]
        for rule in rules_of(server, project)
        if rule["tag_selectors"][0]["pattern"] == "**"
    }


class TestMigrate:
    @pytest.fixture
    def profiles(self, harbor: SandboxServer, tmp_path: Path) -> Iterator[dict[str, str]]:
        with SandboxServer(seed="demo") as dtr:
            env = dict(os.environ)
            login(env, dtr.url, ADMIN, "dtr")
            login(env, harbor.url, ROBOT, "msr4")
            policy = tmp_path / "many.toml"
            policy.write_text(
                "[defaults]\nimmutable = true\n"
                + "".join(f'[[repository]]\nname = "engineering/{app}"\n' for app in APPS)
            )
            made = run_dtrctl("--profile", "dtr", "apply", "-f", str(policy), "--yes", env={})
            assert made.code == 0, made.stderr
            yield env

    def migrate(self, *args: str) -> Run:
        # demo/hello's project is not on the Harbor sandbox: skipped by a map.
        return run_dtrctl(
            "migrate",
            "immutability",
            "--from",
            "dtr",
            "--to",
            "msr4",
            "--map",
            "demo/*=-",
            *args,
            env={},
        )

    def test_forty_repositories_become_one_rule_that_refuses_pushes(
        self, harbor: SandboxServer, profiles: dict[str, str], skopeo: Skopeo, tmp_path: Path
    ) -> None:
        planned = self.migrate("--dry-run", "-o", "json")
        assert planned.code == 0, planned.stderr
        packing, merged = as_json(planned)["rules"]
        names = sorted([*APPS, "api", "web"])  # the seed's canonical rule for `api` merged in
        assert (packing["project"], packing["key"], packing["action"]) == (
            "engineering",
            "new rule 1",
            "create",
        )
        assert packing["repositories"] == names and packing["rule_id"] is None
        assert (merged["action"], merged["removed"], merged["repositories"]) == (
            "delete",
            ["api"],
            [],
        )

        applied = self.migrate("--yes", "--verify", "-o", "json")
        assert applied.code == 0, applied.stderr
        assert as_json(applied)["summary"]["changed"] == 41
        assert as_json(applied)["verify"]["ok"] is True
        # One rule for 42 repositories; the foreign `team/**` rule kept.
        assert list(repository_patterns(harbor, "engineering").values()) == [
            "{" + ",".join(names) + "}"
        ]
        assert len(rules_of(harbor, "engineering")) == 2

        image = build_image("packed-first")
        write_oci_layout(tmp_path, image, "first")
        target = "engineering/app-07:1.0"
        assert skopeo_push(skopeo, harbor, tmp_path, "first", target).returncode == 0
        refused = skopeo_push(skopeo, harbor, tmp_path, "first", target)
        assert "configured as immutable" in refused.stderr

        before = rules_of(harbor, "engineering")
        again = self.migrate("--yes", "--verify", "-o", "json")
        assert again.code == 0, again.stderr
        document = as_json(again)
        assert document["rules"] == [] and document["summary"]["changed"] == 0
        assert document["verify"]["ok"] is True
        assert rules_of(harbor, "engineering") == before


class TestSetImmutable:
    def test_on_and_off_edit_the_packed_rule(self, harbor: SandboxServer) -> None:
        on = dtrctl(harbor, "repo", "set-immutable", "engineering/web", "-o", "json")
        assert on.code == 0, on.stderr
        # `api`'s canonical rule and `web` are now one packed rule.
        ((packed_id, pattern),) = repository_patterns(harbor, "engineering").items()
        assert pattern == "{api,web}"

        nested = dtrctl(
            harbor,
            "--backend",
            "harbor",
            "repo",
            "set-immutable",
            "engineering/team/app",
            "-o",
            "json",
        )
        assert nested.code == 0, nested.stderr
        assert as_json(nested)["results"][0]["changed"] is True
        assert repository_patterns(harbor, "engineering") == {packed_id: "{api,team/app,web}"}

        before = rules_of(harbor, "engineering")
        again = dtrctl(harbor, "repo", "set-immutable", "engineering/web", "-o", "json")
        assert as_json(again)["results"][0]["changed"] is False
        assert rules_of(harbor, "engineering") == before

        off = dtrctl(harbor, "repo", "set-immutable", "engineering/web", "--off")
        assert off.code == 0, off.stderr
        assert repository_patterns(harbor, "engineering") == {packed_id: "{api,team/app}"}
        shown = as_json(dtrctl(harbor, "repo", "show", "engineering/web", "-o", "json"))
        assert shown["repository"]["immutability"] == "none"

        last = dtrctl(
            harbor,
            "--backend",
            "harbor",
            "repo",
            "set-immutable",
            "engineering/api",
            "engineering/team/app",
            "--off",
            "--yes",
        )
        assert last.code == 0, last.stderr
        assert repository_patterns(harbor, "engineering") == {}
        assert len(rules_of(harbor, "engineering")) == 1  # only the foreign `team/**` rule

    def test_apply_packs_and_a_second_apply_changes_nothing(
        self, harbor: SandboxServer, tmp_path: Path
    ) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text(
            "[defaults]\nimmutable = true\n"
            + "".join(f'[[repository]]\nname = "library/{n}"\n' for n in ("a", "b", "c"))
        )
        planned = dtrctl(harbor, "apply", "-f", str(policy), "--dry-run", "-o", "json")
        assert planned.code == 0, planned.stderr
        assert [(r["key"], r["repositories"]) for r in as_json(planned)["rules"]] == [
            ("new rule 1", ["a", "b", "c", "nginx"]),
            ("rule 1", []),
        ]
        first = dtrctl(harbor, "apply", "-f", str(policy), "--yes", "-o", "json")
        assert first.code == 0, first.stderr
        # The seed's disabled rule for `alpine` is left as it is.
        patterns = sorted(repository_patterns(harbor, "library").values())
        assert patterns == ["alpine", "{a,b,c,nginx}"]
        before = rules_of(harbor, "library")
        second = dtrctl(harbor, "apply", "-f", str(policy), "--yes", "-o", "json")
        assert second.code == 0, second.stderr
        assert as_json(second)["rules"] == []
        assert rules_of(harbor, "library") == before

    def test_a_disabled_identical_packed_rule_is_enabled_not_created(
        self, harbor: SandboxServer, tmp_path: Path
    ) -> None:
        # As Harbor, the sandbox refuses (409) a rule identical to one it holds, disabled or
        # not: dtrctl enables the disabled one instead of creating it.
        add_rule(harbor, "library", "{a,b,nginx}", "**")
        twin = max(repository_patterns(harbor, "library"))
        body = next(rule for rule in rules_of(harbor, "library") if rule["id"] == twin)
        with httpx.Client(base_url=harbor.url, auth=ADMIN) as client:
            toggled = client.put(
                f"/api/v2.0/projects/library/immutabletagrules/{twin}",
                json={**body, "disabled": True},
                headers={"X-Is-Resource-Name": "true"},
            )
        assert toggled.status_code == 200, toggled.text
        policy = tmp_path / "policy.toml"
        policy.write_text(
            "[defaults]\nimmutable = true\n"
            + "".join(f'[[repository]]\nname = "library/{n}"\n' for n in ("a", "b"))
        )
        planned = dtrctl(harbor, "apply", "-f", str(policy), "--dry-run")
        assert planned.code == 0, planned.stderr
        assert (
            f"rules library: rule {twin} enable (disabled, identical), 3 repositories (+3): "
            "a, b, nginx\n" in planned.stdout
        )
        applied = dtrctl(harbor, "apply", "-f", str(policy), "--yes", "-o", "json")
        assert applied.code == 0, applied.stderr
        first = as_json(applied)["rules"][0]
        assert (first["key"], first["action"], first["disabled_twin"]) == (
            f"rule {twin}",
            "enable",
            True,
        )
        enabled = {rule["id"]: rule for rule in rules_of(harbor, "library")}
        assert "disabled" not in enabled[twin]
        assert sorted(repository_patterns(harbor, "library").values()) == ["alpine", "{a,b,nginx}"]

    def test_audit_fix_packs_once_then_is_a_no_op(self, harbor: SandboxServer) -> None:
        fix = ("repo", "audit", "--namespace", "engineering", "--fix", "--yes", "-o", "json")
        fixed = dtrctl(harbor, "--backend", "harbor", *fix)
        assert fixed.code == 0, fixed.stderr
        assert list(repository_patterns(harbor, "engineering").values()) == ["{api,team/app,web}"]
        before = rules_of(harbor, "engineering")
        again = dtrctl(harbor, "--backend", "harbor", *fix)
        assert again.code == 0, again.stderr
        assert as_json(again)["ok"] is True
        assert rules_of(harbor, "engineering") == before


@pytest.mark.skopeo
class TestNestedNames:
    def test_a_and_a_b_become_immutable_and_refuse_pushes_of_existing_tags(
        self, harbor: SandboxServer, skopeo: Skopeo, tmp_path: Path
    ) -> None:
        # The sandbox is Harbor 2.13 (doublestar v1.3.4), which reads `{a,a/b}` as `a/b` only.
        image = build_image("nested-first")
        write_oci_layout(tmp_path, image, "first")
        targets = ("engineering/a:1.0", "engineering/a/b:1.0")
        for target in targets:
            assert skopeo_push(skopeo, harbor, tmp_path, "first", target).returncode == 0

        made = dtrctl(
            harbor,
            "--backend",
            "harbor",
            "repo",
            "set-immutable",
            "engineering/a",
            "engineering/a/b",
            "--yes",
            "-o",
            "json",
        )
        assert made.code == 0, made.stderr
        assert [r["changed"] for r in as_json(made)["results"]] == [True, True]
        assert sorted(repository_patterns(harbor, "engineering").values()) == [
            "{a,api}",  # the seed's canonical rule for `api` merged in
            "{a/b}",
        ]
        for repository in ("engineering/a", "engineering/a/b", "engineering/api"):
            shown = dtrctl(harbor, "--backend", "harbor", "repo", "show", repository, "-o", "json")
            assert as_json(shown)["repository"]["immutability"] == "all", repository
        shown = dtrctl(harbor, "repo", "show", "engineering/web", "-o", "json")
        assert as_json(shown)["repository"]["immutability"] == "none"

        for target in targets:
            refused = skopeo_push(skopeo, harbor, tmp_path, "first", target)
            assert refused.returncode != 0 and "configured as immutable" in refused.stderr
