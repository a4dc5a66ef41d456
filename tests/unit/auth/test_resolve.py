from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dtrctl.auth.credential import Credential
from dtrctl.auth.resolve import CredentialLookup, resolve_credentials
from dtrctl.auth.secret_store import keyring_service, store_secret
from dtrctl.config import Profile

if TYPE_CHECKING:
    from tests.unit.conftest import InMemoryKeyring, IsolatedEnv

pytestmark = pytest.mark.usefixtures("isolated_env")

HOST = "dtr.example.com"
URL = "https://dtr.example.com"
SERVICE = keyring_service(URL)


def resolve(
    *,
    url: str | None = URL,
    username: str | None = None,
    secret: str | None = None,
    profile: Profile | None = None,
    environ: Mapping[str, str] | None = None,
) -> CredentialLookup:
    return resolve_credentials(
        host=HOST, url=url, username=username, secret=secret, profile=profile, environ=environ
    )


@pytest.fixture
def notes(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """What the lookup logs for `-v`: `notes.messages` after the lookup."""
    caplog.set_level(logging.DEBUG, logger="dtrctl.auth")
    return caplog


def docker_login(isolated_env: IsolatedEnv, username: str, password: str) -> None:
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    isolated_env.docker_dir.mkdir(exist_ok=True)
    (isolated_env.docker_dir / "config.json").write_text(
        json.dumps({"auths": {HOST: {"auth": auth}}}), encoding="utf-8"
    )


# 1. flag and environment


@pytest.mark.usefixtures("in_memory_keyring")
def test_flag_username_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "env-user")
    monkeypatch.setenv("DTRCTL_PASSWORD", "env-secret")
    lookup = resolve(username="alice", secret="flag-secret")
    assert lookup.credential == Credential("alice", "flag-secret", "flag")


@pytest.mark.usefixtures("in_memory_keyring")
def test_flag_secret_with_the_profile_username() -> None:
    lookup = resolve(secret="flag-secret", profile=Profile(name="prod", username="alice"))
    assert lookup.credential == Credential("alice", "flag-secret", "flag")


@pytest.mark.usefixtures("in_memory_keyring")
def test_flag_secret_without_any_username_is_a_reason_not_a_credential() -> None:
    lookup = resolve(secret="flag-secret")
    assert lookup.credential is None
    assert lookup.unusable_reason is not None
    assert "--username" in lookup.unusable_reason


@pytest.mark.usefixtures("in_memory_keyring")
def test_empty_flag_secret_is_a_reason() -> None:
    lookup = resolve(username="alice", secret="")
    assert lookup.credential is None
    assert lookup.unusable_reason == "the password read from stdin is empty"


@pytest.mark.usefixtures("in_memory_keyring")
def test_env_username_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "alice")
    monkeypatch.setenv("DTRCTL_PASSWORD", "env-secret")
    assert resolve().credential == Credential("alice", "env-secret", "env")


@pytest.mark.usefixtures("in_memory_keyring")
def test_env_token_is_an_alias(
    monkeypatch: pytest.MonkeyPatch, notes: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "alice")
    monkeypatch.setenv("DTRCTL_TOKEN", "access-token")
    lookup = resolve()
    assert lookup.credential == Credential("alice", "access-token", "env")
    assert "secret from DTRCTL_TOKEN" in notes.messages


@pytest.mark.usefixtures("in_memory_keyring")
def test_env_password_wins_over_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "alice")
    monkeypatch.setenv("DTRCTL_PASSWORD", "password")
    monkeypatch.setenv("DTRCTL_TOKEN", "access-token")
    assert resolve().credential == Credential("alice", "password", "env")


@pytest.mark.usefixtures("in_memory_keyring")
def test_flag_username_with_env_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "env-user")
    monkeypatch.setenv("DTRCTL_PASSWORD", "env-secret")
    assert resolve(username="alice").credential == Credential("alice", "env-secret", "env")


