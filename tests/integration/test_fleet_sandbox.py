"""Fleet operations of the installed `dtrctl` against the sandbox DTR with 2,500 repositories."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from dtrctl.backends.dtr.api import DtrClient
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, Run, dtrctl_binary, run_dtrctl

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
ALICE = ("alice", "sandbox-alice-password")
NAMESPACES = ("engineering", "ci", "library", "platform", "data")
COUNT = 2500
IMMUTABLE_EVERY = 4
PROGRESS_RE = re.compile(r"progress: \d+/\d+ repositories, (\d+) changed")


def seeded_name(index: int) -> str:
    """The name `seed_repositories` gives its index-th repository (round-robin namespaces)."""
    return f"{NAMESPACES[index % len(NAMESPACES)]}/repo-{index:06d}"


ALL_NAMES = [seeded_name(index) for index in range(COUNT)]


@pytest.fixture
def fleet() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    server.state.seed_repositories(COUNT, namespaces=NAMESPACES, immutable_every=IMMUTABLE_EVERY)
    yield server
    server.stop()


def environment(server: SandboxServer, user: tuple[str, str] = ADMIN) -> dict[str, str]:
    return {"DTRCTL_URL": server.url, "DTRCTL_USERNAME": user[0], "DTRCTL_PASSWORD": user[1]}


def dtrctl(server: SandboxServer, *args: str, user: tuple[str, str] = ADMIN) -> Run:
    return run_dtrctl(*args, env=environment(server, user))


def immutability(server: SandboxServer) -> dict[str, bool]:
    found = {}
    for full_name in ALL_NAMES:
        repository = server.state.get_repository(*full_name.split("/"))
        assert repository is not None
        found[full_name] = repository.immutable
    return found


def changed_between(before: dict[str, bool], after: dict[str, bool]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def requests(server: SandboxServer, method: str) -> list[str]:
    return [r.path for r in server.state.requests if r.method == method]


def test_list_returns_every_repository_across_all_pages(fleet):
    result = dtrctl(fleet, "repo", "list", "-o", "json")
    assert result.code == 0, result.stderr
    listed = [r["repository"] for r in json.loads(result.stdout)["repositories"]]
    assert sorted(listed) == sorted(ALL_NAMES)
    page_sizes = [r.query.get("pageSize") for r in fleet.state.requests]
    # Pages of 100; the last page is full, and ends the listing as it reaches the total the
    # first page asked for (count=true): no request to confirm it.
    assert page_sizes == ["100"] * (COUNT // 100)
    assert [r.query.get("count") for r in fleet.state.requests][:2] == ["true", None]
    text = dtrctl(fleet, "repo", "list", "--mutable")
    assert "1875 repositories, 1875 mutable" in text.stderr


def test_the_client_follows_pages_of_dtrs_default_size(fleet):
    with httpx.Client() as http:
        client = DtrClient(http, fleet.url, ADMIN, page_size=10)
        listed = [repository.full_name for repository in client.list_repositories()]
    assert sorted(listed) == sorted(ALL_NAMES)
    # The last page is full and reaches the counted total: no request confirms it.
    assert len(requests(fleet, "GET")) == COUNT // 10


def test_patterns_and_exclusions_change_exactly_the_selection(fleet):
    before = immutability(fleet)
    result = dtrctl(
        fleet,
        *("repo", "set-immutable", "ci/repo-0001*", "platform/repo-0002*"),
        *("--exclude", "*/repo-00015*", "-o", "json"),
    )
    assert result.code == 0, result.stderr
    selected = {
        seeded_name(i)
        for i in [*range(100, 200), *range(200, 300)]
        if seeded_name(i).startswith(("ci/repo-0001", "platform/repo-0002")) and not 150 <= i < 160
    }
    assert len(selected) == 38
    assert {r["repository"] for r in json.loads(result.stdout)["results"]} == selected
    assert changed_between(before, immutability(fleet)) == {n for n in selected if not before[n]}
    # Patterns with literal namespaces list only those namespaces.
    listings = {path for path in requests(fleet, "GET") if path.count("/") == 4}
    assert listings == {"/api/v0/repositories/ci", "/api/v0/repositories/platform"}


def test_dry_run_over_every_repository_touches_nothing(fleet):
    before = immutability(fleet)
    result = dtrctl(fleet, "repo", "set-immutable", "*/*", "--dry-run", "-o", "json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["dry_run"] is True
    assert document["summary"]["changed"] == COUNT - COUNT // IMMUTABLE_EVERY
    assert requests(fleet, "PATCH") == []
    assert immutability(fleet) == before


def test_turning_a_namespace_off_needs_yes_off_a_terminal(fleet):
    result = dtrctl(fleet, "repo", "set-immutable", "--namespace", "ci", "--off")
    assert result.code == 2
    assert "--yes" in result.stderr
    assert requests(fleet, "PATCH") == []


def test_a_read_write_user_changes_what_she_may_and_reports_the_rest(fleet):
    fleet.state.grant("alice", "ci", "admin")
    before = immutability(fleet)
    result = dtrctl(
        fleet,
        *("repo", "set-immutable", "engineering/repo-0001*", "ci/repo-0001*", "-o", "json"),
        user=ALICE,
    )
    assert result.code == 1, result.stderr
    results = {r["repository"]: r for r in json.loads(result.stdout)["results"]}
    failed = {name for name, r in results.items() if r["error"]}
    assert failed == {n for n in results if n.startswith("engineering/") and not before[n]}
    assert {results[name]["error"]["code"] for name in failed} == {"permission"}
    assert changed_between(before, immutability(fleet)) == {
        n for n in results if n.startswith("ci/") and not before[n]
    }
    # Only refusals alike: their exit code.
    refused = dtrctl(
        fleet,
        *("repo", "set-immutable", "engineering/repo-000005", "engineering/repo-000010"),
        user=ALICE,
    )
    assert refused.code == 3
    assert refused.stderr.count("may not change the settings") == 2


def test_an_interrupt_stops_cleanly_and_reports_exactly_what_changed(tmp_path: Path):
    # Latency makes the run take seconds, so the interrupt lands mid-run.
    server = SandboxServer(latency_ms=20).start()
    try:
        server.state.seed_repositories(400, namespaces=["ci"])
        process = subprocess.Popen(
            [dtrctl_binary(), "repo", "set-immutable", "ci/*", "--concurrency", "2", "-o", "json"],
            env={**os.environ, **environment(server)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            progress = PROGRESS_RE.match(line)
            if progress and int(progress.group(1)) > 0:
                process.send_signal(signal.SIGINT)
                break
        stdout, _ = process.communicate(timeout=SUBPROCESS_TIMEOUT)
        assert process.returncode == 130, seen
        document = json.loads(stdout)
        assert document["interrupted"] is True
        changed = {r["repository"] for r in document["results"] if r["changed"]}
        now_immutable = {
            f"ci/{repository.name}"
            for index in range(400)
            if (repository := server.state.get_repository("ci", f"repo-{index:06d}")) is not None
            and repository.immutable
        }
        assert changed == now_immutable
        assert 0 < len(changed) < 400
        assert document["summary"]["not_started"] == 400 - len(document["results"])
        # Every PATCH that reached the server was complete and is in the summary.
        assert len(requests(server, "PATCH")) == server.state.patch_count == len(changed)
    finally:
        server.stop()


POLICY = """\
[defaults]
immutable = true

