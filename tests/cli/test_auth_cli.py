"""login / logout / whoami: verify before storing, keep secrets out of output and argv."""

from __future__ import annotations

import base64
import stat

import pytest

from tests.cli.conftest import DTR_URL, repository_body

SECRET = "tok-3f9a-very-secret"


def ok_listing(dtr):
    return dtr.get("/api/v0/repositories").respond(200, json={"repositories": [repository_body()]})


def test_login_verifies_then_stores_in_keyring_and_profile(
    dtr, cli, memory_keyring, isolated_environment
):
    route = ok_listing(dtr)
    result = cli("login", DTR_URL, "-u", "alice", "--password-stdin", input=SECRET + "\n")
    assert result.exit_code == 0, result.stderr
    assert (
        route.calls.last.request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    )
    assert memory_keyring.passwords == {(f"dtrctl:{DTR_URL}", "alice"): SECRET}
    config = (isolated_environment / ".config" / "dtrctl" / "config.toml").read_text()
    assert DTR_URL in config and "alice" in config
    assert SECRET not in config
    assert SECRET not in result.stdout + result.stderr


def test_login_with_refused_credentials_stores_nothing(
    dtr, cli, memory_keyring, isolated_environment
):
    dtr.get("/api/v0/repositories").respond(
        401, json={"errors": [{"code": "NOT_AUTHENTICATED", "message": "bad"}]}
    )
    result = cli("login", DTR_URL, "-u", "alice", "--password-stdin", input=SECRET)
    assert result.exit_code == 3
    # The credentials were just supplied: say they were refused and what to check.
    assert f"Error: {DTR_URL} refused the user name and password of alice" in result.stderr
    assert "Nothing was saved" in result.stderr
    assert "token" in result.stderr and "UCP" in result.stderr
    assert "Supply credentials with" not in result.stderr
    assert SECRET not in result.stderr
    assert memory_keyring.passwords == {}
    assert not (isolated_environment / ".config" / "dtrctl" / "config.toml").exists()


def test_stored_login_is_used_by_later_commands(dtr, cli):
    ok_listing(dtr)
    assert cli("login", DTR_URL, "-u", "alice", "--password-stdin", input=SECRET).exit_code == 0
    route = dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    result = cli("-v", "repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")
    assert "using keyring for user alice" in result.stderr
    assert SECRET not in result.stderr


def test_login_without_keyring_names_alternatives(dtr, cli, monkeypatch):
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    ok_listing(dtr)
    result = cli("login", DTR_URL, "-u", "alice", "--password-stdin", input=SECRET)
    assert result.exit_code == 2
    for alternative in ("DTRCTL_PASSWORD", "--insecure-storage"):
        assert alternative in result.stderr


def test_login_insecure_storage_writes_private_file(dtr, cli, isolated_environment):
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    ok_listing(dtr)
    result = cli(
        "login", DTR_URL, "-u", "alice", "--password-stdin", "--insecure-storage", input=SECRET
    )
    assert result.exit_code == 0, result.stderr
    assert "unencrypted" in result.stderr
    directory = isolated_environment / ".config" / "dtrctl"
    stored = directory / "credentials.toml"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    route = dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    assert cli("repo", "show", "engineering/api").exit_code == 0
    assert route.called


def test_logout_removes_the_secret_and_says_where(dtr, cli, memory_keyring):
    ok_listing(dtr)
    cli("login", DTR_URL, "-u", "alice", "--password-stdin", input=SECRET)
    result = cli("logout")
    assert result.exit_code == 0
    assert "keyring" in result.stdout
    assert memory_keyring.passwords == {}
    again = cli("logout")
    assert "nothing" in again.stdout


def test_login_without_password_source_is_usage_error(cli):
    result = cli("login", DTR_URL, "-u", "alice")
    assert result.exit_code == 2
    assert "--password-stdin" in result.stderr


def test_whoami_reports_source_not_secret(dtr, cli, monkeypatch):
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    monkeypatch.setenv("DTRCTL_USERNAME", "ci-bot")
    monkeypatch.setenv("DTRCTL_TOKEN", SECRET)
    ok_listing(dtr)
    result = cli("whoami", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {
        "schema": "dtrctl/v1",
        "url": DTR_URL,
        "username": "ci-bot",
        "source": "env",
        "profile": None,
        "profile_reason": "implicit",
        "profile_exists": False,
        "accepted": True,
    }
    assert SECRET not in result.stdout


def test_whoami_refused_exits_3(dtr, cli, monkeypatch):
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    monkeypatch.setenv("DTRCTL_USERNAME", "ci-bot")
    monkeypatch.setenv("DTRCTL_PASSWORD", SECRET)
    dtr.get("/api/v0/repositories").respond(401)
    result = cli("whoami")
    assert result.exit_code == 3
    assert "REFUSED" in result.stdout


def test_whoami_without_credentials_exits_3_with_hint(cli, monkeypatch):
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    result = cli("whoami")
    assert result.exit_code == 3
    assert "DTRCTL_PASSWORD" in result.stderr


def test_docker_config_credentials_found_by_host(dtr, cli, monkeypatch, isolated_environment):
    import json

    docker = isolated_environment / ".docker"
    docker.mkdir()
    auth = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    (docker / "config.json").write_text(
        json.dumps({"auths": {"https://dtr.test/v1/": {"auth": auth}}})
    )
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    dtr.get("/api/v0/repositories").respond(200, json={"repositories": []})
    result = cli("whoami", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["source"] == "docker-config"
    assert result.json()["username"] == "alice"


def test_unknown_profile_is_usage_error(cli, monkeypatch):
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    result = cli("--profile", "nope", "whoami")
    assert result.exit_code == 2
    assert "nope" in result.stderr


@pytest.mark.parametrize(
    "content", ["[profiles.default\nurl = 1", '[profiles.default]\ninsecure = "yes"\n']
)
def test_bad_config_file_names_file_and_line(cli, isolated_environment, content):
    directory = isolated_environment / ".config" / "dtrctl"
    directory.mkdir(parents=True)
    (directory / "config.toml").write_text(content)
    result = cli("--url", DTR_URL, "whoami")
    assert result.exit_code == 2
    assert "config.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_login_to_a_second_profile_keeps_profiles_apart(dtr, cli, memory_keyring):
    import respx

    ok_listing(dtr)
    assert cli("login", DTR_URL, "-u", "alice", "--password-stdin", input=SECRET).exit_code == 0
    with respx.mock(base_url="https://staging.test") as staging:
        staging.get("/api/v0/repositories").respond(200, json={"repositories": []})
        result = cli(
            "login",
            "https://staging.test",
            "-u",
            "bob",
            "--profile",
            "staging",
            "--password-stdin",
            input="other-secret",
        )
        assert result.exit_code == 0, result.stderr
        staging_user = cli("--profile", "staging", "whoami", "-o", "json").json()
    assert memory_keyring.passwords[("dtrctl:https://staging.test", "bob")] == "other-secret"
    assert staging_user["url"] == "https://staging.test"
    assert staging_user["username"] == "bob"
    default_user = cli("whoami", "-o", "json").json()
    assert default_user["url"] == DTR_URL
    assert default_user["username"] == "alice"
