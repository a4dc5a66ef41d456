"""Benchmark 4, bulk: `repo set-immutable` over many repositories with a per-request delay,
against the concurrency bound and a sequential loop of `curl` calls doing the same work."""

from __future__ import annotations

import inspect
import json
import shutil
import time
import urllib.request
from base64 import b64encode
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.common import (
    ADMIN,
    DTRCTL,
    Profile,
    Workspace,
    alternate,
    credentials_env,
    ratio,
    run_child,
)
from benchmarks.report import Section, Target, seconds_text
from dtrctl.backends.dtr.wire import repository_from_api, update_body
from dtrctl.cli.repo import set_immutable
from dtrctl.sandbox.server import SandboxServer

TARGET = 1.3
NAMESPACE = "bench"
CURL = "/usr/bin/curl"


def default_concurrency() -> int:
    """What `repo set-immutable` uses without --concurrency, read from the command itself."""
    default = inspect.signature(set_immutable).parameters["concurrency"].default
    return int(default)


def repository_names(server: SandboxServer, count: int) -> list[str]:
    page, _ = server.state.list_repositories("admin", count + 1, namespace=NAMESPACE)
    return [repository.full_name for repository in page]


def make_mutable(server: SandboxServer, names: Sequence[str]) -> None:
    for full_name in names:
        server.state.update_repository(*full_name.split("/"), immutable=False)


def require_all_immutable(server: SandboxServer, names: Sequence[str], who: str) -> None:
    def immutable(name: str) -> bool:
        record = server.state.get_repository(*name.split("/"))
        return record is not None and record.immutable

    mutable = [name for name in names if not immutable(name)]
    if mutable:
        raise RuntimeError(f"{who} left {len(mutable)} repositories mutable, e.g. {mutable[0]}")


class SequentialLoop:
    """GET then PATCH (all writable settings, immutability on) per repository, one request per
    process, one after the other: what a shell loop of `curl` calls does."""

    def __init__(self, base_url: str, workspace: Workspace) -> None:
        self.base_url = base_url
        self.env = workspace.env()
        self.curl = CURL if Path(CURL).exists() else shutil.which("curl")

    @property
    def label(self) -> str:
        if self.curl is not None:
            return "sequential loop of `curl` calls"
        return "sequential loop of Python `urllib` requests (curl is not installed)"

    def run(self, names: Sequence[str]) -> float:
        send = self._curl if self.curl is not None else self._urllib
        started = time.perf_counter()
        for full_name in names:
            url = f"{self.base_url}/api/v0/repositories/{full_name}"
            current = repository_from_api(json.loads(send("GET", url, None)))
            send("PATCH", url, json.dumps(update_body(current.with_changes(immutable=True))))
        return time.perf_counter() - started

    def _curl(self, method: str, url: str, body: str | None) -> bytes:
        assert self.curl is not None
        argv = [self.curl, "-sS", "--fail", "-u", ":".join(ADMIN), "-X", method, url]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data-binary", body]
        return run_child(argv, self.env).stdout

    def _urllib(self, method: str, url: str, body: str | None) -> bytes:
        request = urllib.request.Request(
            url,
            data=body.encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": "Basic " + b64encode(":".join(ADMIN).encode()).decode(),
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return bytes(response.read())


def run(workspace: Workspace, profile: Profile) -> Section:
    count = profile.bulk_repositories
    latency = profile.bulk_latency_ms / 1000
    concurrency = default_concurrency()
    server = SandboxServer(latency_ms=profile.bulk_latency_ms).start()
    try:
        server.state.seed_repositories(count, namespaces=(NAMESPACE,), prefix="repo")
        names = repository_names(server, count)
        names_file = workspace.root / "bulk-names.txt"
        names_file.write_text("\n".join(names) + "\n")
        env = workspace.env(credentials_env(server.url))
        commands = {
            f"dtrctl, {count} names (--from-file)": [
                DTRCTL, "repo", "set-immutable", "--from-file", str(names_file), "-o", "json",
            ],
            f"dtrctl, pattern '{NAMESPACE}/*'": [
                DTRCTL, "repo", "set-immutable", f"{NAMESPACE}/*", "-o", "json",
            ],
        }  # fmt: skip
        requests: dict[str, list[int]] = {name: [] for name in commands}

        def timed(name: str) -> Callable[[], float]:
            def once() -> float:
                make_mutable(server, names)
                server.state.clear_requests()
                seconds = run_child(commands[name], env).seconds
                requests[name].append(len(server.state.requests))
                require_all_immutable(server, names, name)
                return seconds

            return once

        samples = alternate(
            {name: timed(name) for name in commands}, profile.bulk_repetitions, warmup=0
        )
        loop = SequentialLoop(server.url, workspace)
        looped = names[: profile.curl_repositories]
        make_mutable(server, names)
        loop_seconds = loop.run(looped) * len(names) / len(looped)
        require_all_immutable(server, looped, loop.label)
    finally:
        server.stop()
    section = Section(
        "4. Bulk `repo set-immutable`",
        ("run", "median", "requests", "ideal", "ratio to the ideal", "ratio to the loop"),
        notes=[
            f"{count} mutable repositories, the sandbox delaying each request by "
            f"{profile.bulk_latency_ms} ms, default concurrency {concurrency}; "
            f"{profile.bulk_repetitions} alternating runs each. Ideal = requests × latency ÷ "
            "concurrency (requests counted by the sandbox; dtrctl reads each repository "
            "afresh before its PATCH). Times include dtrctl's start-up.",
            f"The loop ran once over {len(looped)} repositories"
            + (f", scaled to {count}." if len(looped) < count else "."),
        ],
    )
    for name, measured in samples.items():
        made = sorted(requests[name])[len(requests[name]) // 2]
        ideal = made * latency / concurrency
        section.add(
            name,
            seconds_text(measured.median),
            str(made),
            seconds_text(ideal),
            f"{ratio(measured.median, ideal):.2f}×",
            f"{ratio(measured.median, loop_seconds):.3f}×",
        )
        section.targets.append(
            Target(f"bulk, {name}, vs the ideal", ratio(measured.median, ideal), TARGET)
        )
    section.add(loop.label, seconds_text(loop_seconds), str(2 * count), "-", "-", "1.000×")
    return section
