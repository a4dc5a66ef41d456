"""Isolation for every test: no real HOME, config, docker credentials, keyring or DTRCTL_* env."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import keyring
import keyring.errors
import pytest
import respx.mocks
from hypothesis import settings
from keyring.backend import KeyringBackend

# The API excerpts: vendored under tests/contract/data (every clone runs the contract tests);
# ../shared beside the checkout (and beside CI's clone) holds the reference copies.
VENDORED_DATA = Path(__file__).resolve().parent / "contract" / "data"
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
DTR_SWAGGER = ("dtr-api", "dtr-2.7-swagger-excerpt.json")
HARBOR_SWAGGER = ("harbor-api", "harbor-2.13-swagger-excerpt.json")
SWAGGER_PATH = VENDORED_DATA / DTR_SWAGGER[1]


def load_swagger(
    excerpt: tuple[str, str], vendored_dir: Path = VENDORED_DATA, shared_dir: Path = SHARED_DIR
) -> dict[str, Any]:
    """The vendored excerpt, else ../shared's; under DTRCTL_REQUIRE_SWAGGER=1 (CI) a missing
    excerpt, or a vendored copy that differs from ../shared's, fails the test."""
    subdir, filename = excerpt
    vendored, shared = vendored_dir / filename, shared_dir / subdir / filename
    required = os.environ.get("DTRCTL_REQUIRE_SWAGGER") == "1"
    if vendored.is_file():
        if required and shared.is_file() and shared.read_bytes() != vendored.read_bytes():
            pytest.fail(f"{vendored} differs from {shared}: copy it again (tests/contract/data)")
        return json.loads(vendored.read_text(encoding="utf-8"))
    if shared.is_file():
        return json.loads(shared.read_text(encoding="utf-8"))
    if required:
        pytest.fail(f"the Swagger excerpt is required (DTRCTL_REQUIRE_SWAGGER=1): {vendored}")
    pytest.skip(f"the Swagger excerpt is neither in {vendored_dir} nor in {shared_dir}")


class DtrctlPoolMocker(respx.mocks.AbstractRequestMocker):
    """respx at dtrctl's connection pool (`dtrctl.client.pool`), where respx's default mocker
    patches httpcore's, which dtrctl no longer uses: every respx test then intercepts where the
    network would begin, with dtrctl's retries, bounds and logging above still in play. A
    request no route matches fails the test (respx's assert_all_mocked) instead of connecting.
    """

    name = "dtrctl"
    targets: ClassVar[list[str]] = ["dtrctl.client.pool.ConnectionPool"]
    target_methods: ClassVar[list[str]] = ["handle_request"]

    @classmethod
    def to_httpx_request(cls, **kwargs: Any) -> httpx.Request:
        return kwargs["request"]

    @classmethod
    def from_sync_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> httpx.Response:
        return httpx.Response(
            httpx_response.status_code,
            headers=httpx_response.headers.raw,
            stream=httpx_response.stream,
            extensions=httpx_response.extensions,
        )


# `respx.mock` with no `using=` takes this mocker (respx reads the default when a mock starts).
respx.mocks.DEFAULT_MOCKER = DtrctlPoolMocker.name


# Property tests: few examples for a quick local run ("dev"), the full counts in CI ("ci", chosen
# when CI is set, as CI sets CI=true). HYPOTHESIS_PROFILE=ci (or dev) chooses one by name.
settings.register_profile("ci", deadline=None)
settings.register_profile("dev", max_examples=20)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def hypothesis_examples(full: int) -> int:
    """A test's own example count: all of `full` under the ci profile, fewer under dev."""
    if settings.get_current_profile_name() == "ci":
        return full
    return min(full, settings().max_examples)


class InMemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in a dict, so tests never touch the machine's."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.passwords:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.passwords[(service, username)]


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        # DTRCTL_REQUIRE_* are CI's switches (skip → fail), not user settings.
        if name.startswith("DTRCTL_REQUIRE_"):
            continue
        # A proxy of the developer's or CI's would carry loopback test traffic elsewhere.
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
            continue
        if name.startswith("DTRCTL_") or name in (
            "DOCKER_AUTH_CONFIG",
            "NO_COLOR",
            "GITHUB_ACTIONS",
            "GITHUB_STEP_SUMMARY",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("DTRCTL_CONFIG_DIR", str(home / ".config" / "dtrctl"))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    # podman's auth files (dtrctl.auth.podman_config): none of the machine's.
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / ".run"))
    yield home


@pytest.fixture(autouse=True)
def dtrctl_logger_restored() -> Iterator[None]:
    """CLI runs in-process configure the `dtrctl` logger (handler, level, no propagation): put
    it back after each test, so the next one's caplog sees dtrctl's records."""
    logger = logging.getLogger("dtrctl")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[InMemoryKeyring]:
    previous = keyring.get_keyring()
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def swagger() -> dict[str, Any]:
    """The DTR Swagger excerpt (see load_swagger)."""
    return load_swagger(DTR_SWAGGER)


@pytest.fixture(scope="session")
def harbor_swagger() -> dict[str, Any]:
    """The Harbor Swagger excerpt (see load_swagger)."""
    return load_swagger(HARBOR_SWAGGER)


# `make test-fast` (DTRCTL_FAST_TIER=1): unit and CLI tests that open no socket (no server, in
# process or not); a test that does, or that starts dtrctl or a shell, is marked `processes` or
# lives in tests/integration.
FAST_TIER = os.environ.get("DTRCTL_FAST_TIER") == "1"


@pytest.fixture(autouse=True)
def fast_tier_opens_no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    if not FAST_TIER:
        return

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(
            "the fast tier opens no socket: mark the test "
            "`pytest.mark.processes` or move it to tests/integration"
        )

    for method in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, method, refuse)


# The developer's (or CI's) pip cache, read before the tests isolate HOME: the tests that install
# into a fresh virtualenv download each file once per machine, not once per run.
PIP_CACHE_DIR = os.environ.get("PIP_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip"
)
RELEASE_BUILD_TIMEOUT = 300


@pytest.fixture(scope="session")
def release_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make dist` writes (scripts/dist.py): the sdist, the wheel and SHA256SUMS."""
    import subprocess
    import sys

    work = tmp_path_factory.mktemp("release")
    out = work / "dist"
    root = Path(__file__).resolve().parents[1]
    completed = subprocess.run(
        [sys.executable, str(root / "scripts" / "dist.py"), "--outdir", str(out)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=RELEASE_BUILD_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out
