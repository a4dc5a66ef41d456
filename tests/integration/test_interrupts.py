"""Ctrl-C in any command: "Interrupted" on stderr, exit 130, never a traceback.

The installed `dtrctl` runs against a sandbox whose answer to one request is slow; once the
sandbox has that request (dtrctl is waiting for the answer), the test sends SIGINT. Interrupts
where no request can be waited for (parsing, the global options, opening the session, loading
the CLI) are raised in-process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, dtrctl_binary

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
# Longer than any test runs: the request stays in flight until dtrctl gives up on it.
HANGING_SECONDS = 60.0
# Upper bound for the sandbox to receive the request dtrctl sends.
ARRIVAL_SECONDS = 10.0


def start(server: SandboxServer, *args: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "DTRCTL_URL": server.url,
        "DTRCTL_USERNAME": ADMIN[0],
        "DTRCTL_PASSWORD": ADMIN[1],
    }
    return subprocess.Popen(
        [dtrctl_binary(), *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_request(server: SandboxServer, method: str, path: str) -> None:
    """Return once the sandbox has received `method path` (dtrctl now awaits the answer)."""
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while time.monotonic() < deadline:
        if any(r.method == method and r.path == path for r in server.state.requests):
            return
        time.sleep(0.01)  # polling interval, not a timing assumption
    raise AssertionError(f"dtrctl did not send {method} {path} within {ARRIVAL_SECONDS} s")


def interrupt(
    process: subprocess.Popen[str], then: Callable[[], object] | None = None
) -> tuple[str, str]:
    """Send Ctrl-C, then call `then` (once the signal is sent), and return the output."""
    process.send_signal(signal.SIGINT)
    if then is not None:
        then()
    try:
        return process.communicate(timeout=SUBPROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def interrupted_cleanly(process: subprocess.Popen[str]) -> tuple[str, str]:
    stdout, stderr = interrupt(process)
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr
    assert "Traceback" not in stderr
    return stdout, stderr


@pytest.mark.parametrize(
    ("args", "method", "path"),
    [
        (("repo", "show", "engineering/api"), "GET", "/api/v0/repositories/engineering/api"),
        (("repo", "list"), "GET", "/api/v0/repositories"),
        (("whoami",), "GET", "/api/v0/repositories"),
        (("repo", "create", "engineering/new"), "POST", "/api/v0/repositories/engineering"),
    ],
    ids=["repo-show", "repo-list", "whoami", "repo-create"],
)
def test_ctrl_c_while_waiting_for_dtr_exits_130(sandbox, args, method, path):
    sandbox.state.inject_fault("slow", path_prefix=path, method=method, seconds=HANGING_SECONDS)
    process = start(sandbox, *args)
    wait_for_request(sandbox, method, path)
    stdout, _ = interrupted_cleanly(process)
    assert stdout == ""


def test_ctrl_c_during_push_check_exits_130(sandbox):
    # The manifest HEAD runs on a worker thread; the check lets it end (here: time out) first.
    path = "/v2/engineering/web/manifests/v1"
    sandbox.state.inject_fault("slow", path_prefix=path, method="GET", seconds=HANGING_SECONDS)
    process = start(sandbox, "--timeout", "2", "--retries", "0", "push-check", "engineering/web:v1")
    wait_for_request(sandbox, "GET", path)
    stdout, _ = interrupted_cleanly(process)
    assert "free" not in stdout


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("repo", "list", "-o", "json"), "/api/v0/repositories"),
        (("push-check", "engineering/web:v1", "-o", "json"), "/v2/engineering/web/manifests/v1"),
    ],
    ids=["repo-list", "push-check"],
)
def test_ctrl_c_under_json_prints_the_error_document(sandbox, args, path):
    sandbox.state.inject_fault("slow", path_prefix=path, method="GET", seconds=HANGING_SECONDS)
    process = start(sandbox, "--timeout", "2", "--retries", "0", *args)
    wait_for_request(sandbox, "GET", path)
    stdout, _ = interrupted_cleanly(process)
    document = json.loads(stdout)
    assert document["schema"] == "dtrctl/v1"
    assert document["error"]["code"] == "interrupted"
    assert document["error"]["exit_code"] == 130
    assert "results" not in document


@pytest.fixture
def fleet() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    server.state.seed_repositories(30, namespaces=["ci"])
    yield server
    server.stop()


def interrupt_the_first_change(
    fleet: SandboxServer, *options: str
) -> subprocess.CompletedProcess[str]:
    """Ctrl-C while the first change awaits its answer, which the sandbox holds until the
    signal is sent (however loaded the machine, it lands while that change is in flight), then
    gives: dtrctl lets that change finish and starts nothing else."""
    answer = threading.Event()
    fleet.state.inject_fault(
        "slow", path_prefix="/api/v0/", method="PATCH", seconds=HANGING_SECONDS, until=answer
    )
    process = start(fleet, "repo", "set-immutable", "ci/*", "--concurrency", "1", *options)
    wait_for_request(fleet, "PATCH", "/api/v0/repositories/ci/repo-000000")
    stdout, stderr = interrupt(process, then=answer.set)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_ctrl_c_during_a_bulk_change_prints_the_partial_summary_first(fleet):
    # The summary names the change that finished; nothing else started.
    run = interrupt_the_first_change(fleet)
    stdout, stderr = run.stdout, run.stderr
    assert "Interrupted: 1 of 30 repositories done (1 changed" in stderr
    assert "Changed before the interrupt: ci/repo-000000" in stderr
    assert stdout.splitlines() == ["ci/repo-000000: now immutable"]
    assert fleet.state.patch_count == 1
    assert fleet.state.get_repository("ci", "repo-000000").immutable
    assert not fleet.state.get_repository("ci", "repo-000001").immutable


def test_the_json_document_of_an_interrupted_bulk_run_is_complete(fleet):
    document = json.loads(interrupt_the_first_change(fleet, "-o", "json").stdout)
    assert document["interrupted"] is True
    assert document["summary"] == {
        "selected": 30,
        "changed": 1,
        "unchanged": 0,
        "failed": 0,
        "not_started": 29,
    }


# Where no request is in flight: in-process, the interrupt raised where it would land.


def invoke(*args: str) -> Any:
    from dtrctl.cli.app import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def raise_interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


class InterruptedEnvironment(dict[str, str]):
    """os.environ whose DTRCTL_URL lookup is where Ctrl-C lands: during option parsing."""

    def get(self, key: str, default: Any = None) -> Any:
        if key == "DTRCTL_URL":
            raise KeyboardInterrupt
        return super().get(key, default)


def test_ctrl_c_while_the_options_are_parsed_exits_130(monkeypatch):
    monkeypatch.setattr(os, "environ", InterruptedEnvironment(os.environ))
    result = invoke("repo", "show", "engineering/api")
    # Before a command runs, Typer itself answers Ctrl-C: exit 130, no traceback.
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


def test_ctrl_c_while_the_global_options_are_applied_exits_130(monkeypatch):
    monkeypatch.setattr("dtrctl.cli.app.ConnectionSettings", raise_interrupt)
    result = invoke("--url", "https://dtr.test", "repo", "show", "engineering/api")
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


def test_ctrl_c_while_the_session_opens_exits_130(monkeypatch):
    monkeypatch.setattr("dtrctl.session.open_session", raise_interrupt)
    result = invoke("--url", "https://dtr.test", "repo", "show", "engineering/api")
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


def test_ctrl_c_while_the_cli_loads_exits_130():
    # In a child process: an interrupt that escaped would otherwise stop the test run itself.
    program = (
        "import sys, dtrctl.cli.loader\n"
        "def interrupted(*args):\n"
        "    raise KeyboardInterrupt\n"
        "dtrctl.cli.loader.load_command = interrupted\n"
        "sys.argv = ['dtrctl', 'repo', 'list']\n"
        "from dtrctl.main import main\n"
        "main()\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    # Commands load inside Typer's main, which answers Ctrl-C itself: 130, no traceback.
    assert loaded.returncode == 130
    assert "Traceback" not in loaded.stderr


# Against a server that never answers, whatever --timeout says: the first Ctrl-C ends the run
# within a second or two (here bounded by EXIT_SECONDS, an upper bound for a loaded machine).

EXIT_SECONDS = 15.0
LONG_TIMEOUT = "120"


class SilentServer:
    """Accepts connections and reads what they send, and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # how often the accept loop looks for `stop`
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.received = threading.Event()
        self.connections: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        try:
            while connection.recv(65536):
                self.received.set()
        except OSError:
            return

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=SUBPROCESS_TIMEOUT)
        self.listener.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.stop()


