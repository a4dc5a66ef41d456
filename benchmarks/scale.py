"""Benchmark 5, scale: `repo list -o json` over many repositories, time and peak memory."""

from __future__ import annotations

import json
import time
import tracemalloc
from dataclasses import dataclass

from benchmarks.common import DTRCTL, Profile, Workspace, credentials_env, ratio, run_child
from benchmarks.report import Section, Target, seconds_text
from dtrctl.backends.dtr.api import DEFAULT_PAGE_SIZE
from dtrctl.backends.dtr.wire import repository_from_api
from dtrctl.sandbox.server import SandboxServer

NAMESPACE = "bench"
# The result in memory plus its printed form, with room for bounded per-page buffers.
RESULT_OVERHEAD_LIMIT = 1.5
RESULT_SAMPLE = 5000
# Planning dtrctl's packed Harbor rules for 10x the names of one project: linear stays well under.
PACKING_LIMIT = 15.0


def packing_seconds(count: int) -> float:
    """Seconds (best of 3) to plan dtrctl's packed Harbor rules for `count` new names of one
    project, as `set-immutable`, `apply` and `migrate immutability` do (no server involved)."""
    from dtrctl.backends.harbor.doublestar import V1_3_4
    from dtrctl.backends.harbor.packing import plan_project

    names = [f"svc-{number}" for number in range(1, count + 1)]
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        plan_project([], NAMESPACE, names, (), V1_3_4)
        runs.append(time.perf_counter() - start)
    return min(runs)


@dataclass(frozen=True)
class Listing:
    repositories: int
    seconds: float
    max_rss_kib: int
    output_bytes: int


def result_bytes_per_repository(server: SandboxServer, count: int) -> float:
    """What the result itself takes: the repositories, their JSON documents and the printed text,
    as `repo list -o json` holds them at its peak (measured here with tracemalloc)."""
    page, _ = server.state.list_repositories("admin", count, namespace=NAMESPACE)
    bodies = [repository.to_api() for repository in page]
    tracemalloc.start()
    try:
        repositories = [repository_from_api(body) for body in bodies]
        document = {"repositories": [repository.to_json() for repository in repositories]}
        text = json.dumps(document, indent=2)
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del text
    return size / len(page)


def run(workspace: Workspace, profile: Profile) -> Section:
    server = SandboxServer().start()
    listings: list[Listing] = []
    try:
        env = workspace.env(credentials_env(server.url))
        seeded = 0
        for batch, size in enumerate(profile.scale_sizes):
            server.state.seed_repositories(
                size - seeded, namespaces=(NAMESPACE,), prefix=f"batch{batch}"
            )
            seeded = size
            output = workspace.root / f"scale-{size}.json"
            completed = run_child([DTRCTL, "repo", "list", "-o", "json"], env, stdout_path=output)
            listed = len(json.loads(output.read_bytes())["repositories"])
            if listed != size:
                raise RuntimeError(f"repo list printed {listed} repositories of {size}")
            listings.append(
                Listing(size, completed.seconds, completed.max_rss_kib, output.stat().st_size)
            )
            output.unlink()
        result_size = result_bytes_per_repository(server, min(RESULT_SAMPLE, seeded))
    finally:
        server.stop()
    base, small, large = listings
    section = Section(
        "5. Scale: `repo list -o json`",
        ("repositories", "time", "per 1,000 repositories", "peak memory (ru_maxrss)",
         "output"),
    )  # fmt: skip
    for listing in listings:
        section.add(
            f"{listing.repositories:,}",
            seconds_text(listing.seconds),
            f"{listing.seconds / listing.repositories * 1000 * 1000:.0f} ms",
            f"{listing.max_rss_kib / 1024:.0f} MiB",
            f"{listing.output_bytes / 1024 / 1024:.1f} MiB",
        )
    first_slope = _bytes_per_repository(base, small)
    second_slope = _bytes_per_repository(small, large)
    marginal_time = (large.seconds - small.seconds) / (large.repositories - small.repositories)
    # Memory may grow with the result (the repositories, their JSON), not with the pages
    # fetched: the peak's growth per repository is compared with the result's own size.
    section.targets.append(
        Target(
            f"peak memory growth per repository ({small.repositories:,}→"
            f"{large.repositories:,}) vs the result itself",
            ratio(second_slope, result_size),
            RESULT_OVERHEAD_LIMIT,
        )
    )
    names = profile.scale_sizes[0]
    packing_seconds(names // 10)  # imports and caches warmed
    fewer, more = packing_seconds(names // 10), packing_seconds(names)
    section.targets.append(
        Target(
            f"Harbor rule packing plan, {names:,} vs {names // 10:,} names of one project "
            f"({seconds_text(more)})",
            ratio(more, fewer),
            PACKING_LIMIT,
        )
    )
    section.notes += [
        f"Pages of {DEFAULT_PAGE_SIZE} from the sandbox on loopback (no delay); one run per "
        "size, each a fresh process; peak memory is the child's own (os.wait4).",
        "\n".join(
            [
                f"- Marginal time: {marginal_time * 1000 * 1000:.0f} ms per 1,000 repositories "
                f"({small.repositories:,}→{large.repositories:,}).",
                f"- Marginal memory: {first_slope / 1024:.1f} KiB per repository "
                f"({base.repositories:,}→{small.repositories:,}), {second_slope / 1024:.1f} KiB "
                f"({small.repositories:,}→{large.repositories:,}).",
                "- The result itself (repositories, their JSON documents and the printed text, "
                f"measured with tracemalloc): {result_size / 1024:.1f} KiB per repository; "
                f"dtrctl's peak grows {ratio(second_slope, result_size):.1f}× that.",
            ]
        ),
    ]
    return section


def _bytes_per_repository(smaller: Listing, larger: Listing) -> float:
    grown = (larger.max_rss_kib - smaller.max_rss_kib) * 1024
    return grown / (larger.repositories - smaller.repositories)
