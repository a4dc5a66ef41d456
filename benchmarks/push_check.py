"""Benchmarks 2 and 3: `push-check` on loopback against `import typer, httpx`, and across a
network delay (TLS behind the latency proxy) against `skopeo inspect --raw`: the least a peer
must do to answer the same question for one tag (one manifest)."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.server import SandboxServer

LOOPBACK_TARGET = 1.3
# push-check of N tags against `skopeo inspect --raw` of one tag.
NETWORK_TARGETS = {3: 0.8, 10: 0.85}
FLOOR = "python -c 'import typer, httpx'"
# Not a target: what one request with httpx's default client costs over the floor.
ONE_GET = "the floor + one `httpx.get` (no target)"
REPOSITORY = ("bench", "app")
TAGS = tuple(f"1.{minor}" for minor in range(10))
# How many tags each network run checks.
TAG_COUNTS = (1, 3, 10)
SKOPEO = "/usr/bin/skopeo"
# 0 when the expected digest is already there or a push would overwrite a mutable tag.
PUSH_CHECK_OK = (0,)


def seed_repository(server: SandboxServer) -> dict[str, str]:
    """`bench/app` (mutable) with TAGS; returns each tag's digest. On Harbor, `bench` is a
    project without rules."""
    if server.flavor == "harbor":
        from dtrctl.sandbox.harbor.state import HarborState

        assert isinstance(server.state, HarborState)
        server.state.add_project(REPOSITORY[0])
        server.state.add_project_repository(*REPOSITORY)
    else:
        server.state.add_repository(RepositoryRecord(*REPOSITORY))
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
            {name: functools.partial(timed, command) for name, command in candidates.items()},
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
    workspace: Workspace, delay_ms: float, flavor: str = "dtr"
) -> Iterator[tuple[SandboxServer, LatencyProxy, Certificates]]:
    certificates = make_certificates(workspace.root / "certs")
    server = SandboxServer(
        tls_cert=str(certificates.cert_file), tls_key=str(certificates.key_file), flavor=flavor
    ).start()
    try:
        port = int(server.host_port.rsplit(":", 1)[1])
        with LatencyProxy(port, delay_ms) as proxy:
            yield server, proxy, certificates
    finally:
        server.stop()


def skopeo_path() -> str | None:
    return SKOPEO if Path(SKOPEO).exists() else shutil.which("skopeo")


def dtrctl_label(count: int) -> str:
    return f"dtrctl push-check, {count} tag{'s' if count > 1 else ''}, --digest"


SKOPEO_RAW = "skopeo inspect --raw, 1 tag (one manifest: the anchor)"
SKOPEO_FULL = "skopeo inspect, 1 tag (heavier: lists every tag, reads the config)"


def network_commands(
    host: str, digests: dict[str, str], certificates: Certificates, skopeo: str | None
) -> dict[str, list[str]]:
    repository = "/".join(REPOSITORY)
    references = [f"{host}/{repository}:{tag}" for tag in TAGS]
    commands = {
        dtrctl_label(count): [
            DTRCTL, "push-check", *references[:count], "--digest", digests[TAGS[0]], "-o", "json"
        ]
        for count in TAG_COUNTS
    }  # fmt: skip
    if skopeo is not None:
        inspect = [
            skopeo, "inspect", "--cert-dir", str(certificates.cert_dir),
            "--creds", ":".join(ADMIN), f"docker://{references[0]}",
        ]  # fmt: skip
        commands[SKOPEO_RAW] = [*inspect[:2], "--raw", *inspect[2:]]
        commands[SKOPEO_FULL] = inspect
    return commands


CommandsFor = Callable[[str, dict[str, str], Certificates, "str | None"], dict[str, list[str]]]


def run_network(workspace: Workspace, profile: Profile) -> Section:
    samples, stats = measure_network(workspace, profile, "dtr", network_commands)
    return network_section(samples, stats, profile.network_delay_ms)


def measure_network(
    workspace: Workspace, profile: Profile, flavor: str, commands_for: CommandsFor
) -> tuple[dict[str, Any], dict[str, list[ProxyStats]]]:
    """Each command's times and proxy counts, alternating, against one TLS sandbox."""
    delay = profile.network_delay_ms
    skopeo = skopeo_path()
    with tls_sandbox_behind_proxy(workspace, delay, flavor) as (server, proxy, certificates):
        digests = seed_repository(server)
        env = workspace.env(
            {
                "DTRCTL_USERNAME": ADMIN[0],
                "DTRCTL_PASSWORD": ADMIN[1],
                "DTRCTL_CA_FILE": str(certificates.ca_file),
            }
        )
        commands = commands_for(proxy.host_port, digests, certificates, skopeo)
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
    return samples, stats


