"""The installed `dtrctl` fails closed: missing credentials and a URL that is not a DTR are
errors, never an anonymous "all good" or "does not exist".

The sandbox is the DTR; faults make its `/api/v0` answer the way a plain registry (a bare 404),
a proxy or UCP (an HTML 404) would, while its `/v2` keeps working.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import (
    SUBPROCESS_TIMEOUT,
    Run,
    dtrctl_binary,
    free_port,
    run_dtrctl,
)

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
STDIN_SECRET = ("--password-stdin", "--insecure-storage")
# Enough for every /api/v0 request of one run.
ALWAYS = 100


def anonymous_env(server: SandboxServer) -> dict[str, str]:
    return {"DTRCTL_URL": server.url}


def admin_env(server: SandboxServer) -> dict[str, str]:
    return {"DTRCTL_URL": server.url, "DTRCTL_USERNAME": ADMIN[0], "DTRCTL_PASSWORD": ADMIN[1]}


def refused_for_want_of_credentials(run: Run) -> None:
    assert run.code == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    # The message names where dtrctl looked.
    for source in ("DTRCTL_PASSWORD", "keyring", "credentials.toml", "config.json"):
        assert source in run.stderr, run.stderr


def api_answers_like_a_plain_registry(server: SandboxServer) -> None:
    server.state.inject_fault(
        "status", path_prefix="/api/v0/", count=ALWAYS, status=404, body="404 page not found\n"
    )


def api_requests(server: SandboxServer) -> int:
    return sum(request.path.startswith("/api/v0/") for request in server.state.requests)


class TestMissingCredentials:
    @pytest.mark.parametrize(
        "args",
        [("push-check", "library/nginx:9"), ("repo", "audit")],
        ids=["push-check", "repo-audit"],
    )
    def test_a_ci_gate_without_credentials_is_exit_3_before_any_request(
        self, sandbox: SandboxServer, args: tuple[str, ...]
    ) -> None:
        run = run_dtrctl(*args, env=anonymous_env(sandbox))
        refused_for_want_of_credentials(run)
        assert "--anonymous" in run.stderr
        assert run.stdout == ""
        assert not sandbox.state.requests

    def test_a_ci_gate_runs_anonymously_when_declared(self, sandbox: SandboxServer) -> None:
        check = run_dtrctl(
            "--anonymous", "push-check", "library/nginx:9", env=anonymous_env(sandbox)
        )
        assert check.code == 0, check.stderr
        assert check.stdout.startswith("free")
        audit = run_dtrctl(
            "repo", "audit", "-o", "json", env={**anonymous_env(sandbox), "DTRCTL_ANONYMOUS": "1"}
        )
        # Anonymous: the public repositories only, and it says nothing more about it.
        checked = json.loads(audit.stdout)["checked"]
        assert checked and "running anonymously" not in audit.stderr

    def test_a_host_named_by_the_references_that_is_a_dtr_needs_credentials(
        self, sandbox: SandboxServer
    ) -> None:
        run = run_dtrctl("push-check", f"{sandbox.host_port}/library/nginx:9", env={})
        refused_for_want_of_credentials(run)
        assert "free" not in run.stdout

    @pytest.mark.parametrize(
        ("args", "env"),
        [
            (("-u", "alice", "repo", "list"), {}),
            (("push-check", "library/nginx:9"), {"DTRCTL_USERNAME": "alice"}),
            (("--anonymous", "repo", "create", "ci/new"), {"DTRCTL_USERNAME": "alice"}),
        ],
        ids=["option", "variable", "write"],
    )
    def test_a_named_user_without_a_secret_is_exit_3(
        self, sandbox: SandboxServer, args: tuple[str, ...], env: dict[str, str]
    ) -> None:
        run = run_dtrctl(*args, env={**anonymous_env(sandbox), **env})
        refused_for_want_of_credentials(run)
        assert "alice" in run.stderr
        assert not sandbox.state.requests

    def test_other_reads_say_once_that_they_run_anonymously(self, sandbox: SandboxServer) -> None:
        run = run_dtrctl("repo", "list", env=anonymous_env(sandbox))
        assert run.code == 0, run.stderr
        assert run.stderr.count("running anonymously") == 1
        assert "library/nginx" in run.stdout
        assert "engineering/web" not in run.stdout


class TestNotADtr:
    def test_the_configured_dtr_answering_like_a_plain_registry_is_exit_5(
        self, sandbox: SandboxServer
    ) -> None:
        api_answers_like_a_plain_registry(sandbox)
        # engineering/web:v1 exists in an immutable repository: never "overwrite".
        run = run_dtrctl("push-check", "engineering/web:v1", "ci/none:1", env=admin_env(sandbox))
        assert run.code == 5, run.stdout + run.stderr
        assert [line.split()[0] for line in run.stdout.splitlines()] == ["error", "error"]
        assert "serves no DTR API" in run.stdout
        assert "--backend registry" in run.stderr

    def test_declared_plain_the_configured_url_keeps_working_on_v2(
        self, sandbox: SandboxServer
    ) -> None:
        env = {"DTRCTL_URL": sandbox.url, "DTRCTL_BACKEND": "registry"}
        run = run_dtrctl("push-check", "library/nginx:1.25", "library/nginx:9", env=env)
        assert run.code == 0, run.stdout + run.stderr
        assert [line.split()[0] for line in run.stdout.splitlines()] == ["overwrite", "free"]
        assert "no DTR API" in run.stderr
        assert api_requests(sandbox) == 0
        show = run_dtrctl("--backend", "registry", "repo", "show", "library/nginx", env=env)
        assert show.code == 2
        assert "a plain registry has no API for repository settings" in show.stderr

    @pytest.mark.parametrize(
        ("args", "env"),
        [
            (("repo", "create", "ci/new"), {}),
            (("repo", "show", "ci/builder"), {}),
            (("whoami",), {}),
        ],
        ids=["repo-create", "repo-show", "whoami"],
    )
    @pytest.mark.parametrize("answer", ["bare-404", "html-404"])
    def test_a_url_that_is_no_dtr_is_exit_5_not_not_found(
        self, sandbox: SandboxServer, args: tuple[str, ...], env: dict[str, str], answer: str
    ) -> None:
        if answer == "bare-404":
            api_answers_like_a_plain_registry(sandbox)
        else:
            sandbox.state.inject_fault("html", path_prefix="/api/v0/", count=ALWAYS, status=404)
        run = run_dtrctl(*args, env={**admin_env(sandbox), **env})
        assert run.code == 5, run.stdout + run.stderr
        assert "serves no DTR API" in run.stderr
        assert "Check the URL" in run.stderr
        assert "does not exist" not in run.stderr

    def test_login_to_a_url_that_is_no_dtr_is_exit_5_and_saves_nothing(
        self, sandbox: SandboxServer, tmp_path: Path
    ) -> None:
        api_answers_like_a_plain_registry(sandbox)
        config = tmp_path / "config"
        login = subprocess.run(
            [dtrctl_binary(), "login", sandbox.url, "-u", ADMIN[0], "--password-stdin"],
            input=ADMIN[1],
            env={**os.environ, "DTRCTL_CONFIG_DIR": str(config)},
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
        assert login.returncode == 5, login.stderr
        assert "serves no DTR API" in login.stderr
        assert not (config / "config.toml").exists()

    def test_a_url_ending_in_api_v0_is_exit_5_with_the_fix(self, sandbox: SandboxServer) -> None:
        env = {**admin_env(sandbox), "DTRCTL_URL": f"{sandbox.url}/api/v0"}
        run = run_dtrctl("repo", "create", "ci/new", env=env)
        assert run.code == 5, run.stdout + run.stderr
        assert "serves no DTR API" in run.stderr
        assert "Drop /api/v0" in run.stderr


@pytest.fixture(scope="module")
def crowded() -> Iterator[SandboxServer]:
    """Listings far larger than a pipe's buffer."""
    server = SandboxServer().start()
    server.state.seed_repositories(2000, namespaces=["ci"])
    yield server
    server.stop()


