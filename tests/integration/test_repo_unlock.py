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

import httpx
import pytest

from dtrctl.sandbox.harbor.seed import canonical_rule
from dtrctl.sandbox.images import build_image, write_oci_layout
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, Run, Skopeo, dtrctl_binary
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
        add_rule(harbor.server, "engineering", "*", "**")  # not a list: disabled
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
        add_rule(harbor.server, "engineering", "*", "**")  # not a list: disabled
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


# The window's command: a re-push of the existing tags api:1.0.0 and web:v1 (skopeo), each
# exit code and stderr written to a JSON file, as an admin fixing one tag would push.
PUSHES_SCRIPT = """
import json, os, subprocess, sys
skopeo, layout, host, home, out = sys.argv[1:6]
results = {}
for target in ("engineering/api:1.0.0", "engineering/web:v1"):
    done = subprocess.run(
        [skopeo, "--insecure-policy", "copy", "--all", "--quiet", "--dest-tls-verify=false",
         "--dest-creds", "robot$engineering+ci:sandbox-robot-ci-secret",
         f"oci:{layout}:fix", f"docker://{host}/{target}"],
        env={**os.environ, "HOME": home}, capture_output=True, text=True, timeout=120,
    )
    results[target] = [done.returncode, done.stderr]
with open(out, "w") as stream:
    json.dump(results, stream)
"""


def packed_patterns(harbor: Registry) -> dict[int, str]:
    with httpx.Client(base_url=harbor.server.url, auth=ADMIN) as client:
        answer = client.get(
            "/api/v2.0/projects/engineering/immutabletagrules",
            headers={"X-Is-Resource-Name": "true"},
        )
    assert answer.status_code == 200, answer.text
    return {
        rule["id"]: rule["scope_selectors"]["repository"][0]["pattern"]
        for rule in answer.json()
        if rule["tag_selectors"][0]["pattern"] == "**"
    }


@pytest.fixture
def packed(harbor: Registry) -> int:
    """`api` and `web` in one packed rule (dtrctl merges `api`'s canonical rule): its id."""
    made = dtrctl(harbor, "repo", "set-immutable", "engineering/web")
    assert made.code == 0, made.stderr
    ((rule_id, pattern),) = packed_patterns(harbor).items()
    assert pattern == "{api,web}"
    return rule_id


def dead_window(harbor: Registry, marker: Path) -> None:
    """A window whose dtrctl is killed once its command runs (the command killed too)."""
    process = start_window(harbor, marker)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=SUBPROCESS_TIMEOUT)
    os.killpg(process.pid, signal.SIGKILL)  # the orphaned command, which holds the pipes
    process.communicate(timeout=SUBPROCESS_TIMEOUT)


class TestHarborPackedRule:
    @pytest.mark.skopeo
    def test_only_the_repository_is_opened_and_the_rule_comes_back_whole(
        self, harbor: Registry, packed: int, skopeo: Skopeo, tmp_path: Path
    ) -> None:
        write_oci_layout(tmp_path / "layout", build_image("unlock-fix"), "fix")
        out = tmp_path / "pushes.json"
        pushes = [sys.executable, "-c", PUSHES_SCRIPT, skopeo.path, str(tmp_path / "layout")]
        pushes += [harbor.server.host_port, str(skopeo.home), str(out)]
        # Off a terminal and without --yes: nothing but engineering/api is opened.
        unlock = ("repo", "unlock", "engineering/api", "--reason", "r", "-o", "json")
        run = dtrctl(harbor, *unlock, "--", *pushes)
        assert run.code == 0, run.stderr
        assert f"narrowed rule {packed} of project engineering: {{api,web}} without api" in (
            run.stderr
        )
        inside = json.loads(out.read_text())
        assert inside["engineering/api:1.0.0"][0] == 0, inside
        assert inside["engineering/web:v1"][0] != 0
        assert "configured as immutable" in inside["engineering/web:v1"][1]
        [changed] = json.loads(run.stdout)["changed"]
        assert (changed["action"], changed["rule_id"], changed["also_covers"]) == (
            "narrow",
            packed,
            [],
        )

        assert packed_patterns(harbor) == {packed: "{api,web}"}  # same id, same place
        layout = tmp_path / "layout"
        for target in ("engineering/api:1.0.0", "engineering/web:v1"):
            after = skopeo.copy(
                layout,
                "fix",
                f"{harbor.server.host_port}/{target}",
                creds="robot$engineering+ci:sandbox-robot-ci-secret",
                check=False,
            )
            assert "configured as immutable" in after.stderr, target
        assert journal_files() == []

    def test_a_killed_narrowing_window_is_recovered(
        self, harbor: Registry, packed: int, tmp_path: Path
    ) -> None:
        dead_window(harbor, tmp_path / "marker")
        assert packed_patterns(harbor) == {packed: "{web}"}  # same id, for the window
        assert shown(harbor)["immutability"] == "none"
        assert shown(harbor, "engineering/web")["immutability"] == "all"

        recovered = dtrctl(harbor, "repo", "unlock", "--recover", "-o", "json")
        assert recovered.code == 0, recovered.stderr
        [window] = json.loads(recovered.stdout)["recovered"]
        assert window["restored"] is True
        assert [change["action"] for change in window["changed"]] == ["narrow"]
        assert packed_patterns(harbor) == {packed: "{api,web}"}
        assert shown(harbor)["immutability"] == "all"
        assert journal_files() == []

    def test_a_rule_edited_during_the_window_is_left_and_the_journal_kept(
        self, harbor: Registry, packed: int, tmp_path: Path
    ) -> None:
        dead_window(harbor, tmp_path / "marker")
        # An admin rewrites the narrowed rule meanwhile.
        edited = {**canonical_rule("{db,web}"), "id": packed}
        with httpx.Client(base_url=harbor.server.url, auth=ADMIN) as client:
            answer = client.put(
                f"/api/v2.0/projects/engineering/immutabletagrules/{packed}",
                json=edited,
                headers={"X-Is-Resource-Name": "true"},
            )
        assert answer.status_code == 200, answer.text

        recovered = dtrctl(harbor, "repo", "unlock", "--recover")
        assert recovered.code == 1, recovered.stderr
        assert "was changed by someone else" in recovered.stderr
        assert "'{db,web}'" in recovered.stderr
        assert packed_patterns(harbor) == {packed: "{db,web}"}  # not clobbered
        assert len(journal_files()) == 1

    def test_a_narrowing_that_would_copy_another_rule_disables_instead(
        self, harbor: Registry
    ) -> None:
        add_rule(harbor.server, "engineering", "{api,web}", "**")
        add_rule(harbor.server, "engineering", "{web}", "**")  # what narrowing would write
        refused = dtrctl(harbor, "repo", "unlock", "engineering/api", "--reason", "r", "--", "true")
        assert refused.code == 2, refused.stderr  # disabling opens web: --yes needed
        assert "also cover engineering/web" in refused.stderr
        unlock = ("repo", "unlock", "engineering/api", "--reason", "r", "--yes", "-o", "json")
        run = dtrctl(harbor, *unlock, "--", "true")
        assert run.code == 0, run.stderr
        assert {c["action"] for c in json.loads(run.stdout)["changed"]} == {"disable"}
        assert shown(harbor)["immutability"] == "all"
