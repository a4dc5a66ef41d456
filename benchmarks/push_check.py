"""Benchmarks 2 and 3: `push-check` on loopback against `import typer, httpx`, and across a
network delay (TLS behind the latency proxy) against `skopeo inspect`."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    ADMIN,
    DTRCTL,
    PYTHON,
    Profile,
    Workspace,
    alternate,
    credentials_env,
    ratio,
    run_child,
)
from benchmarks.latency_proxy import LatencyProxy, ProxyStats
from benchmarks.report import Section, Target, milliseconds
from benchmarks.startup import Command, imports_beyond_floor, importtime_table
from dtrctl.models import Repository
from dtrctl.sandbox.server import SandboxServer

LOOPBACK_TARGET = 1.3
NETWORK_TARGET = 1.0
FLOOR = "python -c 'import typer, httpx'"
# Not a target: what one request with httpx's default client costs over the floor.
ONE_GET = "the floor + one `httpx.get` (no target)"
REPOSITORY = ("bench", "app")
TAGS = ("1.0", "1.1", "1.2")
SKOPEO = "/usr/bin/skopeo"
# 0 when the expected digest is already there or a push would overwrite a mutable tag.
PUSH_CHECK_OK = (0,)


def seed_repository(server: SandboxServer) -> dict[str, str]:
    """`bench/app` (mutable) with TAGS; returns each tag's digest."""
    server.state.add_repository(Repository(*REPOSITORY))
    return {tag: server.state.put_image(*REPOSITORY, tag) for tag in TAGS}


def run_loopback(workspace: Workspace, profile: Profile) -> Section:
    server = SandboxServer().start()
    try:
        digests = seed_repository(server)
        env = workspace.env(credentials_env(server.url))
        reference = f"{'/'.join(REPOSITORY)}:{TAGS[0]}"
        check = [DTRCTL, "push-check", reference, "--digest", digests[TAGS[0]]]
        candidates = {
            FLOOR: Command((PYTHON, "-c", "import typer, httpx"), {}),
            ONE_GET: Command(
                (PYTHON, "-c", f"import typer, httpx; httpx.get({server.url + '/_ping'!r})"), {}
            ),
            "`dtrctl push-check` (text)": Command(tuple(check), {}),
            "`dtrctl push-check -o json`": Command((*check, "-o", "json"), {}),
        }

        def timed(command: Command) -> float:
            return run_child(command.argv, {**env, **command.env}, expect=PUSH_CHECK_OK).seconds

        samples = alternate(
            {
                name: (lambda command=command: timed(command))
                for name, command in candidates.items()
            },
            profile.repetitions,
            profile.warmup,
        )
        costs = imports_beyond_floor(
            Command(tuple(check), credentials_env(server.url)),
            candidates[FLOOR],
            workspace,
            profile.importtime_runs,
        )
    finally:
        server.stop()
    floor = samples[FLOOR].median
    section = Section(
        "2. push-check on loopback",
        ("command", "median", "ratio to the floor"),
        notes=[
            f"One tag against the sandbox over plain HTTP on 127.0.0.1, with `--digest` (verdict "
            f"`present`); floor `{FLOOR}`; {profile.repetitions} alternating runs each.",
            importtime_table("dtrctl push-check", costs),
        ],
    )
    for name, measured in samples.items():
        section.add(
            name if name != FLOOR else f"`{FLOOR}`",
            milliseconds(measured.median),
            f"{ratio(measured.median, floor):.2f}×",
        )
        if name not in (FLOOR, ONE_GET):
            section.targets.append(
                Target(
                    f"push-check on loopback, {name}",
                    ratio(measured.median, floor),
                    LOOPBACK_TARGET,
                )
            )
    return section


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path
    # skopeo's --cert-dir: the CA as ca.crt.
    cert_dir: Path


def make_certificates(directory: Path) -> Certificates:
    import trustme

    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    paths = Certificates(
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
        directory / "skopeo",
    )
    authority.cert_pem.write_to_path(str(paths.ca_file))
    paths.cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(paths.key_file))
    paths.cert_dir.mkdir(exist_ok=True)
    authority.cert_pem.write_to_path(str(paths.cert_dir / "ca.crt"))
    return paths


