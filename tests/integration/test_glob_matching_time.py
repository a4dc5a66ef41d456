"""User globs are matched without backtracking: a `--map` glob with many wildcards against a
long repository name ends at once through the installed dtrctl (a regex took minutes)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import run_dtrctl
from tests.integration.test_harbor_sandbox import ADMIN, ROBOT, login

pytestmark = pytest.mark.integration

# A 60-character name the glob's 9 wildcards never match: the regex dtrctl compiled these
# globs to took several minutes on it.
LONG_NAME = "engineering/" + "a" * 60
GLOB = "engineering/a*a*a*a*a*a*a*a*a*b"


@pytest.fixture
def profiles() -> Iterator[dict[str, str]]:
    with (
        SandboxServer(seed="demo") as dtr,
        SandboxServer(flavor="harbor", seed="demo") as harbor,
    ):
        env = dict(os.environ)
        login(env, dtr.url, ADMIN, "dtr")
        login(env, harbor.url, ROBOT, "msr4")
        created = run_dtrctl("--profile", "dtr", "repo", "create", LONG_NAME, "--immutable", env={})
        assert created.code == 0, created.stderr
        yield env


@pytest.mark.usefixtures("profiles")
def test_a_map_glob_with_many_wildcards_on_a_long_name_ends_at_once() -> None:
    run = run_dtrctl(
        *("migrate", "immutability", "--from", "dtr", "--to", "msr4"),
        *("--map", f"{GLOB}=library/x-{{1}}", "--map", "engineering/a*=library/{1}"),
        *("--dry-run", "-o", "json"),
        env={},
    )
    assert "Traceback" not in run.stderr
    plan = {item["source"]: item for item in json.loads(run.stdout)["plan"]}
    # The first map never matches; the second does, its wildcard the rest of the name.
    assert plan[LONG_NAME]["destination"] == "library/" + "a" * 59
