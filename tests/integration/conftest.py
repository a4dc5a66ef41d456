"""Integration fixtures: the installed `dtrctl`, skopeo, the sandbox and Debian's docker-registry.

Tests that need a binary skip when it is missing, unless CI demands it: with
`DTRCTL_REQUIRE_SKOPEO=1` (or `DTRCTL_REQUIRE_REGISTRY=1`) a missing binary fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from dtrctl.sandbox.server import SandboxServer

REGISTRY_READY_SECONDS = 20.0
SUBPROCESS_TIMEOUT = 60


def require_binary(name: str, path: str | None, require_variable: str) -> str:
    """The binary's path; a skip when it is missing, a failure when `require_variable` is 1."""
    found = path if path and os.access(path, os.X_OK) else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed"
    if os.environ.get(require_variable) == "1":
        pytest.fail(f"{message}, and {require_variable}=1 demands it")
    pytest.skip(message)


def dtrctl_binary() -> str:
    """The console script installed next to this interpreter (`pip install -e .`)."""
    script = Path(sys.executable).with_name("dtrctl")
    if not script.exists():
        pytest.fail(f"{script} is missing: install the package with `pip install -e .`")
    return str(script)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def run_dtrctl(*args: str, env: Mapping[str, str], cwd: Path | None = None) -> Run:
    """Run the installed `dtrctl` with exactly `env` added to the (isolated) environment."""
    completed = subprocess.run(
        [dtrctl_binary(), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


@dataclass(frozen=True)
class Skopeo:
    path: str
    home: Path

    def copy(
        self,
        layout: Path,
        source_tag: str,
        destination: str,
        *,
        creds: str | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Push `layout:source_tag` to `docker://destination` over plain HTTP or unverified TLS."""
        credentials = ["--dest-creds", creds] if creds else []
        command = [
            *(self.path, "--insecure-policy", "copy", "--all", "--quiet"),
            *("--dest-tls-verify=false", *credentials),
            *(f"oci:{layout}:{source_tag}", f"docker://{destination}"),
        ]
        completed = subprocess.run(
            command,
            env={**os.environ, "HOME": str(self.home)},
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"skopeo copy to {destination} failed: {completed.stderr}")
        return completed


@pytest.fixture(scope="session")
def skopeo(tmp_path_factory: pytest.TempPathFactory) -> Skopeo:
    path = require_binary("skopeo", "/usr/bin/skopeo", "DTRCTL_REQUIRE_SKOPEO")
    return Skopeo(path, tmp_path_factory.mktemp("skopeo-home"))


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(seed="demo").start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PlainRegistry:
    url: str
    host_port: str
    credentials: tuple[str, str] | None


def _registry_config(root: Path, port: int, htpasswd: Path | None) -> str:
    auth = f"auth:\n  htpasswd:\n    realm: dtrctl-test\n    path: {htpasswd}\n" if htpasswd else ""
    return (
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"{auth}"
    )


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll `/v2/` until the registry answers (200, or 401 behind htpasswd)."""
    deadline = time.monotonic() + REGISTRY_READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"docker-registry exited early: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=1):
                return
        except urllib.error.HTTPError as error:
            if error.code == 401:
                return
        except OSError:
            pass
        # Polling interval between readiness probes, not a timing assumption.
        time.sleep(0.05)
    raise AssertionError(f"docker-registry did not answer within {REGISTRY_READY_SECONDS}s")


@pytest.fixture
def start_registry(tmp_path: Path) -> Iterator[object]:
    """Start Debian's docker-registry on a free loopback port; with htpasswd when given users."""
    binary = require_binary(
        "docker-registry", "/usr/bin/docker-registry", "DTRCTL_REQUIRE_REGISTRY"
    )
    processes: list[subprocess.Popen[bytes]] = []

    def start(credentials: tuple[str, str] | None = None) -> PlainRegistry:
        root = tmp_path / f"registry-{len(processes)}"
        root.mkdir()
        htpasswd = None
        if credentials is not None:
            import bcrypt

            hashed = bcrypt.hashpw(credentials[1].encode(), bcrypt.gensalt(rounds=4)).decode()
            htpasswd = root / "htpasswd"
            htpasswd.write_text(f"{credentials[0]}:{hashed}\n")
        port = free_port()
        config = root / "config.yml"
        config.write_text(_registry_config(root, port, htpasswd))
        log = root / "registry.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=sink, stderr=subprocess.STDOUT
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_until_ready(process, url, log)
        return PlainRegistry(url, f"127.0.0.1:{port}", credentials)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
