"""`dtrctl repo ...` through the CLI: exit codes, output documents, and the requests sent."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.cli.conftest import repository_body

pytestmark = pytest.mark.usefixtures("dtr_env")


def test_create_immutable_sends_full_body_and_reports_json(dtr, cli):
    route = dtr.post("/api/v0/repositories/engineering").respond(
        201, json=repository_body(immutableTags=True)
    )
    result = cli("repo", "create", "engineering/api", "--immutable", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(route.calls.last.request.content) == {
        "name": "api",
        "shortDescription": "",
        "longDescription": "",
        "visibility": "private",
        "scanOnPush": False,
        "immutableTags": True,
        "enableManifestLists": False,
        "tagLimit": 0,
    }
    document = result.json()
    assert document["schema"] == "dtrctl/v1"
    assert document["created"] is True
    assert document["repository"]["immutable"] is True
    assert document["repository"]["namespace"] == "engineering"


def test_create_existing_is_a_conflict(dtr, cli):
    dtr.post("/api/v0/repositories/engineering").respond(
        400, json={"errors": [{"code": "REPOSITORY_EXISTS", "message": "exists"}]}
    )
    result = cli("repo", "create", "engineering/api", "--immutable")
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_create_exist_ok_turns_immutability_on_keeping_other_settings(dtr, cli):
    dtr.post("/api/v0/repositories/engineering").respond(
        400, json={"errors": [{"code": "REPOSITORY_EXISTS", "message": "exists"}]}
    )
    existing = repository_body(visibility="public", shortDescription="kept", tagLimit=5)
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=existing)
    patch = dtr.patch("/api/v0/repositories/engineering/api").respond(
        200, json={**existing, "immutableTags": True, "tagLimit": 0}
    )
    result = cli("repo", "create", "engineering/api", "--immutable", "--exist-ok", "-o", "json")
    assert result.exit_code == 0, result.stderr
    sent = json.loads(patch.calls.last.request.content)
    assert sent["immutableTags"] is True
    assert sent["visibility"] == "public"
    assert sent["shortDescription"] == "kept"
    assert sent["tagLimit"] == 0
    assert result.json()["created"] is False
    assert result.json()["changed"] is True


def test_create_exist_ok_without_differences_sends_no_patch(dtr, cli):
    dtr.post("/api/v0/repositories/engineering").respond(
        400, json={"errors": [{"code": "REPOSITORY_EXISTS", "message": "exists"}]}
    )
    dtr.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_body(immutableTags=True)
    )
    patch = dtr.patch("/api/v0/repositories/engineering/api")
    result = cli("repo", "create", "engineering/api", "--immutable", "--exist-ok")
    assert result.exit_code == 0
    assert not patch.called
    assert "unchanged" in result.stdout


def test_immutable_with_tag_limit_is_refused_before_any_request(dtr, cli):
    route = dtr.post("/api/v0/repositories/engineering")
    result = cli("repo", "create", "engineering/api", "--immutable", "--tag-limit", "5")
    assert result.exit_code == 2
    assert "exclusive" in result.stderr
    assert not route.called


def test_write_command_without_credentials_exits_3_without_request(dtr, cli, monkeypatch):
    monkeypatch.delenv("DTRCTL_PASSWORD")
    route = dtr.post("/api/v0/repositories/engineering")
    result = cli("repo", "create", "engineering/api", "--immutable")
    assert result.exit_code == 3
    assert "DTRCTL_PASSWORD" in result.stderr
    assert not route.called


def test_missing_url_names_option_and_variable(cli, monkeypatch):
    monkeypatch.delenv("DTRCTL_URL")
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 2
    assert "--url" in result.stderr and "DTRCTL_URL" in result.stderr


@pytest.mark.parametrize("bad", ["engineering/api:1.0", "Engineering/api", "api", "a/b/c"])
def test_repo_commands_reject_bad_names_with_exit_2(dtr, cli, bad):
    result = cli("repo", "show", bad)
    assert result.exit_code == 2
    assert not dtr.calls


def test_set_immutable_is_idempotent(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_body(immutableTags=True)
    )
    patch = dtr.patch("/api/v0/repositories/engineering/api")
    result = cli("repo", "set-immutable", "engineering/api", "-o", "json")
    assert result.exit_code == 0
    assert not patch.called
    assert result.json()["results"] == [
        {
            "repository": "engineering/api",
            "immutable": True,
            "changed": False,
            "tag_limit_cleared": False,
            "error": None,
        }
    ]


def test_set_immutable_on_clears_tag_limit_and_says_so(dtr, cli):
    existing = repository_body(tagLimit=10, longDescription="keep me")
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=existing)
    patch = dtr.patch("/api/v0/repositories/engineering/api").respond(
        200, json={**existing, "immutableTags": True, "tagLimit": 0}
    )
    result = cli("repo", "set-immutable", "engineering/api")
    assert result.exit_code == 0, result.stderr
    sent = json.loads(patch.calls.last.request.content)
    assert sent["immutableTags"] is True and sent["tagLimit"] == 0
    assert sent["longDescription"] == "keep me"
    assert "tag limit cleared" in result.stdout


def test_set_immutable_off(dtr, cli):
    existing = repository_body(immutableTags=True)
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=existing)
    patch = dtr.patch("/api/v0/repositories/engineering/api").respond(
        200, json={**existing, "immutableTags": False}
    )
    result = cli("repo", "set-immutable", "engineering/api", "--off")
    assert result.exit_code == 0
    assert json.loads(patch.calls.last.request.content)["immutableTags"] is False
    assert "now mutable" in result.stdout


def test_set_immutable_partial_failure_exits_1_listing_failures(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    dtr.patch("/api/v0/repositories/engineering/api").respond(
        200, json=repository_body(immutableTags=True)
    )
    dtr.get("/api/v0/repositories/engineering/web").respond(
        404, json={"errors": [{"code": "NO_SUCH_REPOSITORY", "message": "no"}]}
    )
    result = cli("repo", "set-immutable", "engineering/api", "engineering/web", "-o", "json")
    assert result.exit_code == 1
    results = result.json()["results"]
    assert results[0]["changed"] is True and results[0]["error"] is None
    assert results[1]["error"]["code"] == "not_found"
    assert results[1]["error"]["exit_code"] == 4


def test_set_immutable_all_failing_alike_uses_that_code(dtr, cli):
    for name in ("api", "web"):
        dtr.get(f"/api/v0/repositories/engineering/{name}").respond(
            200, json=repository_body(name=name)
        )
        dtr.patch(f"/api/v0/repositories/engineering/{name}").respond(
            403, json={"errors": [{"code": "NOT_AUTHORIZED", "message": "no"}]}
        )
    result = cli("repo", "set-immutable", "engineering/api", "engineering/web")
    assert result.exit_code == 3
    assert "may not" in result.stderr


def test_show_not_found_says_what_and_who(dtr, cli):
    dtr.get("/api/v0/repositories/library/wordpress").respond(
        404, json={"errors": [{"code": "NO_SUCH_REPOSITORY", "message": "no"}]}
    )
    result = cli("repo", "show", "library/wordpress", "-o", "json")
    assert result.exit_code == 4
    error = result.json()["error"]
    assert error == {
        "code": "not_found",
        "message": "repository library/wordpress does not exist, or user admin may not see it",
        "exit_code": 4,
        "status": 404,
        "dtr_code": "NO_SUCH_REPOSITORY",
    }


def test_show_text_puts_immutability_first(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_body(immutableTags=True)
    )
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Repository:")
    assert lines[1].startswith("Immutable tags:") and "on" in lines[1]


def test_read_command_goes_anonymous_and_401_exits_3(dtr, cli, monkeypatch):
    monkeypatch.delenv("DTRCTL_USERNAME")
    monkeypatch.delenv("DTRCTL_PASSWORD")
    route = dtr.get("/api/v0/repositories/engineering/api").respond(
        401, json={"errors": [{"code": "NOT_AUTHENTICATED", "message": "no"}]}
    )
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 3
    assert "Authorization" not in route.calls.last.request.headers
    assert "DTRCTL_PASSWORD" in result.stderr


def test_server_error_exits_5_without_traceback(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(
        502, text="<html><body><h1>502 Bad Gateway</h1></body></html>"
    )
    result = cli("--retries", "0", "repo", "show", "engineering/api")
    assert result.exit_code == 5
    assert "Traceback" not in result.stderr
    assert "HTTP 502" in result.stderr


def test_garbled_success_is_not_success(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(200, text="")
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 5


def test_list_filters_mutable_follows_pages_and_summarises(dtr, cli):
    page1 = [repository_body(name=f"r{i}", immutableTags=i % 2 == 0) for i in range(100)]
    page2 = [repository_body(name="zz", immutableTags=False)]
    dtr.get("/api/v0/repositories", params={"pageStart": "next"}).respond(
        200, json={"repositories": page2}
    )
    dtr.get("/api/v0/repositories").respond(
        200, json={"repositories": page1}, headers={"X-Next-Page-Start": "next"}
    )
    result = cli("repo", "list", "--mutable", "-o", "json")
    assert result.exit_code == 0, result.stderr
    names = [repo["repository"] for repo in result.json()["repositories"]]
    assert names == [f"engineering/r{i}" for i in range(1, 100, 2)] + ["engineering/zz"]
    text = cli("repo", "list")
    assert "101 repositories, 51 mutable" in text.stderr


def test_list_csv(dtr, cli):
    dtr.get("/api/v0/repositories/engineering").respond(
        200, json={"repositories": [repository_body(immutableTags=True)]}
    )
    result = cli("repo", "list", "engineering", "-o", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "repository,immutable,visibility,tag_limit,short_description",
        "engineering/api,true,private,0,",
    ]


def test_verbose_redacts_the_secret(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    result = cli("-v", "repo", "show", "engineering/api")
    assert result.exit_code == 0
    assert "GET https://dtr.test/api/v0/repositories/engineering/api" in result.stderr
    assert "s3cret-token" not in result.stderr + result.stdout
    import base64

    encoded = base64.b64encode(b"admin:s3cret-token").decode()
    assert encoded not in result.stderr + result.stdout
    assert "[redacted]" in result.stderr


def test_insecure_warns(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    result = cli("--insecure", "repo", "show", "engineering/api")
    assert result.exit_code == 0
    assert "verification is off" in result.stderr


def test_timeout_exits_5(dtr, cli):
    dtr.get("/api/v0/repositories/engineering/api").mock(side_effect=httpx.ReadTimeout("slow"))
    result = cli("--retries", "0", "repo", "show", "engineering/api")
    assert result.exit_code == 5
    assert "timed out" in result.stderr


def test_a_profile_with_an_unknown_backend_is_a_config_error(isolated_environment, cli):
    config_dir = isolated_environment / ".config" / "dtrctl"
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('[profiles.default]\nbackend = "quay"\n')
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 2
    assert "backend in profile 'default' must be one of auto, dtr, harbor, registry" in (
        result.stderr
    )


def test_an_unknown_backend_option_is_a_usage_error(cli):
    result = cli("--backend", "quay", "repo", "show", "engineering/api")
    assert result.exit_code == 2
    assert "quay" in result.stderr


def test_create_exist_ok_with_a_tag_limit_on_an_immutable_repository_is_refused(dtr, cli):
    dtr.post("/api/v0/repositories/engineering").respond(
        400, json={"errors": [{"code": "REPOSITORY_EXISTS", "message": "exists"}]}
    )
    dtr.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_body(immutableTags=True)
    )
    patch = dtr.patch("/api/v0/repositories/engineering/api")
    result = cli("repo", "create", "engineering/api", "--exist-ok", "--tag-limit", "5")
    assert result.exit_code == 2
    assert "engineering/api is immutable: a tag limit cannot be added" in result.stderr
    assert "set-immutable engineering/api --off" in result.stderr
    assert not patch.called
