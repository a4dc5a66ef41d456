"""What every benchmark shares: the child environment, timed runs, alternating comparisons."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
# Git ignores this folder: homes, certificates, bytecode and outputs of benchmark runs.
WORK_ROOT = REPOSITORY_ROOT / "benchmarks" / ".work"
PYTHON = sys.executable
DTRCTL = str(Path(sys.executable).with_name("dtrctl"))
ADMIN = ("admin", "sandbox-admin-password")
CHILD_TIMEOUT_SECONDS = 600
# Settings of the caller's shell that would change what a child does or measures.
DROPPED_VARIABLES = ("PYTHONDONTWRITEBYTECODE", "NO_COLOR", "GITHUB_ACTIONS", "DOCKER_AUTH_CONFIG")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@dataclass(frozen=True)
class Workspace:
    """A private home for children (no config, credentials or keyring of the user's) and a
    bytecode cache."""

    root: Path
    pycache: Path

    @classmethod
    def create(cls, parent: Path = WORK_ROOT) -> Workspace:
        parent.mkdir(parents=True, exist_ok=True)
        return cls(Path(tempfile.mkdtemp(prefix="run-", dir=parent)), parent / "pycache")

    @property
    def home(self) -> Path:
        return self.root / "home"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of every child: an isolated home and cached bytecode.

        Bytecode goes to a shared cache (as an installed package has it), so that start-up
        measures imports, not compiling sources, for dtrctl and the floors alike.
        """
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("DTRCTL_")
            and name not in DROPPED_VARIABLES
            and name.lower() not in PROXY_VARIABLES
        }
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            DTRCTL_CONFIG_DIR=str(self.home / ".config" / "dtrctl"),
            DOCKER_CONFIG=str(self.home / ".docker"),
            PYTHONPYCACHEPREFIX=str(self.pycache),
        )
        env.update(extra or {})
        return env


def credentials_env(url: str, user: tuple[str, str] = ADMIN) -> dict[str, str]:
    return {"DTRCTL_URL": url, "DTRCTL_USERNAME": user[0], "DTRCTL_PASSWORD": user[1]}


@dataclass(frozen=True)
class Completed:
    seconds: float
    returncode: int
    # Peak resident memory of the child alone (ru_maxrss, in KiB on Linux).
    max_rss_kib: int
    stdout: bytes
    stderr: bytes


def run_child(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    stdout_path: Path | None = None,
    expect: Sequence[int] = (0,),
) -> Completed:
    """Run one command; wall time from spawn to exit, and the child's own peak memory.

    stdout goes to `stdout_path` when given (large outputs), else it is kept in memory. An exit
    code outside `expect` is an error: a benchmark must not time a failure.
    """
    with contextlib.ExitStack() as files:
        err = files.enter_context(tempfile.TemporaryFile())
        target: IO[bytes] = (
            stdout_path.open("wb") if stdout_path is not None else tempfile.TemporaryFile()  # noqa: SIM115
        )
        out = files.enter_context(target)
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=dict(env), stdout=out, stderr=err)
        # wait4 gives this child's own resource use, not a maximum over all children.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
        out.seek(0)
        stdout = out.read() if stdout_path is None else b""
    if process.returncode not in expect:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {process.returncode}: {stderr.decode(errors='replace')}"
        )
    return Completed(seconds, process.returncode, usage.ru_maxrss, stdout, stderr)


@dataclass
class Samples:
    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def alternate(
    candidates: Mapping[str, Callable[[], float]], repetitions: int, warmup: int = 1
) -> dict[str, Samples]:
    """Run each candidate `repetitions` times, interleaved (the order rotating each round), so
    a slow spell of the machine falls on all of them alike; `warmup` rounds are not kept."""
    names = list(candidates)
    samples = {name: Samples(name) for name in names}
    for round_number in range(warmup + repetitions):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            seconds = candidates[name]()
            if round_number >= warmup:
                samples[name].seconds.append(seconds)
    return samples


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")


def machine_description() -> dict[str, str]:
    return {
        "CPU": _cpu_model(),
        "Cores": f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable)",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": _os_name(),
        "Date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    return platform.platform()


@dataclass(frozen=True)
class Profile:
    """How big and how often: `full` for RESULTS.md, `quick` for a look, `smoke` for tests."""

    name: str
    repetitions: int
    warmup: int
    importtime_runs: int
    network_delay_ms: float
    bulk_repositories: int
    bulk_latency_ms: int
    bulk_repetitions: int
    curl_repositories: int
    # Repository counts of the scale runs: a small baseline, then two sizes to compare.
    scale_sizes: tuple[int, int, int]


FULL = Profile(
    name="full",
    repetitions=11,
    warmup=2,
    importtime_runs=5,
    network_delay_ms=25,
    bulk_repositories=1000,
    bulk_latency_ms=20,
    bulk_repetitions=3,
    curl_repositories=1000,
    scale_sizes=(1000, 25_000, 100_000),
)
QUICK = Profile(
    name="quick",
    repetitions=5,
    warmup=1,
    importtime_runs=3,
    network_delay_ms=25,
    bulk_repositories=200,
    bulk_latency_ms=20,
    bulk_repetitions=1,
    curl_repositories=200,
    scale_sizes=(1000, 5000, 20_000),
)
SMOKE = Profile(
    name="smoke",
    repetitions=1,
    warmup=0,
    importtime_runs=1,
    network_delay_ms=5,
    bulk_repositories=10,
    bulk_latency_ms=5,
    bulk_repetitions=1,
    curl_repositories=3,
    scale_sizes=(20, 50, 100),
)
PROFILES = {profile.name: profile for profile in (FULL, QUICK, SMOKE)}
