"""Credential sources are read within bounds: the installed dtrctl against hostile ones.

A credential helper that prints without end or never answers, an auth file that is `/dev/zero`
or a FIFO nobody writes to, a keyring that waits for ever: each ends the run with exit 3 or 5
naming the source, in bounded memory and time. Each run asks for a closed loopback port, which
it never reaches: the credential lookup comes first. A run that hangs fails the test by the
subprocess timeout (`SUBPROCESS_TIMEOUT`), never by a measured duration; one that reads without
bound fails on its address-space limit (`run_bounded`) instead of swallowing the machine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.conftest import Run, free_port
from tests.integration.test_bounded_files import run_bounded

pytestmark = pytest.mark.integration

SECRET = "helper-s3cret-never-printed"


def helper_env(tmp_path: Path, body: str, **variables: str) -> dict[str, str]:
    """A docker config naming `docker-credential-hostile` (a shell script running `body`) for
    a closed loopback port, and that script on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-hostile"
    helper.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
    helper.chmod(0o755)
    docker = tmp_path / "docker"
    docker.mkdir()
    host = f"127.0.0.1:{free_port()}"
    (docker / "config.json").write_text(json.dumps({"credHelpers": {host: "hostile"}}))
    return {
        "DTRCTL_URL": f"http://{host}",
        "DOCKER_CONFIG": str(docker),
        "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]),
        **variables,
    }


def closed_port_env(**variables: str) -> dict[str, str]:
    return {"DTRCTL_URL": f"http://127.0.0.1:{free_port()}", **variables}


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr


def test_a_helper_printing_without_end_is_exit_3_naming_it(tmp_path: Path) -> None:
    run = run_bounded("whoami", env=helper_env(tmp_path, 'exec yes \'{"Username": "x"}\'\n'))
    assert run.code == 3, run.stderr
    assert "docker-credential-hostile printed more than 1 MiB" in run.stderr
    assert_no_traceback(run)


def test_a_helper_that_never_answers_is_exit_5_naming_it(tmp_path: Path) -> None:
    # It keeps its pipes open and never exits; a child it started is ended with it.
    env = helper_env(tmp_path, "sleep 600\n", DTRCTL_CREDENTIAL_TIMEOUT="1")
    run = run_bounded("-o", "json", "whoami", env=env)
    assert run.code == 5, run.stderr
    error = json.loads(run.stdout)["error"]
    assert error["code"] == "timeout"
    assert "docker-credential-hostile did not answer within 1 s" in error["message"]


def test_verbose_never_logs_a_failing_helpers_stdout(tmp_path: Path) -> None:
    # A helper that prints the credential, then fails: nothing on stderr to quote.
    body = f'echo \'{{"Username": "alice", "Secret": "{SECRET}"}}\'\nexit 1\n'
    run = run_bounded("-v", "whoami", env=helper_env(tmp_path, body))
    assert "docker-credential-hostile get failed" in run.stderr
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_registry_auth_file_that_never_ends_is_exit_3_naming_it(
    tmp_path: Path, kind: str
) -> None:
    path = Path(kind)
    if kind == "fifo":
        path = tmp_path / "auth.json"
        os.mkfifo(path)  # nobody writes to it
    run = run_bounded("whoami", env=closed_port_env(REGISTRY_AUTH_FILE=str(path)))
    assert run.code == 3, run.stderr
    assert f"podman's auth file ($REGISTRY_AUTH_FILE) {path} is not a regular file" in run.stderr
    assert_no_traceback(run)


def test_dtrctls_credential_file_as_a_fifo_is_exit_3_naming_it(tmp_path: Path) -> None:
    config_dir = tmp_path / "dtrctl"
    config_dir.mkdir(mode=0o700)
    os.mkfifo(config_dir / "credentials.toml")
    env = closed_port_env(
        DTRCTL_CONFIG_DIR=str(config_dir),
        DTRCTL_USERNAME="alice",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    run = run_bounded("whoami", env=env)
    assert run.code == 3, run.stderr
    assert "dtrctl's credential file" in run.stderr
    assert "is not a regular file" in run.stderr


def test_a_keyring_that_never_answers_is_exit_5_naming_it(tmp_path: Path) -> None:
    (tmp_path / "blocking_keyring.py").write_text(
        "import threading\n"
        "from keyring.backend import KeyringBackend\n\n"
        "class Keyring(KeyringBackend):\n"
        "    priority = 1\n\n"
        "    def get_password(self, service, username):\n"
        "        threading.Event().wait()\n\n"
        "    def set_password(self, service, username, password):\n"
        "        threading.Event().wait()\n\n"
        "    def delete_password(self, service, username):\n"
        "        threading.Event().wait()\n",
        encoding="utf-8",
    )
    env = closed_port_env(
        PYTHONPATH=str(tmp_path),
        PYTHON_KEYRING_BACKEND="blocking_keyring.Keyring",
        DTRCTL_CREDENTIAL_TIMEOUT="1",
        DTRCTL_USERNAME="alice",
    )
    run = run_bounded("whoami", env=env)
    assert run.code == 5, run.stderr
    assert "the system keyring did not answer within 1 s" in run.stderr
    assert_no_traceback(run)
