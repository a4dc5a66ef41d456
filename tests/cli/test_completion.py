"""Shell completion: the committed scripts, bash's protocol for real, and repository names.

The bash tests source completions/dtrctl.bash in a real bash, set COMP_WORDS/COMP_CWORD as bash
would on TAB, call the completion function and read COMPREPLY; `dtrctl` on PATH is this
checkout. Repository names come from an in-process sandbox there, and from respx mocks for the
completers and their cache.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from dtrctl.cli.completers import complete_namespace, complete_reference, complete_repository
from dtrctl.cli.completion import SCRIPT_FILES, Shell
from dtrctl.repos import name_cache as completion_cache
from dtrctl.repos.name_cache import CACHE_TTL_SECONDS, repository_names
from dtrctl.sandbox.accounts import ADMIN
from dtrctl.sandbox.server import SandboxServer
from dtrctl.settings import ConnectionSettings
from tests.cli.conftest import DTR_URL, repository_body

# Real bash and dtrctl processes, and a sandbox on loopback: not in `make test-fast`.
pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
COMPLETIONS = ROOT / "completions"
BASH_SCRIPT = COMPLETIONS / SCRIPT_FILES[Shell.bash]
SUBPROCESS_TIMEOUT = 60
HEAVY_MODULES = ("httpx", "rich", "keyring")

# The committed scripts


def test_committed_scripts_match_what_the_generator_writes(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "generate_completions.py"),
            "--output-dir",
            tmp_path,
        ],
        check=True,
        capture_output=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    for file_name in SCRIPT_FILES.values():
        generated = (tmp_path / file_name).read_bytes()
        committed = (COMPLETIONS / file_name).read_bytes()
        assert committed == generated, (
            f"completions/{file_name} is stale: run python scripts/generate_completions.py"
        )


@pytest.mark.parametrize("shell", list(Shell))
def test_completion_command_prints_the_committed_script(cli: Any, shell: Shell) -> None:
    result = cli("completion", shell.value)
    assert result.exit_code == 0
    assert result.stdout == (COMPLETIONS / SCRIPT_FILES[shell]).read_text(encoding="utf-8")


def test_zsh_script_is_an_autoloadable_completion_function() -> None:
    first_line = (COMPLETIONS / "_dtrctl").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "#compdef dtrctl"


def test_completion_command_names_the_shells_it_knows(cli: Any) -> None:
    result = cli("completion", "tcsh")
    assert result.exit_code == 2
    assert "bash" in result.stderr and "powershell" in result.stderr


# Bash's completion protocol, for real


@pytest.fixture
def completion_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose `dtrctl` is this checkout and whose cache is empty."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "dtrctl"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dtrctl "$@"\n')
    wrapper.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


def bash_complete(words: list[str], env: dict[str, str]) -> list[str]:
    """COMPREPLY for TAB at the end of `words`, which are split as bash splits them."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
        '_dtrctl_completion dtrctl; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    completed = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script, "bash", str(BASH_SCRIPT), *words],
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return [line for line in completed.stdout.splitlines() if line]


def completion_request(
    words: list[str], env: dict[str, str], *python_options: str
) -> subprocess.CompletedProcess[str]:
    """What dtrctl itself prints for bash's completion request (no shell in between)."""
    return subprocess.run(
        [sys.executable, *python_options, "-m", "dtrctl"],
        env={
            **env,
            "_DTRCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "\n".join(words),
            "COMP_CWORD": str(len(words) - 1),
        },
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


def test_bash_completes_commands(completion_env: dict[str, str]) -> None:
    assert bash_complete(["dtrctl", "re"], completion_env) == ["repo"]
    top_level = bash_complete(["dtrctl", ""], completion_env)
    assert {"repo", "push-check", "login", "whoami", "ca", "completion"} <= set(top_level)
    assert "create" in bash_complete(["dtrctl", "repo", ""], completion_env)


def test_bash_completes_options_and_their_values(completion_env: dict[str, str]) -> None:
    assert bash_complete(["dtrctl", "repo", "create", "--im"], completion_env) == ["--immutable"]
    assert bash_complete(["dtrctl", "completion", "z"], completion_env) == ["zsh"]
    # Bash splits `--output=js` at '=' and replaces only what follows it.
    assert bash_complete(["dtrctl", "login", "--output", "=", "js"], completion_env) == ["json"]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed="demo") as server:
        yield server


