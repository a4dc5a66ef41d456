"""podman / Buildah / skopeo credentials: podman's files, in podman's order, before docker's."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dtrctl.auth import podman_config
from dtrctl.auth.docker_config import find_docker_credential
from dtrctl.auth.podman_config import podman_auth_paths
from dtrctl.auth.resolve import resolve_credentials
from dtrctl.errors import CredentialSourceUnusable

if TYPE_CHECKING:
    from tests.unit.conftest import IsolatedEnv

HOST = "dtr.example.com"


def auths(username: str, password: str, key: str = HOST) -> dict[str, Any]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"auths": {key: {"auth": encoded}}}


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def runtime_auth(isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch) -> Path:
    runtime = isolated_env.home.parent / "run-user"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime / "containers" / "auth.json"


def config_auth(isolated_env: IsolatedEnv) -> Path:
    return isolated_env.home / ".config" / "containers" / "auth.json"


def user_of() -> str | None:
    found = find_docker_credential(HOST)
    return found.credential.username if found.credential else None


def logged(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= level]


def test_podman_login_in_the_runtime_dir_is_found(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(runtime_auth(isolated_env, monkeypatch), auths("podman-user", "pw"))
    found = find_docker_credential(HOST)
    assert found.credential is not None
    assert (found.credential.username, found.credential.secret) == ("podman-user", "pw")
    assert found.credential.source == "podman-auth"


def test_order_runtime_dir_then_config_dir_then_docker(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = runtime_auth(isolated_env, monkeypatch)
    write(isolated_env.docker_dir / "config.json", auths("docker-user", "pw"))
    assert user_of() == "docker-user"
    write(config_auth(isolated_env), auths("config-user", "pw"))
    assert user_of() == "config-user"
    write(runtime, auths("runtime-user", "pw"))
    assert user_of() == "runtime-user"


def test_registry_auth_file_is_the_only_podman_file_read(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write(runtime_auth(isolated_env, monkeypatch), auths("runtime-user", "pw"))
    chosen = write(tmp_path / "ci-auth.json", auths("ci-user", "pw"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(chosen))
    assert podman_auth_paths({"REGISTRY_AUTH_FILE": str(chosen), "XDG_RUNTIME_DIR": "/r"}) == [
        chosen
    ]
    assert user_of() == "ci-user"
    # A REGISTRY_AUTH_FILE without this host falls back to docker's config, as podman does.
    write(chosen, auths("other", "pw", key="other.example.com"))
    write(isolated_env.docker_dir / "config.json", auths("docker-user", "pw"))
    assert user_of() == "docker-user"


def test_verbose_notes_name_each_podman_file_without_secrets(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dtrctl.auth")
    runtime = runtime_auth(isolated_env, monkeypatch)
    write(config_auth(isolated_env), auths("config-user", "s3cret-podman"))
    assert user_of() == "config-user"
    notes = logged(caplog)
    assert f"podman: no {runtime}" in notes
    assert f"podman: reading {config_auth(isolated_env)}" in notes
    assert not any("s3cret-podman" in note for note in notes)


def test_a_malformed_podman_file_is_a_warning_and_skipped(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dtrctl.auth")
    runtime = runtime_auth(isolated_env, monkeypatch)
    runtime.parent.mkdir(parents=True)
    runtime.write_text("{not json", encoding="utf-8")
    write(config_auth(isolated_env), auths("config-user", "pw"))
    assert user_of() == "config-user"
    assert any(str(runtime) in warning for warning in logged(caplog, logging.WARNING))


def test_the_credential_chain_reports_podman_as_the_source(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(runtime_auth(isolated_env, monkeypatch), auths("podman-user", "pw"))
    lookup = resolve_credentials(host=HOST, url=f"https://{HOST}")
    assert lookup.credential is not None
    assert lookup.credential.source == "podman-auth"


def test_without_xdg_runtime_dir_the_per_uid_file_is_read_first_on_linux(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """containers-auth.json(5): root's `podman login` (and skopeo's, for any user) keeps the
    login in /run/containers/$UID/auth.json when XDG_RUNTIME_DIR is unset."""
    monkeypatch.setattr(podman_config.sys, "platform", "linux")
    monkeypatch.setattr(podman_config.os, "getuid", lambda: 0)
    monkeypatch.setattr(podman_config, "PER_UID_RUNTIME_DIR", tmp_path / "run-containers")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    per_uid = tmp_path / "run-containers" / "0" / "auth.json"
    assert podman_auth_paths({"HOME": str(isolated_env.home)}) == [
        per_uid,
        config_auth(isolated_env),
    ]
    write(config_auth(isolated_env), auths("config-user", "pw"))
    write(per_uid, auths("root-podman-user", "pw"))
    assert user_of() == "root-podman-user"


def test_with_xdg_runtime_dir_the_per_uid_file_is_not_read(tmp_path: Path) -> None:
    paths = podman_auth_paths({"HOME": str(tmp_path), "XDG_RUNTIME_DIR": "/r"})
    assert not any(str(path).startswith("/run/containers") for path in paths)


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_registry_auth_file_that_never_ends_is_exit_3_naming_it(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    if kind == "fifo":
        path = tmp_path / "auth-fifo"
        os.mkfifo(path)  # nobody writes to it: reading it would wait for ever
    else:
        path = Path(kind)
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(path))
    with pytest.raises(CredentialSourceUnusable) as raised:
        find_docker_credential(HOST)
    assert raised.value.exit_code == 3
    assert f"podman's auth file ($REGISTRY_AUTH_FILE) {path} is not a regular file" in (
        raised.value.message
    )


def test_a_per_uid_directory_closed_to_this_user_is_no_warning(
    isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """/run/containers is root's: another user who cannot enter it has no login there."""
    monkeypatch.setattr(podman_config.sys, "platform", "linux")
    monkeypatch.delenv("XDG_RUNTIME_DIR")

    def closed(path: Path, *_: str) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(podman_config, "read_credential_file", closed)
    caplog.set_level(logging.DEBUG, logger="dtrctl.auth")
    assert user_of() is None
    warnings = logged(caplog, logging.WARNING)
    assert [note for note in warnings if "/run/containers" in note] == []
    assert any(str(config_auth(isolated_env)) in note for note in warnings)
