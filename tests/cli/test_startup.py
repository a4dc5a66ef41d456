"""Start-up runs without a garbage collection; a long run still collects."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from dtrctl.main import GC_THRESHOLDS

# Fresh interpreters: not in `make test-fast`.
pytestmark = pytest.mark.processes

PROGRAM = """
import gc, sys
from dtrctl.main import main
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info))
sys.argv = ["dtrctl", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(len(collections), gc.get_threshold()[0], file=sys.stderr)
"""


def run(*arguments: str) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    collections, threshold = done.stderr.strip().splitlines()[-1].split()
    return int(collections), int(threshold)


def test_loading_a_command_triggers_no_collection() -> None:
    assert run("repo", "list", "--help") == (0, GC_THRESHOLDS[0])


def test_the_collector_stays_on_for_long_runs() -> None:
    # A bulk run over 100,000 repositories or a sandbox running for hours must not grow without
    # bound: the collector is tuned, never off.
    program = "from dtrctl import main\nimport gc\nprint(gc.isenabled())"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.strip() == "True"
    assert gc.isenabled()
