"""`podman login` credentials through the CLI: used, and reported under -v like docker's."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import DTR_URL


def test_whoami_uses_podmans_login_and_verbose_names_the_file(
    dtr: Any, cli: Any, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    auth_file = isolated_environment / ".run" / "containers" / "auth.json"
    auth_file.parent.mkdir(parents=True)
    encoded = base64.b64encode(b"podman-user:podman-secret").decode()
    auth_file.write_text(json.dumps({"auths": {"dtr.test": {"auth": encoded}}}))
    route = dtr.get("/api/v0/repositories").respond(200, json={"repositories": []})
    result = cli("whoami", "-v")
    assert result.exit_code == 0, result.stderr
    assert "User:       podman-user (from podman-auth)" in result.stdout
    assert f"podman: reading {auth_file}" in result.stderr
    assert "podman-secret" not in result.stdout + result.stderr
    sent = route.calls.last.request.headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(b"podman-user:podman-secret").decode()


def test_whoami_as_root_without_xdg_runtime_dir_uses_the_per_uid_login(
    dtr: Any, cli: Any, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sudo podman login` (and skopeo's) keep it in /run/containers/0/auth.json when
    XDG_RUNTIME_DIR is unset (containers-auth.json(5))."""
    from dtrctl.auth import podman_config

    run_containers = isolated_environment / "run-containers"
    monkeypatch.setattr(podman_config, "PER_UID_RUNTIME_DIR", run_containers)
    monkeypatch.setattr(podman_config.sys, "platform", "linux")
    monkeypatch.setattr(podman_config.os, "getuid", lambda: 0)
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    auth_file = run_containers / "0" / "auth.json"
    auth_file.parent.mkdir(parents=True)
    encoded = base64.b64encode(b"root-user:root-secret").decode()
    auth_file.write_text(json.dumps({"auths": {"dtr.test": {"auth": encoded}}}))
    dtr.get("/api/v0/repositories").respond(200, json={"repositories": []})
    result = cli("whoami", "-v")
    assert result.exit_code == 0, result.stderr
    assert "User:       root-user (from podman-auth)" in result.stdout
    assert f"podman: reading {auth_file}" in result.stderr