@pytest.mark.usefixtures("in_memory_keyring")
def test_profile_username_with_env_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_PASSWORD", "env-secret")
    lookup = resolve(profile=Profile(name="prod", username="alice"))
    assert lookup.credential == Credential("alice", "env-secret", "env")


@pytest.mark.usefixtures("in_memory_keyring")
def test_env_password_without_username_is_a_reason(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DTRCTL_PASSWORD", "env-secret")
    docker_login(isolated_env, "docker-user", "docker-pw")
    lookup = resolve()
    assert lookup.credential is None
    assert lookup.unusable_reason is not None
    assert "DTRCTL_PASSWORD" in lookup.unusable_reason
    assert "DTRCTL_USERNAME" in lookup.unusable_reason


@pytest.mark.usefixtures("in_memory_keyring")
def test_explicit_environ_mapping_replaces_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "process-user")
    monkeypatch.setenv("DTRCTL_PASSWORD", "process-secret")
    lookup = resolve(environ={"DTRCTL_USERNAME": "alice", "DTRCTL_TOKEN": "token"})
    assert lookup.credential == Credential("alice", "token", "env")


# 2. stored secret (keyring, file)


def test_env_beats_the_keyring(
    monkeypatch: pytest.MonkeyPatch, in_memory_keyring: InMemoryKeyring
) -> None:
    in_memory_keyring.set_password(SERVICE, "alice", "stored")
    monkeypatch.setenv("DTRCTL_PASSWORD", "env-secret")
    lookup = resolve(profile=Profile(name="prod", url=URL, username="alice"))
    assert lookup.credential == Credential("alice", "env-secret", "env")


def test_keyring_secret_for_the_profile(in_memory_keyring: InMemoryKeyring) -> None:
    in_memory_keyring.set_password(SERVICE, "alice", "stored")
    lookup = resolve(url=None, profile=Profile(name="prod", url=URL + "/", username="alice"))
    assert lookup.credential == Credential("alice", "stored", "keyring")


def test_keyring_secret_for_the_env_username(
    monkeypatch: pytest.MonkeyPatch, in_memory_keyring: InMemoryKeyring
) -> None:
    in_memory_keyring.set_password(SERVICE, "bob", "stored")
    monkeypatch.setenv("DTRCTL_USERNAME", "bob")
    lookup = resolve(profile=Profile(name="prod", username="alice"))
    assert lookup.credential == Credential("bob", "stored", "keyring")


def test_keyring_beats_docker(
    isolated_env: IsolatedEnv, in_memory_keyring: InMemoryKeyring
) -> None:
    in_memory_keyring.set_password(SERVICE, "alice", "stored")
    docker_login(isolated_env, "alice", "docker-pw")
    assert resolve(username="alice").credential == Credential("alice", "stored", "keyring")


@pytest.mark.usefixtures("failing_keyring")
def test_file_store_when_there_is_no_keyring(isolated_env: IsolatedEnv) -> None:
    store_secret(SERVICE, "alice", "stored", insecure_storage=True)
    docker_login(isolated_env, "alice", "docker-pw")
    assert resolve(username="alice").credential == Credential("alice", "stored", "file")


@pytest.mark.usefixtures("failing_keyring")
def test_file_store_honours_the_given_environ(tmp_path: Path) -> None:
    other_dir = tmp_path / "other-config"
    store_secret(
        SERVICE, "alice", "stored", insecure_storage=True, store_path=other_dir / "credentials.toml"
    )
    lookup = resolve(username="alice", environ={"DTRCTL_CONFIG_DIR": str(other_dir)})
    assert lookup.credential == Credential("alice", "stored", "file")


@pytest.mark.usefixtures("failing_keyring")
def test_failing_keyring_falls_through_to_docker(
    isolated_env: IsolatedEnv, notes: pytest.LogCaptureFixture
) -> None:
    docker_login(isolated_env, "alice", "docker-pw")
    lookup = resolve(username="alice")
    assert lookup.credential == Credential("alice", "docker-pw", "docker-config")
    assert any(note.startswith("keyring: skipped") for note in notes.messages)


