"""`dtrctl repo unlock` through the installed CLI against both sandbox flavors: the command sees
the repository mutable and it is immutable again after, whatever the command did; a window whose
dtrctl is killed is recovered; other commands warn while a window is open."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, Run, dtrctl_binary
from tests.integration.test_harbor_sandbox import add_rule

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
WINDOW_WARNING = "a `dtrctl repo unlock` window is open on this registry"
# The marker script: says it runs (the file), then waits to be killed.
MARKER_SCRIPT = (
    "import pathlib, sys, time\npathlib.Path(sys.argv[1]).write_text('up')\ntime.sleep(600)\n"
)


@dataclass(frozen=True)
class Registry:
    server: SandboxServer
    repository: str  # immutable in the seed

    def env(self) -> dict[str, str]:
        return {
            "DTRCTL_URL": self.server.url,
            "DTRCTL_USERNAME": ADMIN[0],
            "DTRCTL_PASSWORD": ADMIN[1],
        }


@pytest.fixture(params=["dtr", "harbor"])
def registry(request: pytest.FixtureRequest) -> Iterator[Registry]:
    with SandboxServer(flavor=request.param, seed="demo") as server:
        # The seed's immutable repository without a tag limit (DTR) / with its own rule (Harbor).
        yield Registry(server, "engineering/web" if request.param == "dtr" else "engineering/api")


def dtrctl(registry: Registry, *args: str) -> Run:
    """The installed dtrctl, stdin not a terminal (as in CI)."""
    completed = subprocess.run(
        [dtrctl_binary(), *args],
        env={**os.environ, **registry.env()},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def shown(registry: Registry, name: str | None = None) -> dict[str, Any]:
    run = dtrctl(registry, "repo", "show", name or registry.repository, "-o", "json")
    assert run.code == 0, run.stderr
    return dict(json.loads(run.stdout)["repository"])


def journal_files() -> list[str]:
    directory = Path(os.environ["DTRCTL_CONFIG_DIR"]) / "unlock-journal"
    return sorted(os.listdir(directory)) if directory.exists() else []


def start_window(registry: Registry, marker: Path) -> subprocess.Popen[str]:
    """`repo unlock` whose command writes `marker`, then sleeps; returns once it is written."""
    process = subprocess.Popen(
        [
            *(dtrctl_binary(), "repo", "unlock", registry.repository),
            *("--reason", "INC-7 fix a bad tag", "--", sys.executable, "-c", MARKER_SCRIPT),
            str(marker),
        ],
        env={**os.environ, **registry.env()},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
    )
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.05)
    return process


class TestWindow:
    def test_the_command_sees_it_mutable_and_it_is_immutable_after(
        self, registry: Registry
    ) -> None:
        assert shown(registry)["immutable"] is True
        show_inside = [dtrctl_binary(), "repo", "show", registry.repository, "-o", "json"]
        run = dtrctl(
            registry, "repo", "unlock", registry.repository, "--reason", "r", "--", *show_inside
        )
        assert run.code == 0, run.stderr
        # stdout is the command's own: dtrctl's messages go to stderr.
        assert json.loads(run.stdout)["repository"]["immutable"] is False
        assert WINDOW_WARNING in run.stderr  # the inner dtrctl warned
        assert f"Immutability of {registry.repository} restored" in run.stderr
        assert shown(registry)["immutable"] is True
        assert journal_files() == []

    def test_a_failing_command_s_exit_code_is_returned_and_immutability_restored(
        self, registry: Registry
    ) -> None:
        failing = [sys.executable, "-c", "import sys; sys.exit(7)"]
        run = dtrctl(
            registry,
            "repo",
            "unlock",
            registry.repository,
            "--reason",
            "r",
            "-o",
            "json",
            "--",
            *failing,
        )
        assert run.code == 7, run.stderr
        document = json.loads(run.stdout)
        assert document["schema"] == "dtrctl/v1"
        assert document["repository"] == registry.repository
        assert document["reason"] == "r"
        assert document["restored"] is True
        assert document["command_exit"] == 7
        assert [change["kind"] for change in document["changed"]] == [
            "repository_flag" if registry.server.flavor == "dtr" else "rule"
        ]
        assert shown(registry)["immutable"] is True

    def test_a_killed_window_warns_others_and_is_recovered(
        self, registry: Registry, tmp_path: Path
    ) -> None:
        process = start_window(registry, tmp_path / "marker")
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=SUBPROCESS_TIMEOUT) == -signal.SIGKILL
        os.killpg(process.pid, signal.SIGKILL)  # the orphaned command, which holds the pipes
        process.communicate(timeout=SUBPROCESS_TIMEOUT)
        assert shown(registry)["immutable"] is False  # dtrctl died mid-window
        [name] = journal_files()
        written = (Path(os.environ["DTRCTL_CONFIG_DIR"]) / "unlock-journal" / name).read_text()
        assert ADMIN[1] not in written and "INC-7 fix a bad tag" in written

        listing = dtrctl(registry, "repo", "list")
        assert listing.code == 0, listing.stderr
        assert WINDOW_WARNING in listing.stderr
        assert f"{registry.repository} (reason: INC-7 fix a bad tag" in listing.stderr
        assert "dtrctl repo unlock --recover" in listing.stderr

        recovered = dtrctl(registry, "repo", "unlock", "--recover", "-o", "json")
        assert recovered.code == 0, recovered.stderr
        [window] = json.loads(recovered.stdout)["recovered"]
        assert (window["repository"], window["restored"]) == (registry.repository, True)
        assert shown(registry)["immutable"] is True
        assert journal_files() == []
        assert WINDOW_WARNING not in dtrctl(registry, "repo", "list").stderr

    def test_recover_leaves_a_running_window_alone(
        self, registry: Registry, tmp_path: Path
    ) -> None:
        process = start_window(registry, tmp_path / "marker")
        try:
            recovered = dtrctl(registry, "repo", "unlock", "--recover", "-o", "json")
            assert recovered.code == 0, recovered.stderr
            document = json.loads(recovered.stdout)
            assert document["recovered"] == []
            assert [item["repository"] for item in document["running"]] == [registry.repository]
            assert shown(registry)["immutable"] is False
        finally:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the window's terminal
            process.communicate(timeout=SUBPROCESS_TIMEOUT)
        assert process.returncode == 130
        assert shown(registry)["immutable"] is True
        assert journal_files() == []

    def test_sigterm_is_passed_on_and_immutability_restored(
        self, registry: Registry, tmp_path: Path
    ) -> None:
        process = start_window(registry, tmp_path / "marker")
        os.kill(process.pid, signal.SIGTERM)  # dtrctl only, as a CI runner cancelling a job
        _, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT)
        assert process.returncode == 128 + signal.SIGTERM, stderr
        assert shown(registry)["immutable"] is True
        assert journal_files() == []

    def test_a_failed_restore_keeps_the_journal_and_says_to_recover(
        self, registry: Registry, tmp_path: Path
    ) -> None:
        process = start_window(registry, tmp_path / "marker")
        # The registry refuses the write that would restore (DTR's PATCH, Harbor's rule PUT).
        method = "PATCH" if registry.server.flavor == "dtr" else "PUT"
        registry.server.state.inject_fault("status", "/api/", count=50, method=method, status=403)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT)
        assert process.returncode == 3, stderr  # the error's own code (permission)
        assert "NOT fully restored" in stderr
        assert "run `dtrctl repo unlock --recover`" in stderr
        assert len(journal_files()) == 1
        assert shown(registry)["immutable"] is False

        registry.server.state.clear_faults()
        recovered = dtrctl(registry, "repo", "unlock", "--recover")
        assert recovered.code == 0, recovered.stderr
        assert f"restored {registry.repository} on {registry.server.url}" in recovered.stdout
        assert shown(registry)["immutable"] is True
        assert journal_files() == []

    def test_bad_input_changes_nothing(self, registry: Registry) -> None:
        without_reason = dtrctl(registry, "repo", "unlock", registry.repository, "--", "true")
        assert without_reason.code == 2
        assert "--reason" in without_reason.stderr
        missing = dtrctl(
            registry, "repo", "unlock", registry.repository, "--reason", "r", "--", "no-such-cmd-x"
        )
        assert missing.code == 2
        assert "command not found: no-such-cmd-x" in missing.stderr
        assert shown(registry)["immutable"] is True
        assert journal_files() == []


@pytest.fixture
def harbor() -> Iterator[Registry]:
    with SandboxServer(flavor="harbor", seed="demo") as server:
        yield Registry(server, "engineering/api")


class TestHarborSharedRule:
    def test_a_rule_covering_other_repositories_needs_yes(self, harbor: Registry) -> None:
        add_rule(harbor.server, "engineering", "{api,web}", "**")
        refused = dtrctl(harbor, "repo", "unlock", "engineering/api", "--reason", "r", "--", "true")
        assert refused.code == 2, refused.stderr
        assert "also cover engineering/web" in refused.stderr
        assert "--yes" in refused.stderr
        assert shown(harbor)["immutability"] == "all"
        assert journal_files() == []

        command = [dtrctl_binary(), "repo", "show", "engineering/web", "-o", "json"]
        run = dtrctl(
            harbor, "repo", "unlock", "engineering/api", "--reason", "r", "--yes", "--", *command
        )
        assert run.code == 0, run.stderr
        assert json.loads(run.stdout)["repository"]["immutability"] == "none"  # web too
        assert shown(harbor)["immutability"] == "all"
        assert shown(harbor, "engineering/web")["immutability"] == "all"

    def test_json_names_the_rules_and_what_else_they_cover(self, harbor: Registry) -> None:
        add_rule(harbor.server, "engineering", "{api,web}", "**")
        run = dtrctl(
            harbor,
            "repo",
            "unlock",
            "engineering/api",
            "--reason",
            "r",
            "--yes",
            "-o",
            "json",
            "--",
            "true",
        )
        assert run.code == 0, run.stderr
        changed = json.loads(run.stdout)["changed"]
        assert [(c["rule_id"] is not None, c["also_covers"]) for c in changed] == [
            (True, []),
            (True, ["engineering/web"]),
        ]

    def test_a_rule_for_some_tags_of_a_nested_repository_is_lifted_too(
        self, harbor: Registry
    ) -> None:
        # The seed's rule `team/**` with tags `v*`: engineering/team/app is immutable for v* only.
        inside = [dtrctl_binary(), "--backend", "harbor", "repo", "show", "engineering/team/app"]
        run = dtrctl(
            harbor,
            *("--backend", "harbor", "repo", "unlock", "engineering/team/app", "--reason", "r"),
            *("--", *inside, "-o", "json"),
        )
        assert run.code == 0, run.stderr
        assert json.loads(run.stdout)["repository"]["immutability"] == "none"
        after = dtrctl(
            harbor, "--backend", "harbor", "repo", "show", "engineering/team/app", "-o", "json"
        )
        assert json.loads(after.stdout)["repository"]["immutability"] == "some"