@pytest.fixture
def sandbox_env(completion_env: dict[str, str], sandbox: SandboxServer) -> dict[str, str]:
    return {
        **completion_env,
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": ADMIN.username,
        "DTRCTL_PASSWORD": ADMIN.password,
    }


def api_requests(sandbox: SandboxServer) -> list[str]:
    return [request.path for request in sandbox.state.requests if request.path != "/health"]


def test_bash_completes_repository_names_from_dtr_then_from_the_cache(
    sandbox: SandboxServer, sandbox_env: dict[str, str]
) -> None:
    words = ["dtrctl", "repo", "show", "eng"]
    assert bash_complete(words, sandbox_env) == ["engineering/api", "engineering/web"]
    asked = api_requests(sandbox)
    assert asked == ["/api/v0/repositories"]
    assert bash_complete(words, sandbox_env) == ["engineering/api", "engineering/web"]
    assert api_requests(sandbox) == asked


def test_bash_completes_push_check_references_with_host_and_port(
    sandbox: SandboxServer, sandbox_env: dict[str, str]
) -> None:
    host, port = sandbox.host_port.split(":")
    # Bash splits at ':' and replaces only what follows the last one.
    words = ["dtrctl", "push-check", host, ":", f"{port}/library/ng"]
    assert bash_complete(words, sandbox_env) == [f"{port}/library/nginx"]


@pytest.mark.parametrize(
    ("kind", "options"),
    [("status", {"status": 500}), ("slow", {"seconds": 5}), ("drop", {})],
    ids=["server-error", "timeout", "dropped-connection"],
)
def test_repository_completion_is_silent_when_dtr_fails(
    sandbox: SandboxServer, sandbox_env: dict[str, str], kind: str, options: dict[str, Any]
) -> None:
    sandbox.state.inject_fault(kind, "/api/v0/", **options)
    completed = completion_request(["dtrctl", "repo", "show", "eng"], sandbox_env)
    assert (completed.returncode, completed.stdout.strip(), completed.stderr) == (0, "", "")
    # A failure is not cached: the next TAB asks again.
    assert bash_complete(["dtrctl", "repo", "show", "eng"], sandbox_env) == [
        "engineering/api",
        "engineering/web",
    ]


def test_repository_completion_is_silent_without_a_url(completion_env: dict[str, str]) -> None:
    completed = completion_request(["dtrctl", "repo", "show", "eng"], completion_env)
    assert (completed.returncode, completed.stdout.strip(), completed.stderr) == (0, "", "")


def imported_modules(completed: subprocess.CompletedProcess[str]) -> set[str]:
    """Top-level module names from `python -X importtime` output."""
    return {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in completed.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_completion_imports_nothing_heavy(
    sandbox: SandboxServer, sandbox_env: dict[str, str]
) -> None:
    options = completion_request(
        ["dtrctl", "repo", "create", "--im"], sandbox_env, "-X", "importtime"
    )
    assert options.stdout.split() == ["--immutable"]
    assert not imported_modules(options) & set(HEAVY_MODULES)
    words = ["dtrctl", "repo", "show", "eng"]
    assert bash_complete(words, sandbox_env) == ["engineering/api", "engineering/web"]
    cached = completion_request(words, sandbox_env, "-X", "importtime")
    assert cached.stdout.split() == ["engineering/api", "engineering/web"]
    assert not imported_modules(cached) & set(HEAVY_MODULES)


# The completers and their cache, against respx


class CompletingContext:
    """What the completers read of Typer's Context: the root command's parsed options."""

    def __init__(self, **params: Any) -> None:
        self.params = {"url": None, "username": None, "profile": None, **params}

    def find_root(self) -> CompletingContext:
        return self


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "dtrctl"


def listing(*names: str) -> httpx.Response:
    bodies = [repository_body(*name.split("/")) for name in names]
    return httpx.Response(200, json={"repositories": bodies})


ALL_REPOSITORIES = ("engineering/api", "engineering/web", "library/nginx")


def test_repository_names_are_asked_once_and_cached_privately(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path
) -> None:
    route = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    context: Any = CompletingContext(url=DTR_URL, username="admin")
    assert complete_repository(context, "eng") == ["engineering/api", "engineering/web"]
    assert complete_repository(context, "lib") == ["library/nginx"]
    assert route.call_count == 1
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")
    [cache_file] = cache_home.iterdir()
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_home.stat().st_mode) == 0o700