@pytest.mark.parametrize("output", ["text", "json", "csv"])
def test_a_reader_that_goes_away_ends_the_run_quietly_with_141(
    crowded: SandboxServer, output: str
) -> None:
    process = subprocess.Popen(
        [dtrctl_binary(), "repo", "list", "-o", output],
        env={**os.environ, **admin_env(crowded)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)
    process.stdout.close()  # as `| head -c 10` does
    try:
        stderr = process.stderr.read().decode()
        process.wait(timeout=SUBPROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 141, stderr
    assert stderr == ""


@pytest.mark.parametrize("entry", ["", "."], ids=["empty", "dot"])
def test_a_credential_helper_is_never_run_from_the_current_directory(
    tmp_path: Path, entry: str
) -> None:
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    marker = tmp_path / "helper-ran"
    helper = workdir / "docker-credential-planted"
    helper.write_text(f'#!/bin/sh\ntouch {marker}\necho \'{{"Username": "x", "Secret": "y"}}\'\n')
    helper.chmod(0o755)
    docker = tmp_path / "docker"
    docker.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    host = url.removeprefix("http://")
    (docker / "config.json").write_text(json.dumps({"credHelpers": {host: "planted"}}))
    env = {
        "DTRCTL_URL": url,
        "DOCKER_CONFIG": str(docker),
        "PATH": os.pathsep.join([entry, "/usr/bin", "/bin"]),
    }
    run = run_dtrctl("-v", "whoami", env=env, cwd=workdir)
    assert not marker.exists()
    assert run.code == 3, run.stderr
    assert "docker-credential-planted is configured but not on PATH" in run.stderr


def test_insecure_storage_in_a_shared_directory_keeps_its_mode(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    env = {
        **os.environ,
        "DTRCTL_CONFIG_DIR": str(shared),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    login = subprocess.run(
        [dtrctl_binary(), "login", sandbox.url, "-u", ADMIN[0], *STDIN_SECRET],
        input=ADMIN[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    private = shared / "private"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert stat.S_IMODE((private / "credentials.toml").stat().st_mode) == 0o600
    # The profile login saved and the stored secret are found again.
    show = subprocess.run(
        [dtrctl_binary(), "repo", "show", "engineering/web"],
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert show.returncode == 0, show.stderr
    assert "running anonymously" not in show.stderr
