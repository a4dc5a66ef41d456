"""Fixtures for the sandbox tests: a running sandbox and HTTP clients for its accounts."""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import pytest

from dtrctl.sandbox.accounts import ADMIN
from dtrctl.sandbox.server import SandboxServer

ClientFactory = Callable[..., httpx.Client]


def require_skopeo() -> str:
    """The skopeo binary; skips the test without it unless DTRCTL_REQUIRE_SKOPEO=1 (then fails)."""
    binary = shutil.which("skopeo")
    if binary is None:
        if os.environ.get("DTRCTL_REQUIRE_SKOPEO") == "1":
            pytest.fail("skopeo is required (DTRCTL_REQUIRE_SKOPEO=1) but not on PATH")
        pytest.skip("skopeo is not installed")
    return binary


@pytest.fixture
def skopeo() -> str:
    return require_skopeo()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed="demo") as server:
        yield server


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    """One client TLS context for all clients: building one per client is slow."""
    return ssl.create_default_context()


@pytest.fixture
def client_for(sandbox: SandboxServer, tls_context: ssl.SSLContext) -> Iterator[ClientFactory]:
    """`client_for(("alice", password))`, or `client_for(None)` for an anonymous caller:
    an httpx client on the sandbox, closed after the test."""
    clients: list[httpx.Client] = []

    def make(auth: tuple[str, str] | None, **options: Any) -> httpx.Client:
        client = httpx.Client(base_url=sandbox.url, auth=auth, verify=tls_context, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def admin(client_for: ClientFactory) -> httpx.Client:
    return client_for((ADMIN.username, ADMIN.password))


@pytest.fixture
def registry_for(sandbox: SandboxServer, client_for: ClientFactory) -> Callable[..., httpx.Client]:
    """`registry_for(auth, "repository:ns/repo:pull,push", ...)`: a /v2 client with a bearer
    token from the sandbox's token server for those scopes."""

    def make(auth: tuple[str, str] | None, *scopes: str) -> httpx.Client:
        answer = client_for(auth).get(
            "/auth/token", params=[("service", sandbox.host_port), *(("scope", s) for s in scopes)]
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["token"]
        return client_for(None, headers={"Authorization": f"Bearer {token}"})

    return make


def _error_code(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "detail"}
    assert isinstance(error["message"], str) and error["message"]
    return error["code"]


@pytest.fixture
def error_code() -> Callable[[httpx.Response], str]:
    """The code of the single error in a DTR error envelope, checking the envelope's shape.

    A fixture rather than an importable helper: test directories have no __init__.py."""
    return _error_code


@pytest.fixture
def harbor() -> Iterator[SandboxServer]:
    """The Harbor flavor with the demo seed."""
    with SandboxServer(flavor="harbor", seed="demo") as server:
        yield server


@pytest.fixture
def harbor_for(harbor: SandboxServer) -> Iterator[ClientFactory]:
    """`harbor_for(("alice", password))` or `harbor_for(None)`: an httpx client on the Harbor
    flavor, keeping no cookies unless asked to (`cookies=...`), closed after the test."""
    clients: list[httpx.Client] = []

    def make(auth: tuple[str, str] | None, **options: Any) -> httpx.Client:
        options.setdefault("cookies", CookieJar(DefaultCookiePolicy(allowed_domains=[])))
        client = httpx.Client(base_url=harbor.url, auth=auth, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _harbor_error(response: httpx.Response) -> tuple[str, str]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert set(error) == {"code", "message"}
    return error["code"], error["message"]


@pytest.fixture
def harbor_error() -> Callable[[httpx.Response], tuple[str, str]]:
    """(code, message) of the single error in Harbor's envelope, checking its shape."""
    return _harbor_error