def test_a_namespace_prefix_asks_for_that_namespace_only(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path
) -> None:
    everything = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    namespace = dtr.get("/api/v0/repositories/engineering").mock(
        return_value=listing("engineering/api", "engineering/web")
    )
    context: Any = CompletingContext(url=DTR_URL, username="admin")
    assert complete_repository(context, "engineering/w") == ["engineering/web"]
    assert (everything.call_count, namespace.call_count) == (0, 1)


def test_a_fresh_list_of_everything_answers_for_a_namespace(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path
) -> None:
    everything = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    namespace = dtr.get("/api/v0/repositories/engineering").mock(return_value=listing())
    context: Any = CompletingContext(url=DTR_URL, username="admin")
    assert complete_namespace(context, "") == ["engineering", "library"]
    assert complete_repository(context, "engineering/") == ["engineering/api", "engineering/web"]
    assert (everything.call_count, namespace.call_count) == (1, 0)


def test_cached_names_expire(dtr: respx.MockRouter, dtr_env: None, cache_home: Path) -> None:
    route = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    settings = ConnectionSettings(url=DTR_URL, username="admin")
    for now in (1000.0, 1000.0 + CACHE_TTL_SECONDS - 1):
        assert repository_names(settings, clock=functools.partial(float, now)) == list(
            ALL_REPOSITORIES
        )
    assert route.call_count == 1
    assert repository_names(settings, clock=lambda: 1000.0 + CACHE_TTL_SECONDS) == list(
        ALL_REPOSITORIES
    )
    assert route.call_count == 2


def test_the_cache_is_per_user(dtr: respx.MockRouter, dtr_env: None, cache_home: Path) -> None:
    route = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    assert repository_names(ConnectionSettings(url=DTR_URL, username="admin"))
    assert repository_names(ConnectionSettings(url=DTR_URL, username="alice"))
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"errors": [{"code": "UNKNOWN", "message": "boom"}]}),
        httpx.Response(401, json={"errors": [{"code": "NOT_AUTHENTICATED", "message": "no"}]}),
        httpx.Response(200, text="<html>proxy error</html>"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
    ],
    ids=["500", "401", "garbled", "timeout", "unreachable"],
)
def test_failures_give_no_candidates_and_are_not_cached(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path, failure: Any
) -> None:
    route = dtr.get("/api/v0/repositories")
    route.side_effect = [failure, listing(*ALL_REPOSITORIES)]
    context: Any = CompletingContext(url=DTR_URL, username="admin")
    assert complete_repository(context, "eng") == []
    assert complete_repository(context, "eng") == ["engineering/api", "engineering/web"]


