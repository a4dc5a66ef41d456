"""push-check's sequential round trips across a network delay: a budget, not a timing.

The installed `dtrctl` checks tags against the TLS sandbox (DTR and Harbor) behind the latency
proxy, which counts the causal depth of the exchange (`benchmarks/latency_proxy.py`): TCP set-up,
the TLS handshake, the token and the manifest GET are the least any client needs (4). Every
question is asked at once, and the connections the manifest GETs will need are opened beside the
token request, so more tags cost no more: 1, 3 and 10 tags take the same number. Under `auto`
each kind's token endpoint is asked in the same flight, so the kind costs nothing either.

The budget and the connections are exact, with no slack for a loaded machine (CI runs on 2
CPUs beside other jobs): the proxy does not count a handshake a busy machine finishes late as a
round trip deeper (its docstring says how), and the delay leaves a late thread 2 × DELAY_MS to
send a request, and 6 × DELAY_MS to open a connection, before it would count one deeper.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks.common import ADMIN, DTRCTL, Workspace
from benchmarks.latency_proxy import ProxyStats
from benchmarks.push_check import seed_repository, tls_sandbox_behind_proxy

pytestmark = pytest.mark.integration
# Long enough that a thread starting late on a loaded machine does not look like a round trip
# (at 25 ms, with the handshakes counted as any flight, 10 tags took 7 at a load average of 8).
DELAY_MS = 50
# The least is 4 (see above), whatever the number of tags and whatever the kind, under `auto`
# too: the kind is found out beside the first questions (`dtrctl/backends/detect.py`).
# Before every question was asked at once, 1 tag took 6, 3 tags 8 and 10 tags 10; before the
# connections were opened beside the token request, 3 and 10 tags took up to 6 (a manifest GET
# that found no idle connection when its token arrived opened one); before both token endpoints
# were asked at once, a Harbor under `auto` took 5 (Harbor's was asked once DTR's had failed).
TAG_COUNTS = (1, 3, 10)
ROUND_TRIP_BUDGET = {("dtr", "dtr"): 4, ("dtr", "auto"): 4, ("harbor", "harbor"): 4}
ROUND_TRIP_BUDGET[("harbor", "auto")] = 4


def planned_connections(tags: int, backend: str) -> int:
    """The state, each tag's details, the token (under `auto` each kind's token endpoint), one
    per manifest GET but the first (opened beside the token request), and the probe under
    `auto`: no handshake after the token."""
    auto = backend == "auto"
    return 1 + tags + (1 + auto) + (tags - 1) + auto


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


@pytest.mark.parametrize("tags", TAG_COUNTS)
@pytest.mark.parametrize(("flavor", "backend"), sorted(ROUND_TRIP_BUDGET))
def test_push_check_stays_within_its_round_trip_budget(
    tmp_path: Path, flavor: str, backend: str, tags: int
) -> None:
    env = {"DTRCTL_URL": "https://{host}", "DTRCTL_BACKEND": backend}
    stats = push_check_round_trips(tmp_path, tags, flavor, env)
    assert stats.connections == planned_connections(tags, backend), stats
    budget = ROUND_TRIP_BUDGET[(flavor, backend)]
    assert stats.sequential_round_trips == budget, stats
