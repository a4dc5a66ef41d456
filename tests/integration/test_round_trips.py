"""push-check's sequential round trips across a network delay: a budget, not a timing.

The installed `dtrctl` checks tags against the TLS sandbox behind the latency proxy, which counts
the causal depth of the exchange (`benchmarks/latency_proxy.py`): TCP set-up, the TLS handshake,
the token and the manifest GET are the least any client needs (4); every question is asked at
once, so more tags cost no more (10 tags need more connections than the pool's 16: one more).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks.common import ADMIN, DTRCTL, Workspace
from benchmarks.latency_proxy import ProxyStats
from benchmarks.push_check import seed_repository, tls_sandbox_behind_proxy

pytestmark = pytest.mark.integration
# Long enough that a thread starting late on a loaded machine does not look like a round trip.
DELAY_MS = 25
# The least is 4 (see above). With several tags, a manifest GET that finds no idle connection when
# its token arrives opens one (2 more), a race the budget allows for. Before every question was
# asked at once, 1 tag took 6, 3 tags 8 and 10 tags 10.
ROUND_TRIP_BUDGET = {1: 5, 3: 6, 10: 7}


def push_check_round_trips(
    tmp_path: Path, tags: int, flavor: str = "dtr", env: dict[str, str] | None = None
) -> ProxyStats:
    """The proxy's counts for one `push-check` of `tags` tags of the seeded repository."""
    workspace = Workspace.create(tmp_path)
    with tls_sandbox_behind_proxy(workspace, DELAY_MS, flavor) as (server, proxy, certificates):
        digests = seed_repository(server)
        references = [f"{proxy.host_port}/bench/app:1.{minor}" for minor in range(tags)]
        extra = {key: value.format(host=proxy.host_port) for key, value in (env or {}).items()}
        run_env = workspace.env(
            {
                "DTRCTL_USERNAME": ADMIN[0],
                "DTRCTL_PASSWORD": ADMIN[1],
                "DTRCTL_CA_FILE": str(certificates.ca_file),
                **extra,
            }
        )
        proxy.reset_stats()
        run = subprocess.run(
            [DTRCTL, "push-check", *references, "--digest", digests["1.0"], "-o", "json"],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        stats = proxy.stats()
    assert run.returncode == 0, run.stdout + run.stderr
    return stats


@pytest.mark.parametrize("tags", sorted(ROUND_TRIP_BUDGET))
def test_push_check_stays_within_its_round_trip_budget(tmp_path: Path, tags: int) -> None:
    stats = push_check_round_trips(tmp_path, tags)
    assert stats.sequential_round_trips <= ROUND_TRIP_BUDGET[tags], stats


# On MSR 4 / Harbor: `--backend harbor` needs what a DTR needs (4 at least); under `auto` the kind
# is found out beside the first questions (`dtrctl/backends/detect.py`): one round trip more at
# most. Before, `auto` asked every question of DTR's API first, then all again of Harbor: 9.
HARBOR_TAGS = 3
HARBOR_BUDGET = {
    "harbor": ROUND_TRIP_BUDGET[HARBOR_TAGS],
    "auto": ROUND_TRIP_BUDGET[HARBOR_TAGS] + 1,
}


@pytest.mark.parametrize("backend", sorted(HARBOR_BUDGET))
def test_push_check_on_harbor_under_auto_costs_one_round_trip_more_at_most(
    tmp_path: Path, backend: str
) -> None:
    env = {"DTRCTL_URL": "https://{host}", "DTRCTL_BACKEND": backend}
    stats = push_check_round_trips(tmp_path, HARBOR_TAGS, "harbor", env)
    assert stats.sequential_round_trips <= HARBOR_BUDGET[backend], stats