@pytest.mark.usefixtures("broken_keyring")
def test_broken_keyring_falls_through_to_docker(isolated_env: IsolatedEnv) -> None:
    docker_login(isolated_env, "alice", "docker-pw")
    lookup = resolve(username="alice")
    assert lookup.credential == Credential("alice", "docker-pw", "docker-config")


def test_keyring_is_not_asked_without_a_username(
    notes: pytest.LogCaptureFixture, isolated_env: IsolatedEnv, in_memory_keyring: InMemoryKeyring
) -> None:
    in_memory_keyring.set_password(SERVICE, "alice", "stored")
    docker_login(isolated_env, "alice", "docker-pw")
    lookup = resolve()
    assert lookup.credential == Credential("alice", "docker-pw", "docker-config")
    assert "stored secret: no username to look it up by, skipped" in notes.messages


# 3. docker, 4. nothing


@pytest.mark.usefixtures("in_memory_keyring")
def test_docker_credential_when_nothing_else(isolated_env: IsolatedEnv) -> None:
    docker_login(isolated_env, "alice", "docker-pw")
    assert resolve().credential == Credential("alice", "docker-pw", "docker-config")


@pytest.mark.usefixtures("in_memory_keyring")
def test_docker_credential_for_another_user_is_not_used(
    isolated_env: IsolatedEnv, notes: pytest.LogCaptureFixture
) -> None:
    docker_login(isolated_env, "bob", "docker-pw")
    lookup = resolve(profile=Profile(name="prod", username="alice"))
    assert lookup.credential is None
    assert any("'bob', not 'alice'" in note for note in notes.messages)


@pytest.mark.usefixtures("in_memory_keyring")
def test_docker_identity_token_gives_a_clear_reason(isolated_env: IsolatedEnv) -> None:
    isolated_env.docker_dir.mkdir()
    (isolated_env.docker_dir / "config.json").write_text(
        json.dumps({"auths": {HOST: {"identitytoken": "refresh-token"}}}), encoding="utf-8"
    )
    lookup = resolve()
    assert lookup.credential is None
    assert lookup.unusable_reason is not None
    assert lookup.unusable_reason.startswith(f"docker has an identity token for {HOST}")
    assert "DTRCTL_PASSWORD or dtrctl login" in lookup.unusable_reason
    assert "refresh-token" not in lookup.unusable_reason


@pytest.mark.usefixtures("in_memory_keyring")
def test_nothing_found(notes: pytest.LogCaptureFixture) -> None:
    lookup = resolve()
    assert lookup.credential is None
    assert lookup.unusable_reason is None
    assert notes.messages[-1] == "no credentials found"


# secrets stay out of repr and the log


def test_credential_repr_hides_the_secret() -> None:
    credential = Credential("alice", "top-secret", "flag")
    assert "top-secret" not in repr(credential)
    assert "top-secret" not in str(credential)
    assert "alice" in repr(credential)


@pytest.mark.parametrize("source", ["flag", "env", "keyring", "file", "docker-config"])
def test_no_secret_in_lookup_repr_or_log(
    notes: pytest.LogCaptureFixture,
    source: str,
    isolated_env: IsolatedEnv,
    monkeypatch: pytest.MonkeyPatch,
    in_memory_keyring: InMemoryKeyring,
) -> None:
    secret = "the-real-secret"
    if source == "env":
        monkeypatch.setenv("DTRCTL_PASSWORD", secret)
    elif source == "keyring":
        in_memory_keyring.set_password(SERVICE, "alice", secret)
    elif source == "file":
        store_secret(SERVICE, "alice", secret, insecure_storage=True)
    elif source == "docker-config":
        docker_login(isolated_env, "alice", secret)
    lookup = resolve(username="alice", secret=secret if source == "flag" else None)
    assert lookup.credential is not None
    assert lookup.credential.source == source
    assert lookup.credential.secret == secret
    assert secret not in repr(lookup)
    assert notes.messages
    assert not any(secret in note for note in notes.messages)
