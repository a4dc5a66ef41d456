"""Start-up runs without the garbage collector; every command's own work runs with it."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from dtrctl import main as entry_point
from dtrctl.cli.common import dtrctl_command


@pytest.fixture
def collector_restored() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_loading_the_cli_runs_without_the_collector(
    monkeypatch: pytest.MonkeyPatch, collector_restored: None
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(sys, "argv", ["dtrctl", "repo", "list"])
    monkeypatch.setattr("dtrctl.cli.app.main", lambda: seen.append(gc.isenabled()))
    entry_point.main()
    assert seen == [False]


def test_a_command_collects_garbage_and_skips_what_start_up_made(
    collector_restored: None,
) -> None:
    # A bulk run over 100,000 repositories or a sandbox running for hours must not grow
    # without bound because start-up turned the collector off.
    gc.disable()
    seen: list[tuple[bool, int]] = []

    @dtrctl_command
    def probe(output: str = "text") -> None:
        seen.append((gc.isenabled(), gc.get_freeze_count()))

    probe()
    [(enabled, frozen)] = seen
    assert enabled
    assert frozen > 0
