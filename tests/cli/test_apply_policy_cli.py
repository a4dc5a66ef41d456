"""`dtrctl apply`: tag_limit, scan_on_push, long_description, match entries, the unmanaged
report, and --yes off a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import respx

from tests.cli.test_fleet_cli import FakeDtr

pytestmark = pytest.mark.usefixtures("dtr_env")

POLICY = """\
[[repository]]
name = "engineering/api"
immutable = true
long_description = "The API service"
scan_on_push = true

[[repository]]
match = "*/release-*"
immutable = true

[[repository]]
match = "ci/*"
immutable = false
tag_limit = 20
"""


@pytest.fixture
def fake(dtr: respx.MockRouter) -> FakeDtr:
    registry = FakeDtr()
    dtr.route(path__startswith="/api/v0/repositories").mock(side_effect=registry.handle)
    return registry


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    return path


def test_new_keys_and_match_entries_are_planned_and_applied(
    fake: FakeDtr, cli: Any, policy: Path
) -> None:
    fake.add("engineering/release-1")
    fake.add("ci/release-2")  # the first matching entry wins: release, not ci/*
    fake.add("ci/cache", tagLimit=5)
    fake.add("library/tools")
    result = cli("apply", "-f", str(policy), "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    plan = {change["repository"]: change for change in result.json()["plan"]}
    assert plan["engineering/api"]["action"] == "create"
    created = {field["field"]: field["new"] for field in plan["engineering/api"]["changes"]}
    assert created["long_description"] == "The API service"
    assert created["scan_on_push"] is True
    assert plan["engineering/release-1"]["action"] == "update"
    assert plan["ci/cache"]["changes"] == [{"field": "tag_limit", "old": 5, "new": 20}]
    # Pattern entries never create, and cover only what they match.
    assert "library/tools" not in plan
    assert fake.repositories["ci/release-2"]["immutableTags"] is True
    assert fake.repositories["ci/cache"]["tagLimit"] == 20
    assert fake.repositories["engineering/api"]["scanOnPush"] is True
    assert result.json()["unmanaged"] is None


def test_report_unmanaged_lists_what_no_entry_covers(fake: FakeDtr, cli: Any, policy: Path) -> None:
    fake.add("engineering/api", immutableTags=True, longDescription="The API service")
    fake.repositories["engineering/api"]["scanOnPush"] = True
    fake.add("library/tools")
    fake.add("engineering/web")
    result = cli("apply", "-f", str(policy), "--report-unmanaged", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Unmanaged: 2 repositories no entry of the file covers" in result.stdout
    assert "    engineering/web" in result.stdout and "    library/tools" in result.stdout
    as_json = cli("apply", "-f", str(policy), "--report-unmanaged", "--dry-run", "-o", "json")
    assert as_json.json()["unmanaged"] == ["engineering/web", "library/tools"]


def test_off_a_terminal_any_change_needs_yes_and_the_plan_is_shown_first(
    fake: FakeDtr, cli: Any, policy: Path
) -> None:
    result = cli("apply", "-f", str(policy))
    assert result.exit_code == 2
    assert result.stdout.startswith("+ create engineering/api")
    assert "refusing to apply this plan (1 to change)" in result.stderr
    assert "--yes" in result.stderr
    assert fake.sent("POST") == [] and fake.sent("PATCH") == []


def test_a_match_that_matches_nothing_warns(fake: FakeDtr, cli: Any, policy: Path) -> None:
    fake.add("engineering/api", immutableTags=True, longDescription="The API service")
    fake.repositories["engineering/api"]["scanOnPush"] = True
    result = cli("apply", "-f", str(policy))
    assert result.exit_code == 0, result.stderr
    assert "Warning: match '*/release-*' matched no repository" in result.stderr
    assert "Plan: 0 to create, 0 to update, 1 unchanged." in result.stdout
