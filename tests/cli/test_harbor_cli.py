"""The commands on MSR 4 / Harbor through the CLI: detection under `auto`, the Harbor JSON
extras, exit codes for a missing project, a foreign rule and malformed rules."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from dtrctl.backends.harbor.rules import canonical_rule
from tests.cli.conftest import DTR_URL

pytestmark = pytest.mark.usefixtures("dtr_env")
RULES = "/api/v2.0/projects/library/immutabletagrules"


def rule(rule_id: int, path: str, tags: str = "**") -> dict[str, Any]:
    body = {"id": rule_id, **canonical_rule("x").to_api()}
    body["scope_selectors"]["repository"][0]["pattern"] = path
    body["tag_selectors"][0]["pattern"] = tags
    return body


def harbor_404(message: str = "not found") -> httpx.Response:
    return httpx.Response(404, json={"errors": [{"code": "NOT_FOUND", "message": message}]})


@pytest.fixture
def on_harbor(dtr, monkeypatch: pytest.MonkeyPatch):
    """The mocked URL as Harbor: project `library` with repository `app`."""
    monkeypatch.setenv("DTRCTL_BACKEND", "harbor")
    dtr.get("/api/v2.0/projects/library").respond(
        200, json={"project_id": 1, "name": "library", "metadata": {"public": "true"}}
    )
    dtr.head("/api/v2.0/projects", params={"project_name": "library"}).respond(200)
    dtr.head("/api/v2.0/projects", params={"project_name": "team"}).respond(404)
    dtr.get("/api/v2.0/projects/library/repositories/app").respond(
        200, json={"name": "library/app"}
    )
    dtr.get("/api/v2.0/systeminfo").respond(
        200, json={"auth_mode": "db_auth", "harbor_version": "v2.13.0-db1569ae"}
    )
    return dtr


def test_show_evaluates_the_rules_and_adds_the_harbor_fields(on_harbor, cli):
    on_harbor.get(RULES).respond(200, json=[rule(1, "app", "v*")])
    result = cli("repo", "show", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    repository = result.json()["repository"]
    assert repository["immutable"] is False
    assert repository["immutability"] == "some"
    assert repository["rules"][0]["id"] == 1


def test_auto_detects_harbor_after_a_foreign_404_from_the_dtr_api(dtr, cli):
    dtr.get("/api/v0/repositories/library/app").mock(return_value=harbor_404())
    probe = dtr.get("/api/v2.0/systeminfo").respond(200, json={"auth_mode": "db_auth"})
    dtr.get("/api/v2.0/projects/library/repositories/app").respond(
        200, json={"name": "library/app"}
    )
    dtr.get(RULES).respond(200, json=[rule(1, "app")])
    dtr.get("/api/v2.0/projects/library").respond(200, json={"project_id": 1, "name": "library"})
    result = cli("repo", "show", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    # The anonymous probe only: `app` and `**` read alike in both doublestar versions, so the
    # server's version (asked with credentials) is not needed.
    assert probe.call_count == 1
    assert result.json()["repository"]["immutability"] == "all"


def test_a_url_that_is_neither_dtr_nor_harbor_exits_5(dtr, cli):
    dtr.get("/api/v0/repositories/library/app").respond(404, text="404 page not found")
    dtr.get("/api/v2.0/systeminfo").respond(404, text="404 page not found")
    result = cli("repo", "show", "library/app")
    assert result.exit_code == 5
    assert "serves no DTR API" in result.stderr
    assert "serves no Harbor API either" in result.stderr


def test_dtr_under_auto_sends_no_probe(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").mock(
        return_value=httpx.Response(
            404, json={"errors": [{"code": "NO_SUCH_REPOSITORY", "message": "no"}]}
        )
    )
    probe = dtr.get("/api/v2.0/systeminfo").respond(200, json={"auth_mode": "db_auth"})
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 4
    assert not probe.called


def test_create_in_a_missing_project_exits_4_naming_it(on_harbor, cli):
    result = cli("repo", "create", "team/app", "--immutable")
    assert result.exit_code == 4
    assert "project team does not exist" in result.stderr


def test_create_immutable_adds_one_rule_and_notes_the_first_push(on_harbor, cli):
    on_harbor.get("/api/v2.0/projects/library/repositories/new").mock(return_value=harbor_404())
    listing = on_harbor.get(RULES)
    listing.side_effect = [
        httpx.Response(200, json=[]),
        httpx.Response(200, json=[rule(9, "new")]),
        httpx.Response(200, json=[rule(9, "new")]),
    ]
    create = on_harbor.post(RULES).respond(201, headers={"Location": f"{RULES}/9"})
    result = cli("repo", "create", "library/new", "--immutable", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(create.calls.last.request.content) == canonical_rule("new").to_api()
    document = result.json()
    assert document["repository"]["immutable"] is True
    assert any("first push" in note for note in document["notes"])


def test_off_under_a_rule_dtrctl_did_not_create_exits_1_naming_it(on_harbor, cli):
    on_harbor.get(RULES).respond(200, json=[rule(3, "**")])
    result = cli("repo", "set-immutable", "library/app", "--off", "-o", "json")
    assert result.exit_code == 1
    error = result.json()["results"][0]["error"]
    assert error["code"] == "conflict" and "rule 3" in error["message"]


def test_audit_reports_malformed_rules_and_exits_1(on_harbor, cli):
    on_harbor.get("/api/v2.0/projects/library/repositories").respond(
        200, json=[{"name": "library/app"}], headers={"X-Total-Count": "1"}
    )
    broken = rule(2, "[")
    on_harbor.get(RULES).respond(200, json=[rule(1, "app"), broken])
    result = cli("repo", "audit", "library/app", "-o", "json")
    assert result.exit_code == 1
    document = result.json()
    assert document["ok"] is False and document["drift"] == []
    assert [(f["rule_id"], f["severity"]) for f in document["findings"]] == [(2, "error")]


def version(on_harbor, harbor_version: str | None) -> None:
    info = {"auth_mode": "db_auth"} | ({"harbor_version": harbor_version} if harbor_version else {})
    on_harbor.get("/api/v2.0/systeminfo").respond(200, json=info)


@pytest.mark.parametrize(
    ("harbor_version", "level", "exit_code"),
    [("v2.13.0-db1569ae", "all", 0), ("v2.10.2-9e5b5b1e", "none", 1), (None, "none", 1)],
)
def test_alternatives_with_a_slash_follow_the_server_s_doublestar(
    on_harbor, cli, harbor_version, level, exit_code
):
    # issue #20: Harbor <= 2.10.2 links doublestar v1.1.1, which rejects `{app,tools/x}`.
    version(on_harbor, harbor_version)
    on_harbor.get("/api/v2.0/projects/library/repositories").respond(
        200, json=[{"name": "library/app"}], headers={"X-Total-Count": "1"}
    )
    on_harbor.get(RULES).respond(200, json=[rule(1, "{app,tools/x}")])
    shown = cli("repo", "show", "library/app", "-o", "json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["repository"]["immutability"] == level
    audited = cli("repo", "audit", "library/app", "-o", "json")
    assert audited.exit_code == exit_code
    codes = [(f["rule_id"], f["severity"], f["code"]) for f in audited.json()["findings"]]
    severity = "warning" if exit_code == 0 else "error"
    assert codes == [(1, severity, "version-dependent")]


def test_a_tag_pattern_malformed_for_some_tags_leaves_later_rules_for_the_others(on_harbor, cli):
    on_harbor.get(RULES).respond(200, json=[rule(1, "app", "x["), rule(2, "app")])
    result = cli("repo", "show", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    repository = result.json()["repository"]
    assert repository["immutability"] == "some"  # was "none": Harbor stopped for every tag
    assert [item["id"] for item in repository["rules"]] == [2]
    assert repository["stopped_at"]["id"] == 1 and repository["stopped_at"]["some_tags"] is True


def test_the_dtr_audit_document_has_no_findings_key(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(
        200,
        json={
            "namespace": "engineering",
            "name": "api",
            "visibility": "private",
            "immutableTags": True,
        },
    )
    result = cli("repo", "audit", "engineering/api", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert "findings" not in result.json()


def test_settings_harbor_lacks_are_usage_errors(on_harbor, cli):
    result = cli("repo", "create", "library/app", "--tag-limit", "3", "--exist-ok")
    assert result.exit_code == 2
    assert "does not apply on Harbor" in result.stderr


def test_login_records_the_detected_kind(dtr, cli, memory_keyring, isolated_environment):
    dtr.get("/api/v0/repositories").mock(return_value=harbor_404())
    dtr.get("/api/v2.0/systeminfo").respond(200, json={"auth_mode": "db_auth"})
    dtr.get("/api/v2.0/users/current/permissions").respond(200, json=[])
    result = cli("login", DTR_URL, "-u", "alice", "--password-stdin", input="secret\n")
    assert result.exit_code == 0, result.stderr
    config = (isolated_environment / ".config" / "dtrctl" / "config.toml").read_text()
    assert 'backend = "harbor"' in config


def test_a_nested_path_is_one_repository_on_harbor(on_harbor, cli):
    route = on_harbor.get(url__regex=r".*/repositories/team%252Fapp$").respond(
        200, json={"name": "library/team/app"}
    )
    on_harbor.get(RULES).respond(200, json=[rule(1, "team/**")])
    result = cli("repo", "show", "library/team/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert route.called
    assert result.json()["repository"]["name"] == "team/app"
    assert result.json()["repository"]["immutable"] is True


def test_a_nested_path_is_refused_unless_the_backend_is_harbor(dtr, cli):
    result = cli("repo", "show", "library/team/app")
    assert result.exit_code == 2
    assert not dtr.calls


def test_migrate_never_lets_one_secret_serve_both_sides(dtr, cli):
    result = cli("migrate", "immutability", "--from", "dtr", "--to", "msr4")
    assert result.exit_code == 2
    assert "from its profile" in result.stderr
    assert not dtr.calls


def test_migrate_rejects_a_bad_map_before_any_request(dtr, cli):
    result = cli("migrate", "immutability", "--from", "a", "--to", "b", "--map", "nonsense")
    assert result.exit_code == 2
    assert "SRC_GLOB=DEST_TEMPLATE" in result.stderr


def test_auto_switches_to_harbor_for_a_change_too(dtr, cli):
    dtr.get("/api/v0/repositories/library/app").mock(return_value=harbor_404())
    dtr.get("/api/v2.0/systeminfo").respond(200, json={"auth_mode": "db_auth"})
    listing = dtr.get(RULES)
    listing.side_effect = [httpx.Response(200, json=[]), httpx.Response(200, json=[rule(4, "app")])]
    create = dtr.post(RULES).respond(201, headers={"Location": f"{RULES}/4"})
    result = cli("repo", "set-immutable", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert create.call_count == 1
    assert result.json()["results"][0]["changed"] is True


def test_repo_tags_lists_harbor_tags_with_digest_and_push_time(on_harbor, cli):
    digest = "sha256:" + "d" * 64
    on_harbor.get("/api/v2.0/projects/library/repositories/app/artifacts").respond(
        200,
        json=[
            {
                "digest": digest,
                "extra_attrs": {"os": "linux", "architecture": "arm64"},
                "tags": [{"name": "1.0", "push_time": "2026-02-01T10:00:00Z"}],
            }
        ],
        headers={"X-Total-Count": "1"},
    )
    result = cli("repo", "tags", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    [tag] = result.json()["tags"]
    assert (tag["name"], tag["digest"], tag["platform"]) == ("1.0", digest, "linux/arm64")
    assert tag["pushed_at"] == "2026-02-01T10:00:00Z"


def test_push_check_under_auto_asks_harbor_after_the_dtr_api_is_not_there(dtr, cli):
    digest = "sha256:" + "e" * 64
    dtr.get(url__regex=r".*/api/v0/.*").respond(404, text="404 page not found")
    # The token is first asked of DTR's endpoint, beside the probe (the kind is not known yet).
    dtr.get("/auth/token").respond(404, text="404 page not found")
    dtr.get("/api/v2.0/systeminfo").respond(200, json={"auth_mode": "db_auth"})
    dtr.head("/api/v2.0/projects", params={"project_name": "library"}).respond(200)
    dtr.get("/api/v2.0/projects/library/repositories/app/artifacts/1.0").respond(
        200, json={"digest": digest, "tags": [{"name": "1.0", "immutable": True}]}
    )
    # Harbor's token lists the actions granted: the push right needs no other request.
    claims = {
        "access": [{"type": "repository", "name": "library/app", "actions": ["pull", "push"]}]
    }
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    token = dtr.get("/service/token").respond(200, json={"token": f"e30.{payload}.c2ln"})
    dtr.get("/v2/library/app/manifests/1.0").respond(
        200,
        json={"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"},
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    result = cli("push-check", "library/app:1.0", "-o", "json")
    assert token.called
    assert result.json()["results"][0]["immutable"] is True, result.stdout


HARBOR_2_13 = {"auth_mode": "db_auth", "harbor_version": "v2.13.0-db1569ae"}


def fleet_of_two_projects(on_harbor, pattern: str) -> None:
    """Projects `library` (repository `app`) and `team` (`web`), each with one rule `pattern`."""
    projects = [
        {"project_id": 1, "name": "library", "metadata": {"public": "true"}},
        {"project_id": 2, "name": "team", "metadata": {"public": "false"}},
    ]
    on_harbor.get("/api/v2.0/projects").respond(200, json=projects, headers={"X-Total-Count": "2"})
    on_harbor.get("/api/v2.0/repositories").respond(
        200, json=[{"name": "library/app"}, {"name": "team/web"}], headers={"X-Total-Count": "2"}
    )
    on_harbor.get("/api/v2.0/projects/library/repositories").respond(
        200, json=[{"name": "library/app"}], headers={"X-Total-Count": "1"}
    )
    on_harbor.get(RULES).respond(200, json=[rule(1, pattern)])
    team_rules = "/api/v2.0/projects/team/immutabletagrules"
    on_harbor.get(team_rules).respond(200, json=[rule(2, pattern)])


@pytest.mark.parametrize("pattern", ["app", "**", "{app,web}"])
def test_show_list_and_audit_ask_no_version_where_both_doublestars_read_the_rules_alike(
    on_harbor, cli, pattern
):
    info = on_harbor.get("/api/v2.0/systeminfo").respond(200, json=HARBOR_2_13)
    fleet_of_two_projects(on_harbor, pattern)
    assert cli("repo", "show", "library/app", "-o", "json").exit_code == 0
    audited = cli("repo", "audit", "library/*", "-o", "json")
    assert audited.exit_code == 0, audited.stderr  # library/app is immutable: no drift
    listed = cli("repo", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    immutable = {r["repository"]: r["immutable"] for r in listed.json()["repositories"]}
    assert immutable == {"library/app": True, "team/web": pattern != "app"}
    assert info.call_count == 0


def test_list_asks_the_version_once_a_run_where_the_rules_need_it(on_harbor, cli):
    # `{app,tools/x}` reads differently in doublestar v1.1.1 and v1.3.4 (issue #20): the
    # server's version decides, asked once for both projects.
    info = on_harbor.get("/api/v2.0/systeminfo").respond(200, json=HARBOR_2_13)
    fleet_of_two_projects(on_harbor, "{app,tools/x}")
    listed = cli("repo", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert [r["immutability"] for r in listed.json()["repositories"]] == ["all", "none"]
    assert info.call_count == 1