def test_a_lookup_is_abandoned_at_the_deadline(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(completion_cache, "LOOKUP_SECONDS", 0.05)
    release = threading.Event()

    def answer_when_released(request: httpx.Request) -> httpx.Response:
        release.wait(SUBPROCESS_TIMEOUT)
        return listing(*ALL_REPOSITORIES)

    dtr.get("/api/v0/repositories").mock(side_effect=answer_when_released)
    context: Any = CompletingContext(url=DTR_URL, username="admin")
    try:
        assert complete_repository(context, "eng") == []
    finally:
        release.set()


def test_no_url_means_no_candidates_and_no_request(dtr: respx.MockRouter, cache_home: Path) -> None:
    route = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    assert complete_repository(CompletingContext(), "eng") == []  # type: ignore[arg-type]
    assert route.call_count == 0


def test_without_a_credential_the_lookup_is_anonymous(
    dtr: respx.MockRouter, cache_home: Path
) -> None:
    route = dtr.get("/api/v0/repositories").mock(return_value=listing("library/nginx"))
    context: Any = CompletingContext(url=DTR_URL)
    assert complete_repository(context, "") == ["library/nginx"]
    assert "Authorization" not in route.calls.last.request.headers


def test_tags_digests_and_malformed_names_ask_nothing(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path
) -> None:
    route = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    context: Any = CompletingContext(url=DTR_URL, username="admin")
    for incomplete in ("engineering/api:1", "engineering/api@sha256", "Eng", "a/b/c"):
        assert complete_repository(context, incomplete) == []
    assert route.call_count == 0


def test_a_reference_with_a_host_completes_from_that_registry(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path
) -> None:
    dtr.get("/api/v0/repositories/engineering").mock(
        return_value=listing("engineering/api", "engineering/web")
    )
    unconfigured: Any = CompletingContext(username="admin")
    assert complete_reference(unconfigured, "dtr.test/engineering/a") == [
        "dtr.test/engineering/api"
    ]
    configured: Any = CompletingContext(url=DTR_URL, username="admin")
    assert complete_reference(configured, "engineering/w") == ["engineering/web"]


def test_a_reference_to_another_registry_than_the_configured_one_asks_nothing(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path
) -> None:
    route = dtr.get("/api/v0/repositories/engineering").mock(return_value=listing())
    context: Any = CompletingContext(url=DTR_URL, username="admin")
    assert complete_reference(context, "other.example.com/engineering/a") == []
    assert route.call_count == 0


def test_bash_completes_visibility_values_not_file_names(completion_env: dict[str, str]) -> None:
    words = ["dtrctl", "repo", "create", "ci/app", "--visibility", ""]
    assert bash_complete(words, completion_env) == ["private", "public"]
    assert bash_complete([*words[:-1], "pu"], completion_env) == ["public"]


def test_a_reference_with_the_profiles_host_completes_from_the_profiles_url(
    cache_home: Path, isolated_environment: Path
) -> None:
    # The profile's DTR listens on http and a port: https://HOST:PORT would be the wrong guess.
    config = isolated_environment / ".config" / "dtrctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.default]\nurl = "http://127.0.0.1:8080"\n')
    with respx.mock(base_url="http://127.0.0.1:8080") as profile_dtr:
        profile_dtr.get("/api/v0/repositories/engineering").mock(
            return_value=listing("engineering/api")
        )
        context: Any = CompletingContext()
        assert complete_reference(context, "127.0.0.1:8080/engineering/a") == [
            "127.0.0.1:8080/engineering/api"
        ]


def test_repo_create_refreshes_the_cached_names(
    dtr: respx.MockRouter, dtr_env: None, cache_home: Path, cli: Any
) -> None:
    listed = dtr.get("/api/v0/repositories").mock(return_value=listing(*ALL_REPOSITORIES))
    settings = ConnectionSettings(url=DTR_URL, username="admin")
    assert "engineering/new" not in repository_names(settings)
    dtr.post("/api/v0/repositories/engineering").respond(
        201, json=repository_body("engineering", "new")
    )
    assert cli("repo", "create", "engineering/new").exit_code == 0
    listed.mock(return_value=listing(*ALL_REPOSITORIES, "engineering/new"))
    assert "engineering/new" in repository_names(settings)
    assert listed.call_count == 2
