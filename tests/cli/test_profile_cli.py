"""`dtrctl profile list` / `profile use`, and `whoami` saying which profile is active and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import DTR_URL, repository_body

SECRET = "tok-profile-secret"
STAGING_URL = "https://staging.test"


@pytest.fixture
def two_profiles(dtr: Any, cli: Any) -> None:
    """prod (secret in the keyring, via login) and staging (no secret)."""
    dtr.get("/api/v0/repositories").respond(200, json={"repositories": [repository_body()]})
    login = cli(
        "login", DTR_URL, "-u", "alice", "--profile", "prod", "--password-stdin", input=SECRET
    )
    assert login.exit_code == 0, login.stderr
    config = Path(_config_file(cli))
    config.write_text(
        config.read_text() + f'\n[profiles.staging]\nurl = "{STAGING_URL}"\n', encoding="utf-8"
    )


def _config_file(cli: Any) -> str:
    return cli("profile", "list", "-o", "json").json()["config_file"]


def test_list_shows_profiles_active_one_and_secret_location(cli: Any, two_profiles: None) -> None:
    result = cli("profile", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["schema"] == "dtrctl/v1"
    assert document["active"] == "default"
    assert document["active_reason"] == "implicit"
    by_name = {row["name"]: row for row in document["profiles"]}
    assert by_name["prod"]["url"] == DTR_URL
    assert by_name["prod"]["username"] == "alice"
    assert by_name["prod"]["secret_stored_in"] == "keyring"
    assert by_name["staging"]["secret_stored_in"] is None
    assert not any(row["active"] for row in document["profiles"])
    assert SECRET not in result.stdout


def test_use_makes_a_profile_active_and_list_marks_it(cli: Any, two_profiles: None) -> None:
    result = cli("profile", "use", "staging")
    assert result.exit_code == 0, result.stderr
    assert "Default profile: staging" in result.stdout
    listing = cli("profile", "list")
    assert listing.exit_code == 0
    marked = [line for line in listing.stdout.splitlines() if line.startswith("*")]
    assert len(marked) == 1 and "staging" in marked[0]
    assert "Active profile: staging (default_profile in" in listing.stderr


def test_use_of_an_unknown_profile_exits_2_naming_the_known_ones(
    cli: Any, two_profiles: None
) -> None:
    result = cli("profile", "use", "nope")
    assert result.exit_code == 2
    assert "'nope'" in result.stderr and "prod, staging" in result.stderr


def test_list_as_csv(cli: Any, two_profiles: None) -> None:
    result = cli("profile", "list", "-o", "csv")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("name,url,username,active,secret_stored_in")
    assert f"prod,{DTR_URL},alice,false,keyring" in lines[1]


def test_list_without_a_config_file_says_how_to_create_one(cli: Any) -> None:
    result = cli("profile", "list")
    assert result.exit_code == 0
    assert "dtrctl login" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "env", "reason", "name"),
    [
        (["--profile", "prod"], {}, "flag", "prod"),
        ([], {"DTRCTL_PROFILE": "prod"}, "env", "prod"),
        ([], {}, "default_profile", "staging"),
    ],
)
def test_whoami_says_which_profile_is_active_and_why(
    cli: Any,
    two_profiles: None,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    env: dict[str, str],
    reason: str,
    name: str,
) -> None:
    assert cli("profile", "use", "staging").exit_code == 0
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = cli(*arguments, "--url", DTR_URL, "whoami", "-o", "json")
    assert result.json()["profile"] == name
    assert result.json()["profile_reason"] == reason
    text = cli(*arguments, "--url", DTR_URL, "whoami")
    assert text.stdout.startswith(f"Profile:    {name} (")


def test_whoami_names_the_implicit_default(cli: Any, dtr: Any, dtr_env: None) -> None:
    dtr.get("/api/v0/repositories").respond(200, json={"repositories": []})
    result = cli("whoami")
    assert "Profile:    default (the implicit 'default'; not in the config file)" in result.stdout
