"""`dtrctl explain`: the JSON of issue #21, offline from a rules file, and online on DTR and
Harbor (respx), with --protect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest import repository_body
from tests.cli.test_harbor_cli import RULES, rule

pytestmark = pytest.mark.usefixtures("dtr_env")


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.json"
    # Two pages, as `curl ...?page=1; curl ...?page=2` saves them.
    pages = [[rule(1, "{team/app,team/x}", "v*")], [rule(2, "team/**", "x[")]]
    path.write_text("\n".join(json.dumps(page) for page in pages))
    return path


def explained(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["schema"] == "dtrctl/v1"
    return document["results"]


def test_offline_the_document_of_issue_21(cli, rules_file: Path) -> None:
    args = ("explain", "library/team/app:v1", "--rules", str(rules_file), "-o", "json")
    [result] = explained(cli(*args, "--harbor-version", "2.13.0"))
    assert {key: result[key] for key in ("reference", "repository", "tag", "immutable")} == {
        "reference": "library/team/app:v1",
        "repository": "library/team/app",
        "tag": "v1",
        "immutable": True,
    }
    assert result["decided_by"]["kind"] == "rule" and result["decided_by"]["rule_id"] == 1
    assert [(r["id"], r["disabled"], r["matched"], r["reason"]) for r in result["rules"]] == [
        (1, False, True, "matched"),
        (2, False, None, "not-reached"),
    ]


def test_offline_the_harbor_version_decides_the_glob_library(cli, rules_file: Path) -> None:
    args = ("explain", "library/team/app:v1", "--rules", str(rules_file), "-o", "json")
    [old] = explained(cli(*args, "--harbor-version", "v2.10.2"))
    assert old["immutable"] is False and old["decided_by"]["kind"] is None
    assert old["stopped_at"] == 1 and old["rules"][0]["reason"] == "malformed"
    unknown_run = cli(*args)
    [unknown] = explained(unknown_run)
    assert unknown["immutable"] is None and unknown["rules"][0]["reason"] == "version-dependent"
    assert "pass --harbor-version" in unknown_run.stderr


def test_offline_a_partly_malformed_pattern_stops_only_the_tags_it_fails_on(
    cli, rules_file: Path
) -> None:
    args = ("explain", "library/team/app:x1", "library/team/app:latest", "--rules")
    stopped, passed = explained(
        cli(*args, str(rules_file), "--harbor-version", "2.11.0", "-o", "json")
    )
    assert (stopped["immutable"], stopped["stopped_at"]) == (False, 2)
    assert (passed["immutable"], passed["stopped_at"]) == (False, None)
    assert [r["reason"] for r in passed["rules"]] == ["tag-not-selected", "tag-not-selected"]


def test_protect_decides_where_the_rules_do_not(cli, rules_file: Path) -> None:
    args = ("explain", "p/team/app:latest", "--rules", str(rules_file), "--protect", "lat*")
    [result] = explained(cli(*args, "--harbor-version", "2.13.0", "-o", "json"))
    assert result["immutable"] is True
    assert result["decided_by"] == {"kind": "protect", "rule_id": None, "pattern": "lat*"}


def test_offline_text_names_the_rule(cli, rules_file: Path) -> None:
    result = cli(
        "explain", "library/team/app:v1", "--rules", str(rules_file), "--harbor-version", "2.13.0"
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "library/team/app:v1: immutable (rule 1)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--harbor-version", "2.13.0"), "--harbor-version goes with --rules"),
        (("--rules", "RULES", "--harbor-version", "next"), "not a Harbor release"),
        (("--rules", "/nonexistent/rules.json"), "cannot read rules file"),
    ],
)
def test_bad_offline_input_is_exit_2(
    cli, rules_file: Path, args: tuple[str, ...], message: str
) -> None:
    args = tuple(str(rules_file) if arg == "RULES" else arg for arg in args)
    result = cli("explain", "library/app:v1", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_on_dtr_the_repository_flag_decides(dtr, cli) -> None:
    dtr.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_body(immutableTags=True)
    )
    dtr.get("/api/v0/repositories/engineering/web").respond(200, json=repository_body(name="web"))
    on, off = explained(cli("explain", "engineering/api:1.0", "engineering/web:1.0", "-o", "json"))
    assert (on["immutable"], on["decided_by"]["kind"], on["rules"]) == (True, "repository", [])
    assert (off["immutable"], off["decided_by"]["kind"]) == (False, None)


def test_a_reference_that_cannot_be_explained_sets_the_exit_code(dtr, cli) -> None:
    dtr.get("/api/v0/repositories/engineering/gone").respond(
        404, json={"errors": [{"code": "NO_SUCH_REPOSITORY", "message": "repository not found"}]}
    )
    result = cli("explain", "engineering/gone:1", "-o", "json")
    assert result.exit_code == 4
    [entry] = result.json()["results"]
    assert entry["immutable"] is None and entry["error"]["code"] == "not_found"


def test_on_harbor_the_server_s_rules_and_version(dtr, cli, monkeypatch) -> None:
    monkeypatch.setenv("DTRCTL_BACKEND", "harbor")
    dtr.get("/api/v2.0/systeminfo").respond(
        200, json={"auth_mode": "db_auth", "harbor_version": "v2.10.2-9e5b5b1e"}
    )
    dtr.get("/api/v2.0/projects/library").respond(200, json={"project_id": 1, "name": "library"})
    dtr.get("/api/v2.0/projects/library/repositories/app").respond(
        200, json={"name": "library/app"}
    )
    rules = dtr.get(RULES).mock(
        return_value=httpx.Response(200, json=[rule(1, "{app,tools/x}"), rule(2, "app", "v*")])
    )
    [result] = explained(cli("explain", "library/app:v1", "-o", "json"))
    assert rules.called
    # Harbor 2.10.2 links doublestar v1.1.1: rule 1 is a bad pattern and ends the evaluation.
    assert (result["immutable"], result["stopped_at"]) == (False, 1)
    assert [r["reason"] for r in result["rules"]] == ["malformed", "not-reached"]


def test_on_harbor_rules_are_read_once_per_project_and_a_missing_repository_is_4(
    dtr, cli, monkeypatch
) -> None:
    monkeypatch.setenv("DTRCTL_BACKEND", "harbor")
    dtr.get("/api/v2.0/systeminfo").respond(200, json={"auth_mode": "db_auth"})
    dtr.get("/api/v2.0/projects/library/repositories/app").respond(
        200, json={"name": "library/app"}
    )
    dtr.get("/api/v2.0/projects/library/repositories/gone").respond(
        404, json={"errors": [{"code": "NOT_FOUND", "message": "repository gone not found"}]}
    )
    rules = dtr.get(RULES).respond(200, json=[rule(1, "app", "v*")])
    args = ("explain", "library/app:v1", "library/app:latest", "library/gone:v1", "-o", "json")
    result = cli(*args)
    assert result.exit_code == 4
    v1, latest, gone = result.json()["results"]
    assert (v1["immutable"], latest["immutable"], gone["immutable"]) == (True, False, None)
    assert gone["error"]["code"] == "not_found"
    assert rules.call_count == 1
