"""The installed `dtrctl` against hostile servers on loopback: it ends in time, reads a bounded
amount, says what happened (exit 5, never a traceback) and keeps credentials to the registry.

Each run is timed with a deadline: a server that drips forever must not keep dtrctl past its
`--timeout` (and the window of its retries) plus the start-up of a process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration import hostile
from tests.integration.conftest import Run, free_port, run_dtrctl
from tests.integration.hostile import HostileServer

pytestmark = pytest.mark.integration

CREDENTIALS = {"DTRCTL_USERNAME": "alice", "DTRCTL_PASSWORD": "s3cret"}
ADMIN = {"DTRCTL_USERNAME": "admin", "DTRCTL_PASSWORD": "sandbox-admin-password"}
# Generous time to start the interpreter, load the CLI and exit, on a loaded CI machine.
PROCESS_ALLOWANCE = 5.0


def timed(*args: str, env: dict[str, str] | None = None) -> tuple[Run, float]:
    started = time.monotonic()
    result = run_dtrctl(*args, env=env or CREDENTIALS)
    return result, time.monotonic() - started


def assert_clean_failure(result: Run, code: int = 5) -> None:
    assert result.code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


@pytest.fixture
def dripping_body() -> Iterator[HostileServer]:
    with hostile.serving(hostile.drip_body()) as server:
        yield server


@pytest.fixture
def dripping_head() -> Iterator[HostileServer]:
    with hostile.serving(hostile.drip_head()) as server:
        yield server


class TestTimeIsBounded:
    def test_the_timeout_bounds_the_whole_answer_not_each_read(self, dripping_body):
        result, seconds = timed(
            *("--url", dripping_body.url, "--retries", "0", "--timeout", "2"),
            *("push-check", "library/nginx:9"),
        )
        assert_clean_failure(result)
        assert seconds < 2 + PROCESS_ALLOWANCE
        assert "timed out trying to read the access of user alice to library/nginx at " in (
            result.stdout
        )
        assert dripping_body.host_port in result.stdout

    def test_a_dripping_status_line_ends_at_the_timeout_too(self, dripping_head):
        result, seconds = timed(
            *("--url", dripping_head.url, "--retries", "0", "--timeout", "2"),
            *("repo", "show", "library/nginx"),
        )
        assert_clean_failure(result)
        assert seconds < 2 + PROCESS_ALLOWANCE
        assert (
            f"timed out trying to read repository library/nginx at {dripping_head.host_port}"
            in (result.stderr)
        )

    def test_retries_end_within_the_timeout_times_the_attempts(self, dripping_body):
        # 3 retries of 1 s: the request and its retries end within 4 s.
        result, seconds = timed(
            *("--url", dripping_body.url, "--retries", "3", "--timeout", "1"),
            *("repo", "show", "library/nginx"),
        )
        assert_clean_failure(result)
        assert seconds < 4 + PROCESS_ALLOWANCE
        assert len(dripping_body.requests) >= 2  # it did retry


class TestSizeIsBounded:
    def test_an_endless_body_stops_at_the_bound_of_its_kind(self):
        with hostile.serving(hostile.endless_chunks()) as server:
            result = run_dtrctl(
                "--url", server.url, "--retries", "0", "repo", "list", env=CREDENTIALS
            )
            assert_clean_failure(result)
            assert (
                f"the answer to GET {server.url}/api/v0/repositories is larger than 16 MiB "
                "while trying to list repositories"
            ) in result.stderr

    def test_a_body_dripped_after_a_huge_length_is_refused_at_once(self):
        answer = hostile.head(200, {"Content-Length": str(8 * 1024**3)}) + b"["
        with hostile.serving(hostile.fixed(answer)) as server:
            result, seconds = timed("--url", server.url, "repo", "show", "library/nginx")
            assert_clean_failure(result)
            assert "is larger than 16 MiB" in result.stderr
            assert seconds < PROCESS_ALLOWANCE
            assert len(server.requests) == 1  # too large is not asked again


class TestPagesAreBounded:
    def test_fresh_cursors_with_empty_pages_stop(self):
        behaviour = hostile.fresh_cursors(lambda number: [], key="repositories")
        with hostile.serving(behaviour) as server:
            result = run_dtrctl("--url", server.url, "repo", "list", env=CREDENTIALS)
            assert_clean_failure(result)
            assert (
                "the registry sent an empty page with a next page while trying to list repositories"
            ) in result.stderr
            assert len(server.requests) == 1


class TestNetworkMessages:
    def test_https_against_a_plain_http_server_says_so(self, sandbox: SandboxServer):
        https_url = sandbox.url.replace("http://", "https://")
        result = run_dtrctl("--url", https_url, "repo", "show", "engineering/api", env=ADMIN)
        assert_clean_failure(result)
        assert (
            f"the server at {sandbox.host_port} does not speak TLS: is the URL http://?"
            in result.stderr
        )
        assert "WRONG_VERSION_NUMBER" not in result.stderr
        assert "DNS" not in result.stderr

    def test_an_unreachable_server_is_named_with_its_port(self):
        port = free_port()
        result = run_dtrctl(
            *("--url", f"http://127.0.0.1:{port}", "--retries", "0"),
            *("repo", "show", "engineering/api"),
            env=CREDENTIALS,
        )
        assert_clean_failure(result)
        assert f"cannot reach 127.0.0.1:{port}: " in result.stderr


@pytest.fixture
def registry_and_token_server() -> Iterator[tuple[SandboxServer, SandboxServer]]:
    """A DTR whose registry names a token server on another port of the same host."""
    registry, token = SandboxServer(seed="demo").start(), SandboxServer(seed="demo").start()
    realm = f'Bearer realm="{token.url}/auth/token",service="dtr"'
    registry.state.inject_fault(
        "status", path_prefix="/v2/", count=1, status=401, headers={"WWW-Authenticate": realm}
    )
    yield registry, token
    registry.stop()
    token.stop()


def token_authorizations(token: SandboxServer) -> list[str | None]:
    asked = [r for r in token.state.requests if r.path == "/auth/token"]
    return [r.headers.get("authorization") for r in asked]


class TestTokenRealm:
    def test_a_token_server_on_another_origin_gets_no_credentials(self, registry_and_token_server):
        registry, token = registry_and_token_server
        # A registry whose token server is another host (as Docker Hub's is): a plain registry.
        plain = {**ADMIN, "DTRCTL_BACKEND": "registry"}
        result = run_dtrctl("--url", registry.url, "push-check", "engineering/web:v1", env=plain)
        assert token_authorizations(token) == [None]
        # Its anonymous token does not open the registry: an auth failure, never "free".
        assert_clean_failure(result, code=3)

    def test_a_token_server_the_user_allowed_gets_them(self, registry_and_token_server):
        registry, token = registry_and_token_server
        allowed = {
            **ADMIN,
            "DTRCTL_BACKEND": "registry",
            "DTRCTL_ALLOW_REALM_HOST": token.host_port,
        }
        run_dtrctl("--url", registry.url, "push-check", "engineering/web:v1", env=allowed)
        assert [(value or "").split(" ")[0] for value in token_authorizations(token)] == ["Basic"]
