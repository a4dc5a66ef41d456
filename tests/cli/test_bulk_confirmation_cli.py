"""Selections: turning many off asks about what would change; one matching nothing exits 4."""

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


def test_the_question_for_turning_many_off_counts_only_what_would_change(
    fake: FakeDtr, cli: Any
) -> None:
    fake.add("ci/already-mutable")
    for index in range(1, 8):
        fake.add(f"ci/svc-{index}", immutableTags=True)
    result = cli("repo", "set-immutable", "ci/*", "--off")
    assert result.exit_code == 2
    assert (
        "refusing to turn tag immutability off for 7 repositories (ci/svc-1, ci/svc-2, "
        "ci/svc-3, ci/svc-4, ci/svc-5 and 2 more) without confirmation"
    ) in result.stderr
    assert "--dry-run lists every one" in result.stderr
    assert fake.sent("PATCH") == []


def test_exact_names_are_read_to_count_what_would_change(fake: FakeDtr, cli: Any) -> None:
    fake.add("ci/a")
    fake.add("ci/b", immutableTags=True)
    # One of two would change: no question, and ci/a is not patched.
    result = cli("repo", "set-immutable", "ci/a", "ci/b", "--off")
    assert result.exit_code == 0, result.stderr
    assert fake.sent("PATCH") == ["/api/v0/repositories/ci/b"]


def test_a_listing_whose_selection_matches_nothing_exits_4_as_the_readme_says(
    fake: FakeDtr, cli: Any
) -> None:
    fake.add("engineering/api")
    for arguments in (["engineering/zzz-*"], ["engineering/*", "--exclude", "engineering/*"]):
        result = cli("repo", "list", *arguments)
        assert result.exit_code == 4, arguments
        assert "no repository matches the selection" in result.stderr
    # A filter that leaves nothing is an answer, not a typo; so is an empty registry.
    assert cli("repo", "list", "engineering/*", "--immutable").exit_code == 0
    fake.repositories.clear()
    assert cli("repo", "list").exit_code == 0
