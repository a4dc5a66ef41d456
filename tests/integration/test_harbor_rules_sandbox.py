"""The installed `dtrctl` on Harbor's rules against `dtrctl sandbox --flavor harbor` (Harbor 2.13,
doublestar v1.3.4): per-tag stops of a partly malformed pattern, `explain` and `rules lint`."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import run_dtrctl
from tests.integration.test_harbor_sandbox import ADMIN, add_rule, as_json, dtrctl, harbor

pytestmark = pytest.mark.integration
__all__ = ["harbor"]  # the fixture


def test_a_tag_pattern_malformed_for_some_tags_stops_harbor_for_those_only(
    harbor: SandboxServer,
) -> None:
    add_rule(harbor, "library", "alpine", "x[")
    # `*`, not `**`: the seeded (disabled) canonical rule keeps `**`'s key, so Harbor would
    # answer 409 to an identical one.
    add_rule(harbor, "library", "alpine", "*")
    run = dtrctl(harbor, "repo", "show", "library/alpine", "-o", "json")
    assert run.code == 0, run.stderr
    repository = as_json(run)["repository"]
    assert repository["immutability"] == "some"
    assert repository["stopped_at"]["some_tags"] is True


class TestExplain:
    def test_on_harbor_the_rule_that_decides_each_tag(self, harbor: SandboxServer) -> None:
        run = dtrctl(  # under `auto`: the run detects Harbor
            harbor,
            "explain",
            "library/alpine:3.20",
            "library/nginx:1.25",
            "-o",
            "json",
        )
        assert run.code == 0, run.stderr
        alpine, nginx = as_json(run)["results"]
        assert alpine["immutable"] is False
        assert [r["reason"] for r in alpine["rules"]] == ["repository-not-selected", "disabled"]
        assert (nginx["immutable"], nginx["decided_by"]["kind"]) == (True, "rule")

    def test_on_harbor_nested_paths_per_tag(self, harbor: SandboxServer) -> None:
        refs = ("engineering/team/app:v1.0", "engineering/team/app:latest")
        run = dtrctl(harbor, "--backend", "harbor", "explain", *refs, "-o", "json")
        assert run.code == 0, run.stderr
        v1, latest = as_json(run)["results"]
        assert (v1["immutable"], v1["decided_by"]["kind"]) == (True, "rule")
        assert latest["immutable"] is False
        assert {rule["reason"] for rule in latest["rules"]} == {
            "repository-not-selected",
            "tag-not-selected",
        }

    def test_offline_needs_no_server(self, harbor: SandboxServer, tmp_path: Path) -> None:
        rules = tmp_path / "rules.json"
        with httpx.Client(base_url=harbor.url, auth=ADMIN) as client:
            answer = client.get("/api/v2.0/projects/engineering/immutabletagrules")
        rules.write_text(answer.text)
        env = {"DTRCTL_URL": "http://127.0.0.1:9"}  # a closed port: never asked
        run = run_dtrctl(
            "explain", "engineering/team/app:v2", "--rules", str(rules), "-o", "json", env=env
        )
        assert run.code == 0, run.stderr
        [result] = json.loads(run.stdout)["results"]
        assert result["immutable"] is True and result["decided_by"]["kind"] == "rule"


def test_explain_on_dtr_the_repository_flag_decides(sandbox: SandboxServer) -> None:
    env = {
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": "admin",
        "DTRCTL_PASSWORD": "sandbox-admin-password",
    }
    run = run_dtrctl("explain", "library/nginx:1.25", "library/alpine:3.20", "-o", "json", env=env)
    assert run.code == 0, run.stderr
    nginx, alpine = json.loads(run.stdout)["results"]
    assert (nginx["immutable"], nginx["decided_by"]["kind"]) == (True, "repository")
    assert (alpine["immutable"], alpine["decided_by"]["kind"]) == (False, None)
    missing = run_dtrctl("explain", "library/absent:1", env=env)
    assert missing.code == 4


class TestRulesLint:
    def test_the_demo_projects_have_only_warnings(self, harbor: SandboxServer) -> None:
        run = dtrctl(harbor, "rules", "lint", "library", "engineering", "-o", "json")
        assert run.code == 0, run.stderr
        document = as_json(run)
        assert document["ok"] is True
        assert [(f["project"], f["code"]) for f in document["findings"]] == [
            ("library", "disabled")
        ]

    def test_a_malformed_rule_fails_with_a_junit_report(
        self, harbor: SandboxServer, tmp_path: Path
    ) -> None:
        add_rule(
            harbor,
            "library",
            "nginx",
            "**",
            scope_selectors={
                "repository": [{"kind": "doublestar", "decoration": "nsMatches", "pattern": "x"}]
            },
        )
        add_rule(harbor, "library", "ghost", "**")
        report = tmp_path / "lint.xml"
        run = dtrctl(harbor, "rules", "lint", "library", "--junit", str(report), "-o", "json")
        assert run.code == 1, run.stderr
        codes = {(f["code"], f["severity"]) for f in as_json(run)["findings"]}
        assert {("never-matches", "error"), ("matches-nothing", "warning")} <= codes
        assert ElementTree.parse(report).getroot().get("failures") == "1"


def test_the_sandbox_s_harbor_version_decides_what_a_version_dependent_rule_is(
    harbor: SandboxServer,
) -> None:
    # The sandbox says Harbor 2.13 (doublestar v1.3.4): `{alpine,team/x}` works there, so it is a
    # warning, and library/alpine:3.20 is immutable by it.
    add_rule(harbor, "library", "{alpine,team/x}", "**")
    lint = dtrctl(harbor, "rules", "lint", "library", "-o", "json")
    assert lint.code == 0, lint.stderr
    codes = [(f["code"], f["severity"]) for f in as_json(lint)["findings"]]
    assert ("version-dependent", "warning") in codes
    explained = dtrctl(harbor, "explain", "library/alpine:3.20", "-o", "json")
    assert explained.code == 0, explained.stderr
    assert as_json(explained)["results"][0]["immutable"] is True


def test_rules_lint_on_dtr_points_to_repo_audit(sandbox: SandboxServer) -> None:
    env = {
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": "admin",
        "DTRCTL_PASSWORD": "sandbox-admin-password",
    }
    run = run_dtrctl("rules", "lint", env=env)
    assert run.code == 2 and "dtrctl repo audit" in run.stderr
