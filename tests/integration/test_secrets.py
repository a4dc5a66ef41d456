"""A whole session with -v against the sandbox, scanned for the secret: it appears nowhere.

The installed `dtrctl` logs in (secret on stdin), creates a repository, changes immutability,
runs push-check through the registry's token flow, completes a repository name, asks whoami,
fails on purpose under DTRCTL_DEBUG, and logs out. Every line it printed and every file it wrote
is searched for the secret, for `base64(user:secret)` (the Basic header's value) and for each
registry token the sandbox issued; the files holding anything sensitive must be 0600 in 0700
directories.

Keyring: the subprocesses cannot reach the test's in-memory keyring, and a real one would touch
the machine's secrets. So they run with keyring's null backend (PYTHON_KEYRING_BACKEND), which
holds nothing, and `login --insecure-storage` keeps the secret in the 0600 credentials file,
which later commands read: the file store is exercised, and its mode checked, for real.
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dtrctl.sandbox.server import SandboxServer
from dtrctl.sandbox.state import RegistryToken
from tests.integration.conftest import SUBPROCESS_TIMEOUT, Run, dtrctl_binary, free_port

pytestmark = pytest.mark.integration

USERNAME = "admin"
SECRET = "sandbox-admin-password"
BASIC = base64.b64encode(f"{USERNAME}:{SECRET}".encode()).decode()


@dataclass
class Session:
    server: SandboxServer
    home: Path
    issued_tokens: list[str]
    runs: list[Run] = field(default_factory=list)

    def dtrctl(self, *args: str, input: str | None = None, **variables: str) -> Run:
        environment = {
            **os.environ,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            **variables,
        }
        completed = subprocess.run(
            [dtrctl_binary(), *args],
            env=environment,
            input=input,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
        run = Run(completed.returncode, completed.stdout, completed.stderr)
        self.runs.append(run)
        return run

    def login(self, *options: str) -> Run:
        """`dtrctl login` with the secret on stdin, kept in the 0600 credentials file."""
        return self.dtrctl(
            *options,
            *("login", self.server.url, "-u", USERNAME, "--password-stdin", "--insecure-storage"),
            input=f"{SECRET}\n",
        )

    def printed(self) -> str:
        return "\n".join(run.stdout + run.stderr for run in self.runs)

    def written(self) -> dict[Path, bytes]:
        return {path: path.read_bytes() for path in self.home.rglob("*") if path.is_file()}


@pytest.fixture
def session(
    sandbox: SandboxServer, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    issued: list[str] = []
    issue = sandbox.state.issue_token

    def recording_issue(*args: object, **kwargs: object) -> RegistryToken:
        token = issue(*args, **kwargs)  # type: ignore[arg-type]
        issued.append(token.value)
        return token

    monkeypatch.setattr(sandbox.state, "issue_token", recording_issue)
    yield Session(sandbox, isolated_environment, issued)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_verbose_session_never_shows_or_stores_the_secret_outside_its_file(session):
    url = session.server.url
    login = session.login("-v")
    assert login.code == 0, login.stderr
    created = session.dtrctl("-v", "repo", "create", "engineering/vault", "--immutable")
    assert created.code == 0, created.stderr
    changed = session.dtrctl("-v", "repo", "set-immutable", "engineering/api")
    assert changed.code == 0, changed.stderr
    checked = session.dtrctl("-v", "push-check", "engineering/web:v1", "engineering/api:1.0.0")
    assert checked.code == 1, checked.stderr  # web:v1 is a collision
    assert "Authorization: Bearer [redacted]" in checked.stderr
    assert "Authorization: Basic [redacted]" in checked.stderr
    completed = session.dtrctl(
        _DTRCTL_COMPLETE="complete_bash", COMP_WORDS="dtrctl repo show engineering/", COMP_CWORD="3"
    )
    assert "engineering/vault" in completed.stdout.split()
    whoami = session.dtrctl("-v", "whoami")
    assert whoami.code == 0 and "credentials: using file" in whoami.stderr
    from_environment = session.dtrctl(
        "-v", "--url", url, "whoami", DTRCTL_USERNAME=USERNAME, DTRCTL_PASSWORD=SECRET
    )
    assert "credentials: secret from DTRCTL_PASSWORD" in from_environment.stderr
    debug = session.dtrctl("-v", "repo", "show", "engineering/nothing", DTRCTL_DEBUG="1")
    assert "Traceback" in debug.stderr and "RepositoryNotFound" in debug.stderr
    unreachable = session.dtrctl(
        "-v",
        "--url",
        f"http://127.0.0.1:{free_port()}",
        "--retries",
        "0",
        "whoami",
        DTRCTL_DEBUG="1",
        DTRCTL_USERNAME=USERNAME,
        DTRCTL_PASSWORD=SECRET,
    )
    assert "Traceback" in unreachable.stderr and "NetworkError" in unreachable.stderr

    credentials = session.home / ".config" / "dtrctl" / "credentials.toml"
    assert SECRET.encode() in credentials.read_bytes()  # where login was told to keep it
    logout = session.dtrctl("-v", "logout")
    assert logout.code == 0 and str(credentials) in logout.stdout

    assert session.issued_tokens, "push-check went through the token flow"
    secrets = [SECRET, BASIC, *session.issued_tokens]
    printed = session.printed()
    assert [secret for secret in secrets if secret in printed] == []
    for path, content in session.written().items():
        assert [secret for secret in secrets if secret.encode() in content] == [], path


def test_files_holding_anything_sensitive_are_private(session):
    login = session.login()
    assert login.code == 0, login.stderr
    session.dtrctl(_DTRCTL_COMPLETE="complete_bash", COMP_WORDS="dtrctl repo show ", COMP_CWORD="3")
    config = session.home / ".config" / "dtrctl"
    cache = session.home / ".cache" / "dtrctl"
    cached = list(cache.glob("repositories-*.json"))
    assert cached, "the completion lookup wrote its cache"
    assert {path.name for path in config.iterdir()} == {"config.toml", "credentials.toml"}
    for directory in (config, cache):
        assert mode(directory) == 0o700, directory
    for path in (config / "config.toml", config / "credentials.toml", *cached):
        assert mode(path) == 0o600, path
    # A second login rewrites the files: still private, no leftover temporary file.
    again = session.login()
    assert again.code == 0, again.stderr
    assert {path.name for path in config.iterdir()} == {"config.toml", "credentials.toml"}
    assert mode(config / "credentials.toml") == 0o600


def test_without_verbose_no_lookup_warning_or_request_line_reaches_stderr(session):
    # Real processes: under pytest the root logger has handlers, so only a process of its own
    # shows whether a warning would reach Python's last-resort handler.
    config = session.home / ".docker" / "config.json"
    config.parent.mkdir(exist_ok=True)
    config.write_text("{not json", encoding="utf-8")
    show = ("repo", "show", "engineering/api")
    quiet = session.dtrctl(*show, DTRCTL_URL=session.server.url)
    verbose = session.dtrctl("-v", *show, DTRCTL_URL=session.server.url)
    assert quiet.code == verbose.code
    assert f"credentials: warning: docker: {config} is not valid JSON" in verbose.stderr
    assert f"> GET {session.server.url}/api/v0/repositories/engineering/api" in verbose.stderr
    for line in ("credentials:", "docker:", "> GET", "< "):
        assert line not in quiet.stderr
    completed = session.dtrctl(
        _DTRCTL_COMPLETE="complete_bash",
        COMP_WORDS="dtrctl repo show engineering/",
        COMP_CWORD="3",
        DTRCTL_URL=session.server.url,
    )
    assert completed.code == 0
    assert completed.stderr == ""
