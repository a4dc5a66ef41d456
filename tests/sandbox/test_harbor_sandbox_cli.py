"""`dtrctl sandbox --flavor harbor` starts the Harbor flavor and prints its accounts."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

DTRCTL = [sys.executable, "-m", "dtrctl"]


def test_the_harbor_flavor_starts_prints_its_accounts_and_serves_harbors_api():
    process = subprocess.Popen(
        [*DTRCTL, "sandbox", "--flavor", "harbor", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("Harbor sandbox listening on http://127.0.0.1:")
        url = banner.rsplit(" ", 1)[1].strip()
        lines = [process.stdout.readline() for _ in range(8)]
        assert "  user robot$engineering+ci: password sandbox-robot-ci-secret" in "".join(lines)
        info = httpx.get(f"{url}/api/v2.0/systeminfo", timeout=10).json()
        assert info["auth_mode"] == "db_auth"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ["--flavor", "quay"],
        ["--flavor", "harbor", "--create-on-push"],
        ["--project-creation", "nobody"],
    ],
)
def test_bad_flavor_options_are_usage_errors(args):
    result = subprocess.run(
        [*DTRCTL, "sandbox", *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ")