@contextmanager
def tls_sandbox_behind_proxy(
    workspace: Workspace, delay_ms: float
) -> Iterator[tuple[SandboxServer, LatencyProxy, Certificates]]:
    certificates = make_certificates(workspace.root / "certs")
    server = SandboxServer(
        tls_cert=str(certificates.cert_file), tls_key=str(certificates.key_file)
    ).start()
    try:
        port = int(server.host_port.rsplit(":", 1)[1])
        with LatencyProxy(port, delay_ms) as proxy:
            yield server, proxy, certificates
    finally:
        server.stop()


def skopeo_path() -> str | None:
    return SKOPEO if Path(SKOPEO).exists() else shutil.which("skopeo")


def run_network(workspace: Workspace, profile: Profile) -> Section:
    delay = profile.network_delay_ms
    rtt_seconds = 2 * delay / 1000
    skopeo = skopeo_path()
    with tls_sandbox_behind_proxy(workspace, delay) as (server, proxy, certificates):
        digests = seed_repository(server)
        host = proxy.host_port
        repository = "/".join(REPOSITORY)
        env = workspace.env(
            {
                "DTRCTL_USERNAME": ADMIN[0],
                "DTRCTL_PASSWORD": ADMIN[1],
                "DTRCTL_CA_FILE": str(certificates.ca_file),
            }
        )
        three = [f"{host}/{repository}:{tag}" for tag in TAGS]
        dtrctl_3 = f"dtrctl push-check, {len(TAGS)} tags, --digest"
        dtrctl_1 = "dtrctl push-check, 1 tag, --digest"
        commands: dict[str, list[str]] = {
            dtrctl_3: [DTRCTL, "push-check", *three, "--digest", digests[TAGS[0]], "-o", "json"],
            dtrctl_1: [DTRCTL, "push-check", three[0], "--digest", digests[TAGS[0]], "-o", "json"],
        }
        skopeo_base = "skopeo inspect, 1 tag"
        if skopeo is not None:
            inspect = [
                skopeo, "inspect", "--cert-dir", str(certificates.cert_dir),
                "--creds", ":".join(ADMIN), f"docker://{three[0]}",
            ]  # fmt: skip
            commands[skopeo_base] = inspect
            commands["skopeo inspect --no-tags, 1 tag"] = [*inspect[:2], "--no-tags", *inspect[2:]]
        stats: dict[str, list[ProxyStats]] = {name: [] for name in commands}

        def timed(name: str) -> Callable[[], float]:
            def once() -> float:
                proxy.reset_stats()
                seconds = run_child(commands[name], env, expect=PUSH_CHECK_OK).seconds
                stats[name].append(proxy.stats())
                return seconds

            return once

        samples = alternate(
            {name: timed(name) for name in commands}, profile.repetitions, profile.warmup
        )
    section = Section(
        "3. push-check across a network delay",
        (
            "command",
            "median",
            "ratio to skopeo inspect",
            "connections",
            "client flights",
            "sequential round trips",
            "time off the network",
        ),
        notes=[
            f"The sandbox with TLS (a trustme CA, verified by both tools) behind "
            f"`benchmarks/latency_proxy.py` at {delay:g} ms each way (round trip "
            f"{rtt_seconds * 1000:.0f} ms; TCP and TLS set-up pay it too). Connections, client "
            "flights (request/response turns, TLS handshake flights included) and sequential "
            "round trips (the causal depth: see the proxy's docstring) are counted by the proxy "
            "(median over runs). `time off the network` is the median minus sequential round "
            "trips × round-trip time: start-up and computing.",
        ],
    )
    reference = samples[skopeo_base].median if skopeo_base in samples else None
    for name, measured in samples.items():
        counted = stats[name][len(stats[name]) - len(measured.seconds) :]
        trips = _median_int([item.sequential_round_trips for item in counted])
        section.add(
            name,
            milliseconds(measured.median),
            f"{ratio(measured.median, reference):.2f}×" if reference else "-",
            str(_median_int([item.connections for item in counted])),
            str(_median_int([item.client_flights for item in counted])),
            str(trips),
            milliseconds(measured.median - trips * rtt_seconds),
        )
    if reference is not None:
        section.targets.append(
            Target(
                f"push-check of {len(TAGS)} tags vs `skopeo inspect` of 1 tag, "
                f"{delay:g} ms each way",
                ratio(samples[dtrctl_3].median, reference),
                NETWORK_TARGET,
            )
        )
    else:
        section.notes.append("skopeo is not installed: no comparison, no target checked.")
    return section


def _median_int(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0
