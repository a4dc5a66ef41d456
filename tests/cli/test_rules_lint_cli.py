"""`dtrctl rules lint`: issue #21's document and exit codes, offline and online (respx), JUnit,
and DTR refused with a pointer to `repo audit`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.cli.test_harbor_cli import RULES, rule

pytestmark = pytest.mark.usefixtures("dtr_env")


def write(tmp_path: Path, rules: list[dict[str, Any]]) -> str:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    return str(path)


def findings(result: Any) -> list[tuple[Any, str, str]]:
    document = result.json()
    assert document["schema"] == "dtrctl/v1"
    return [(f["rule_id"], f["code"], f["severity"]) for f in document["findings"]]


def test_offline_warnings_only_exit_0(cli, tmp_path: Path) -> None:
    path = write(tmp_path, [rule(1, "team/**"), rule(2, "team/**", "v*")])
    result = cli("rules", "lint", "team", "--rules", path, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["ok"] is True
    assert findings(result) == [(2, "shadowed", "warning")]
    [finding] = result.json()["findings"]
    assert finding["project"] == "team" and "rule 1" in finding["message"]


def test_offline_an_error_exits_1_and_the_version_decides(cli, tmp_path: Path) -> None:
    path = write(tmp_path, [rule(1, "{app,tools/x}")])
    unknown = cli("rules", "lint", "--rules", path, "-o", "json")
    assert unknown.exit_code == 1 and unknown.json()["ok"] is False
    assert findings(unknown) == [(1, "version-dependent", "error")]
    new = cli("rules", "lint", "--rules", path, "--harbor-version", "2.11.1", "-o", "json")
    assert new.exit_code == 0 and findings(new) == [(1, "version-dependent", "warning")]


def test_junit_is_well_formed_with_a_failure_per_error(cli, tmp_path: Path) -> None:
    path = write(tmp_path, [rule(1, "[\x1b"), rule(2, "a", "v*"), rule(3, "a", "v*")])
    report = tmp_path / "lint.xml"
    result = cli("rules", "lint", "p", "--rules", path, "--junit", str(report))
    assert result.exit_code == 1
    suites = ElementTree.parse(report).getroot()
    assert (suites.get("tests"), suites.get("failures")) == ("2", "1")
    failure = suites.find("./testsuite/testcase/failure")
    assert failure is not None and failure.get("type") == "malformed"
    assert "error p rule 1 [malformed]" in result.stdout


def test_more_than_one_project_with_a_file_is_exit_2(cli, tmp_path: Path) -> None:
    result = cli("rules", "lint", "a", "b", "--rules", write(tmp_path, []))
    assert result.exit_code == 2 and "at most one PROJECT" in result.stderr


def test_online_harbor_reads_rules_version_and_repositories(dtr, cli, monkeypatch) -> None:
    monkeypatch.setenv("DTRCTL_BACKEND", "harbor")
    dtr.get("/api/v2.0/users/current/permissions").respond(200, json=[])
    dtr.get("/api/v2.0/systeminfo").respond(
        200, json={"auth_mode": "db_auth", "harbor_version": "v2.13.0-db1569ae"}
    )
    dtr.get(RULES).respond(200, json=[rule(1, "app"), rule(2, "gone")])
    dtr.get("/api/v2.0/projects/library/repositories").respond(
        200, json=[{"name": "library/app"}], headers={"X-Total-Count": "1"}
    )
    result = cli("rules", "lint", "library", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert findings(result) == [(2, "matches-nothing", "warning")]
    assert result.json()["projects"] == ["library"]


def test_on_dtr_exit_2_pointing_to_repo_audit(dtr, cli, monkeypatch) -> None:
    monkeypatch.setenv("DTRCTL_BACKEND", "dtr")
    dtr.get("/api/v0/repositories").respond(200, json={"repositories": []})
    result = cli("rules", "lint")
    assert result.exit_code == 2
    assert "DTR" in result.stderr and "dtrctl repo audit" in result.stderr
