"""The installed `dtrctl`'s human output: plain without Rich through a pipe, Rich on a terminal.

Which modules a run imported comes from Python's import profile (PYTHONPROFILEIMPORTTIME=1,
written to stderr); the terminal is a real pseudo-terminal.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, dtrctl_binary, run_dtrctl

pytestmark = pytest.mark.integration

pty = pytest.importorskip("pty")

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(text: str) -> set[int]:
    """SGR parameters that set a foreground or background colour (30-49, 90-107)."""
    codes = {int(code) for match in SGR.finditer(text) for code in match[1].split(";") if code}
    return {code for code in codes if 30 <= code <= 49 or 90 <= code <= 107}


def sandbox_env(sandbox: SandboxServer) -> dict[str, str]:
    return {
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": "admin",
        "DTRCTL_PASSWORD": "sandbox-admin-password",
    }


def imported_modules(stderr: str) -> set[str]:
    """Top-level module names from the import profile on stderr."""
    return {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "args",
    [
        ("push-check", "engineering/api:2.0", "library/nginx:latest"),
        ("repo", "show", "engineering/api"),
        ("repo", "list"),
    ],
    ids=["push-check", "repo-show", "repo-list"],
)
def test_text_output_through_a_pipe_does_not_import_rich(
    sandbox: SandboxServer, args: tuple[str, ...]
) -> None:
    env = {**sandbox_env(sandbox), "PYTHONPROFILEIMPORTTIME": "1"}
    run = run_dtrctl(*args, env=env)
    assert run.code == 0, run.stderr
    modules = imported_modules(run.stderr)
    # The profile is read right: the HTTP client the command used is in it.
    assert "httpx" in modules
    assert "rich" not in modules
    assert run.stdout and "\x1b" not in run.stdout


def test_repo_list_through_a_pipe_is_columns_without_trailing_blanks(
    sandbox: SandboxServer,
) -> None:
    run = run_dtrctl("repo", "list", env=sandbox_env(sandbox))
    assert run.code == 0, run.stderr
    header, *rows = run.stdout.splitlines()
    assert re.split(" {2,}", header) == ["REPOSITORY", "IMMUTABLE", "VISIBILITY", "TAG LIMIT"]
    assert any(row.startswith("engineering/api  ") for row in rows)
    # Each column starts where its heading does, two blanks after the widest cell before it.
    immutable_at = header.index("IMMUTABLE")
    for row in [header, *rows]:
        assert row == row.rstrip()
        assert row[immutable_at - 2 : immutable_at] == "  "
        assert row[immutable_at:].split()[0] in ("IMMUTABLE", "yes", "no")
    assert any(row[immutable_at - 3] != " " for row in rows)


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the installed dtrctl with stdout on a pseudo-terminal; what it printed there."""
    controller, terminal = pty.openpty()
    full_env = {**os.environ, **env, "TERM": "xterm-256color", "COLUMNS": "200"}
    with subprocess.Popen(
        [dtrctl_binary(), *args],
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
    ) as process:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO on Linux once the child has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=SUBPROCESS_TIMEOUT)
    os.close(controller)
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_on_a_terminal_rich_colours_the_output_and_no_color_turns_colour_off(
    sandbox: SandboxServer,
) -> None:
    env = sandbox_env(sandbox)
    coloured = run_on_a_terminal(["repo", "show", "engineering/web"], env)
    assert "Immutable tags: \x1b[1;32mon\x1b[0m" in coloured
    plain = run_on_a_terminal(["repo", "show", "engineering/web"], {**env, "NO_COLOR": "1"})
    assert "Immutable tags: \x1b[1mon\x1b[0m" in plain
    assert colour_codes(coloured) and not colour_codes(plain)