def network_section(
    samples: dict[str, Any],
    stats: dict[str, list[ProxyStats]],
    delay: float,
    title: str = "3. push-check across a network delay",
    *,
    skopeo_targets: bool = True,
) -> Section:
    rtt_seconds = 2 * delay / 1000
    section = Section(
        title,
        (
            "command",
            "median",
            "ratio to skopeo inspect --raw",
            "connections",
            "client flights",
            "sequential round trips",
            "time off the network",
        ),
        notes=[
            f"The sandbox with TLS (a trustme CA, verified by both tools) behind "
            f"`benchmarks/latency_proxy.py` at {delay:g} ms each way (round trip "
            f"{rtt_seconds * 1000:.0f} ms; TCP and TLS set-up pay it too). The anchor is "
            "`skopeo inspect --raw` of one tag: the least a peer must do to answer the same "
            "question (one manifest); plain `skopeo inspect` also lists every tag and reads "
            "the config blob, and is shown for context only. Connections, client flights "
            "(request/response turns, TLS handshake flights included) and sequential round "
            "trips (the causal depth: see the proxy's docstring) are counted by the proxy "
            "(median over runs). `time off the network` is the median minus sequential round "
            "trips × round-trip time: start-up and computing.",
        ],
    )
    reference = samples[SKOPEO_RAW].median if SKOPEO_RAW in samples else None
    for name, measured in samples.items():
        counted = stats[name][len(stats[name]) - len(measured.seconds) :]
        trips = _median_int([item.sequential_round_trips for item in counted])
        section.figures[name] = {
            "median_s": measured.median,
            "ratio": ratio(measured.median, reference) if reference else 0.0,
            "trips": trips,
            "off_network_s": measured.median - trips * rtt_seconds,
        }
        section.add(
            name,
            milliseconds(measured.median),
            f"{ratio(measured.median, reference):.2f}×" if reference else "-",
            str(_median_int([item.connections for item in counted])),
            str(_median_int([item.client_flights for item in counted])),
            str(trips),
            milliseconds(measured.median - trips * rtt_seconds),
        )
    if reference is None:
        section.notes.append("skopeo is not installed: no comparison, no target checked.")
        return section
    if not skopeo_targets:
        return section
    for count, limit in NETWORK_TARGETS.items():
        section.targets.append(
            Target(
                f"push-check of {count} tags vs `skopeo inspect --raw` of 1 tag, "
                f"{delay:g} ms each way",
                ratio(samples[dtrctl_label(count)].median, reference),
                limit,
            )
        )
    return section


