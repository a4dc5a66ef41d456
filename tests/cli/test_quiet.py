"""`--quiet` / `-q`: no summary, progress or notes on stderr; errors still there."""

from __future__ import annotations

from typing import Any

import pytest
import respx

from tests.cli.test_fleet_cli import FakeDtr

pytestmark = pytest.mark.usefixtures("dtr_env")


@pytest.fixture
def fake(dtr: respx.MockRouter) -> FakeDtr:
    registry = FakeDtr()
    dtr.route(path__startswith="/api/v0/repositories").mock(side_effect=registry.handle)
    return registry


def test_a_listing_prints_its_data_and_nothing_on_stderr(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api")
    loud = cli("repo", "list")
    assert "1 repository, 1 mutable" in loud.stderr
    for quiet in (["-q", "repo", "list"], ["repo", "list", "--quiet"]):
        result = cli(*quiet)
        assert result.exit_code == 0
        assert result.stdout == loud.stdout
        assert result.stderr == ""


def test_a_bulk_run_drops_summary_and_progress_but_keeps_errors(fake: FakeDtr, cli: Any) -> None:
    for index in range(60):
        fake.add(f"ci/repo-{index:02d}")
    fake.forbidden = {"ci/repo-07"}
    result = cli("repo", "set-immutable", "ci/*", "-q")
    assert result.exit_code == 1
    assert "progress:" not in result.stderr
    assert "changed," not in result.stderr
    assert result.stderr.startswith("Error: ")
    assert "ci/repo-07" in result.stderr
    assert "ci/repo-07: failed" in result.stdout


def test_an_error_still_goes_to_stderr(fake: FakeDtr, cli: Any) -> None:
    result = cli("-q", "repo", "show", "engineering/gone")
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: ")


def test_quiet_from_the_environment(
    fake: FakeDtr, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add("engineering/api")
    monkeypatch.setenv("DTRCTL_QUIET", "1")
    assert cli("repo", "list").stderr == ""
