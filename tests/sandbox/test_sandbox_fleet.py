"""`dtrctl sandbox --seed-repos 'ci/svc-{1..500}'` and `--seed-file`: fleets for rehearsals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dtrctl.sandbox.fleet import (
    SeedEntry,
    SeedError,
    expand_braces,
    expand_patterns,
    parse_seed_file,
    seed_fleet,
)
from dtrctl.sandbox.harbor.state import HarborState
from dtrctl.sandbox.state import SandboxState

DTRCTL = [sys.executable, "-m", "dtrctl"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("ci/svc-{1..3}", ["ci/svc-1", "ci/svc-2", "ci/svc-3"]),
        ("ci/svc-{08..10}", ["ci/svc-08", "ci/svc-09", "ci/svc-10"]),
        ("ci/svc-{3..1}", ["ci/svc-3", "ci/svc-2", "ci/svc-1"]),
        ("{web,api}/app-{1..2}", ["web/app-1", "web/app-2", "api/app-1", "api/app-2"]),
        ("ci/plain", ["ci/plain"]),
    ],
)
def test_braces_expand_as_bash_does(pattern: str, expected: list[str]) -> None:
    assert list(expand_braces(pattern)) == expected


@pytest.mark.parametrize("pattern", ["ci/svc-{x}", "ci/Svc-{1..2}", "svc-{1..2}", "ci/{1..999999}"])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(SeedError):
        expand_patterns([pattern])


def test_seed_file_lines_comments_and_immutable() -> None:
    text = "# release fleet\nci/release-{1..2} immutable\n\nci/scratch  # mutable\n"
    assert parse_seed_file(text, "fleet.txt") == [
        SeedEntry("ci/release-1", True),
        SeedEntry("ci/release-2", True),
        SeedEntry("ci/scratch", False),
    ]
    with pytest.raises(SeedError, match=r"fleet\.txt:1"):
        parse_seed_file("ci/x frozen\n", "fleet.txt")


def test_seeding_creates_repositories_and_namespaces() -> None:
    state = SandboxState()
    assert seed_fleet(state, expand_patterns(["fleet/svc-{1..500}"])) == 500
    assert state.get_repository("fleet", "svc-250") is not None
    assert state.count_repositories("admin", "fleet") == 500
    with pytest.raises(SeedError, match="exists"):
        seed_fleet(state, [SeedEntry("fleet/svc-1")])


def test_seeding_the_harbor_flavor_creates_projects() -> None:
    state = HarborState()
    assert seed_fleet(state, expand_patterns(["fleet/svc-{1..3}"])) == 3
    assert [repo.name for repo in state.project_repositories("fleet")] == [
        "svc-1",
        "svc-2",
        "svc-3",
    ]


def test_the_sandbox_serves_the_seeded_fleet(tmp_path: Path) -> None:
    seed_file = tmp_path / "fleet.txt"
    seed_file.write_text("ci/release-{1..5} immutable\n", encoding="utf-8")
    process = subprocess.Popen(
        [*DTRCTL, "sandbox", "--seed-repos", "ci/svc-{1..500}", "--seed-file", str(seed_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        env = {
            **os.environ,
            "DTRCTL_URL": url,
            "DTRCTL_USERNAME": "admin",
            "DTRCTL_PASSWORD": "sandbox-admin-password",
        }
        listing = subprocess.run(
            [*DTRCTL, "repo", "list", "--namespace", "ci", "-o", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert listing.returncode == 0, listing.stderr
        repositories = json.loads(listing.stdout)["repositories"]
        assert len(repositories) == 505
        assert sum(repository["immutable"] for repository in repositories) == 5
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_bad_seed_pattern_exits_2_before_serving() -> None:
    result = subprocess.run(
        [*DTRCTL, "sandbox", "--seed-repos", "ci/svc-{1..x}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ci/svc-{1..x}")