def interrupt_promptly(process: subprocess.Popen[str], signals: int = 1) -> tuple[str, str]:
    for _ in range(signals):
        process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=EXIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"dtrctl still ran {EXIT_SECONDS} s after Ctrl-C") from None
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    return stdout, stderr


@pytest.mark.parametrize("signals", [1, 2], ids=["once", "twice"])
def test_ctrl_c_ends_a_push_check_against_a_server_that_never_answers(silent, signals):
    process = start(silent, "--timeout", LONG_TIMEOUT, "push-check", "ci/app:1", "ci/web:1")
    assert silent.received.wait(ARRIVAL_SECONDS), "dtrctl sent no request"
    stdout, stderr = interrupt_promptly(process, signals)
    assert "Interrupted" in stderr
    assert "free" not in stdout


@pytest.mark.parametrize("signals", [1, 2], ids=["once", "twice"])
def test_ctrl_c_ends_a_bulk_run_whose_change_is_never_answered(fleet, signals):
    path = "/api/v0/repositories/ci/repo-000000"
    fleet.state.inject_fault("slow", path_prefix=path, method="PATCH", seconds=HANGING_SECONDS)
    process = start(
        fleet, "--timeout", LONG_TIMEOUT, "repo", "set-immutable", "ci/*", "--concurrency", "1"
    )
    wait_for_request(fleet, "PATCH", path)
    _, stderr = interrupt_promptly(process, signals)
    if signals == 1:
        # The partial summary first: the change in flight is neither done nor "not started".
        assert "Interrupted: 1 of 30 repositories done (0 changed" in stderr
        assert "ci/repo-000000 awaited its answer: it may or may not be made" in stderr
        assert "29 not started" in stderr
    assert fleet.state.patch_count <= 1