def _median_int(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


HARBOR_TAGS = 3
HARBOR_NAMED = f"dtrctl --backend harbor push-check, {HARBOR_TAGS} tags, --digest"


def harbor_auto_label(count: int) -> str:
    return f"{dtrctl_label(count)} (auto: detects Harbor)"


HARBOR_AUTO = harbor_auto_label(HARBOR_TAGS)


def harbor_commands(
    host: str, digests: dict[str, str], certificates: Certificates, skopeo: str | None
) -> dict[str, list[str]]:
    """push-check with `--url` set: 1, 3 and 10 tags under `auto` (the default), 3 tags with the
    kind named, and the anchor."""
    references = [f"{host}/{'/'.join(REPOSITORY)}:{tag}" for tag in TAGS]
    url = ["--url", f"https://{host}"]

    def check(count: int) -> list[str]:
        return ["push-check", *references[:count], "--digest", digests[TAGS[0]], "-o", "json"]

    commands = {
        harbor_auto_label(count): [DTRCTL, *url, "--backend", "auto", *check(count)]
        for count in TAG_COUNTS
    }
    commands[HARBOR_NAMED] = [DTRCTL, *url, "--backend", "harbor", *check(HARBOR_TAGS)]
    raw = network_commands(host, digests, certificates, skopeo).get(SKOPEO_RAW)
    if raw is not None:
        commands[SKOPEO_RAW] = raw
    return commands


def run_network_harbor(workspace: Workspace, profile: Profile) -> Section:
    """Benchmark 3b: what finding out the kind costs on MSR 4 / Harbor (`backends/detect.py`)."""
    samples, stats = measure_network(workspace, profile, "harbor", harbor_commands)
    section = network_section(
        samples,
        stats,
        profile.network_delay_ms,
        "3b. push-check on MSR 4 / Harbor: --backend auto against --backend harbor",
        skopeo_targets=False,
    )
    section.notes.append(
        "The Harbor sandbox, the same proxy and delay; `--url` is set. Under `auto` (the "
        "default) the kind is found out beside the first questions, and DTR's and Harbor's "
        "token endpoints are asked in the same flight: no sequential round trip more than "
        "with the kind named (4). The targets against skopeo are DTR's, under `auto`."
    )
    reference = samples.get(SKOPEO_RAW)
    if reference is not None:
        for count, limit in NETWORK_TARGETS.items():
            section.targets.append(
                Target(
                    f"push-check of {count} tags on Harbor (auto, --url) vs `skopeo inspect "
                    f"--raw` of 1 tag, {profile.network_delay_ms:g} ms each way",
                    ratio(samples[harbor_auto_label(count)].median, reference.median),
                    limit,
                )
            )

    def trips(name: str) -> int:
        return _median_int([item.sequential_round_trips for item in stats[name]])

    section.targets.append(
        Target(
            "push-check of 3 tags on Harbor: round trips under auto / under --backend harbor",
            trips(HARBOR_AUTO) / max(1, trips(HARBOR_NAMED)),
            1.0,
        )
    )
    return section


SIDE_BY_SIDE_TITLE = "3c. push-check on DTR and on MSR 4 / Harbor, side by side"


def side_by_side(dtr: Section, harbor: Section, delay: float) -> Section:
    """The figures of benchmarks 3 and 3b in one table: each kind against its own skopeo anchor,
    measured alternately in its own run; Harbor under `auto` with `--url` set, as CI runs it."""
    section = Section(
        SIDE_BY_SIDE_TITLE,
        ("tags", "DTR", "DTR round trips", "MSR 4 / Harbor (auto)", "Harbor round trips"),
        notes=[
            f"From the two tables above ({delay:g} ms each way, TLS): time, ratio to `skopeo "
            "inspect --raw` of one tag against the same sandbox, sequential round trips. "
            f"Targets on both kinds: 3 tags ≤ {NETWORK_TARGETS[3]:.2f}×, 10 tags ≤ "
            f"{NETWORK_TARGETS[10]:.2f}×; 4 round trips whatever the number of tags."
        ],
    )
    for count in TAG_COUNTS:
        cells = []
        for figures in (
            dtr.figures.get(dtrctl_label(count)),
            harbor.figures.get(harbor_auto_label(count)),
        ):
            if figures is None:
                cells += ["-", "-"]
                continue
            shown = milliseconds(figures["median_s"])
            if figures["ratio"]:
                shown += f" ({figures['ratio']:.2f}×)"
            cells += [shown, str(int(figures["trips"]))]
        section.add(str(count), *cells)
    return section