[[repository]]
name = "engineering/payments"
description = "Payment service images"

[[repository]]
name = "ci/repo-000001"
visibility = "public"

[[repository]]
name = "engineering/repo-000000"

[[repository]]
name = "data/repo-000004"
immutable = false
"""


def test_apply_creates_and_updates_then_changes_nothing_the_second_time(fleet, tmp_path):
    policy = tmp_path / "repositories.toml"
    policy.write_text(POLICY)
    first = dtrctl(fleet, "apply", "-f", str(policy), "--yes")
    assert first.code == 0, first.stderr
    assert "Plan: 1 to create, 2 to update, 1 unchanged." in first.stdout
    created = fleet.state.get_repository("engineering", "payments")
    assert created is not None and created.immutable
    assert created.short_description == "Payment service images"
    updated = fleet.state.get_repository("ci", "repo-000001")
    assert updated is not None and updated.immutable and updated.visibility == "public"
    relaxed = fleet.state.get_repository("data", "repo-000004")
    assert relaxed is not None and not relaxed.immutable
    fleet.state.clear_requests()
    second = dtrctl(fleet, "apply", "-f", str(policy), "-o", "json")
    assert second.code == 0, second.stderr
    assert {change["action"] for change in json.loads(second.stdout)["plan"]} == {"unchanged"}
    assert requests(fleet, "POST") == [] and requests(fleet, "PATCH") == []


def test_audit_reports_drift_in_junit_and_fix_removes_it(fleet, tmp_path):
    report = tmp_path / "audit.xml"
    rule = ("--require-immutable", "data/repo-0000*")
    audit = dtrctl(fleet, "repo", "audit", *rule, "--junit", str(report))
    assert audit.code == 1
    cases = ElementTree.parse(report).getroot().findall("testsuite/testcase")
    assert len(cases) == 20
    drifted = {case.get("name") for case in cases if case.find("failure") is not None}
    assert drifted == {
        seeded_name(i) for i in range(100) if i % 5 == 4 and i % IMMUTABLE_EVERY != 0
    }
    fixed = dtrctl(fleet, "repo", "audit", *rule, "--fix")
    assert fixed.code == 0, fixed.stderr
    assert dtrctl(fleet, "repo", "audit", *rule).code == 0
