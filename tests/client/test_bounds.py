"""Bounds on what a server can make dtrctl read: answer sizes per kind, compressed or not, pages
of a listing, and where the registry's credentials may go for a token."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from dtrctl.backends.dtr.api import DtrClient
from dtrctl.backends.dtr.wire import repository_from_api
from dtrctl.client import limits
from dtrctl.client.ca import fetch_ca_certificate
from dtrctl.client.distribution import RegistryClient
from dtrctl.client.limits import (
    API_ANSWER_MAX_BYTES,
    CA_PEM_MAX_BYTES,
    ERROR_BODY_MAX_BYTES,
    MANIFEST_MAX_BYTES,
    TOKEN_MAX_BYTES,
)
from dtrctl.client.registry_auth import TokenRealmPolicy
from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.errors import (
    DtrctlError,
    ExitCode,
    InvalidResponse,
    RequestTimeout,
    ResponseTooLarge,
)
from dtrctl.reference import RepositoryName
from tests.cli.conftest import repository_body
from tests.integration import hostile

BASE = "https://dtr.example.com"
REALM = f"{BASE}/auth/token"
APP = RepositoryName("engineering", "api")
CREDENTIALS = ("alice", "s3cret")
BASIC = "Basic " + base64.b64encode(b"alice:s3cret").decode()
MANIFEST_UNKNOWN = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}
REGISTRY_HEADERS = {"Docker-Distribution-API-Version": "registry/2.0"}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with build_http_client(TransportOptions(retries=0, timeout=5)) as client:
        yield client


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def padded_json(size: int) -> bytes:
    """A valid JSON object of `size` bytes."""
    return b'{"pad": "' + b" " * (size - 11) + b'"}'


def bearer_registry(mock: respx.MockRouter, realm: str = REALM) -> respx.Route:
    mock.get(f"{BASE}/v2/").respond(
        401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="dtr"'}
    )
    return mock.get(realm).respond(200, json={"token": "tok-1"})


class TestAnswerSizes:
    def test_an_api_answer_over_the_bound_is_refused(self, http, mock):
        mock.get(f"{BASE}/api/v0/repositories/engineering/api").respond(
            200, content=padded_json(API_ANSWER_MAX_BYTES + 1)
        )
        with pytest.raises(ResponseTooLarge) as caught:
            DtrClient(http, BASE, CREDENTIALS).get_repository(APP)
        assert caught.value.exit_code == ExitCode.UNAVAILABLE
        assert caught.value.message == (
            f"the answer to GET {BASE}/api/v0/repositories/engineering/api is larger than "
            "16 MiB while trying to read repository engineering/api"
        )

    def test_an_api_answer_within_the_bound_is_read(self, http, mock):
        mock.get(f"{BASE}/api/v0/repositories/engineering/api").respond(
            200, json={**repository_body(), "pad": " " * (API_ANSWER_MAX_BYTES - 1000)}
        )
        assert DtrClient(http, BASE, CREDENTIALS).get_repository(APP).name == "api"

    def test_a_compressed_answer_is_bounded_once_decompressed(self, http, mock):
        bomb = gzip.compress(padded_json(API_ANSWER_MAX_BYTES + 1))
        assert len(bomb) < 100_000
        mock.get(f"{BASE}/api/v0/repositories/engineering/api").respond(
            200, content=bomb, headers={"Content-Encoding": "gzip"}
        )
        with pytest.raises(ResponseTooLarge, match="larger than 16 MiB"):
            DtrClient(http, BASE, CREDENTIALS).get_repository(APP)

    def test_a_compressed_answer_within_the_bound_is_decoded(self, http, mock):
        route = mock.get(f"{BASE}/api/v0/repositories/engineering/api").respond(
            200,
            content=gzip.compress(json.dumps(repository_body()).encode()),
            headers={"Content-Encoding": "gzip"},
        )
        assert DtrClient(http, BASE, CREDENTIALS).get_repository(APP).name == "api"
        assert route.calls.last.request.headers["Accept-Encoding"] == "gzip, deflate"

    def test_a_manifest_over_its_bound_is_refused(self, http, mock):
        mock.get(f"{BASE}/v2/").respond(200)
        mock.get(f"{BASE}/v2/engineering/api/manifests/1.0").respond(
            200, content=padded_json(MANIFEST_MAX_BYTES + 1), headers=REGISTRY_HEADERS
        )
        with pytest.raises(ResponseTooLarge, match="larger than 4 MiB"):
            RegistryClient(http, BASE).get_manifest(APP, "1.0")

    def test_a_token_answer_over_its_bound_is_refused(self, http, mock):
        mock.get(f"{BASE}/v2/").respond(
            401, headers={"WWW-Authenticate": f'Bearer realm="{REALM}",service="dtr"'}
        )
        mock.get(REALM).respond(200, content=padded_json(TOKEN_MAX_BYTES + 1))
        with pytest.raises(ResponseTooLarge, match="larger than 1 MiB"):
            RegistryClient(http, BASE, CREDENTIALS).get_manifest(APP, "1.0")

    def test_an_error_body_over_its_bound_is_refused(self, http, mock):
        mock.get(f"{BASE}/api/v0/repositories/engineering/api").respond(
            404, content=padded_json(ERROR_BODY_MAX_BYTES + 1)
        )
        with pytest.raises(ResponseTooLarge, match="larger than 1 MiB"):
            DtrClient(http, BASE, CREDENTIALS).get_repository(APP)

    def test_a_ca_over_its_bound_is_refused(self, mock):
        mock.get(f"{BASE}/ca").respond(200, content=b"-" * (CA_PEM_MAX_BYTES + 1))
        with pytest.raises(ResponseTooLarge, match="larger than 1 MiB"):
            fetch_ca_certificate(BASE, TransportOptions(retries=0))


def page(*names: str, cursor: str | None = None) -> httpx.Response:
    headers = {"X-Next-Page-Start": cursor} if cursor else {}
    body = {"repositories": [repository_body(name=name) for name in names]}
    return httpx.Response(200, json=body, headers=headers)


class TestPagination:
    def test_a_page_without_items_but_with_a_next_page_is_refused(self, http, mock):
        mock.get(f"{BASE}/api/v0/repositories").mock(
            side_effect=[page("a", cursor="1"), page(cursor="2"), page("b")]
        )
        with pytest.raises(InvalidResponse, match="empty page with a next page"):
            list(DtrClient(http, BASE, CREDENTIALS).list_repositories())

    def test_a_listing_stops_at_the_page_bound(self, http, mock, monkeypatch):
        monkeypatch.setattr(limits, "MAX_PAGES", 5)
        pages = [page(f"r{n}", cursor=f"c{n}") for n in range(10)] + [page("last")]
        route = mock.get(f"{BASE}/api/v0/repositories").mock(side_effect=pages)
        with pytest.raises(InvalidResponse, match="more than 5 pages"):
            list(DtrClient(http, BASE, CREDENTIALS).list_repositories())
        assert route.call_count == 5

    def test_a_repeated_cursor_is_refused(self, http, mock):
        pages = [page("a", cursor="x"), page("b", cursor="y"), page("c", cursor="x")]
        mock.get(f"{BASE}/api/v0/repositories").mock(side_effect=[*pages, page("d")])
        with pytest.raises(InvalidResponse, match="repeated a page cursor"):
            list(DtrClient(http, BASE, CREDENTIALS).list_repositories())


class TestTokenRealm:
    def test_the_registrys_own_origin_gets_the_credentials(self, http, mock):
        token = bearer_registry(mock)
        mock.get(f"{BASE}/v2/engineering/api/manifests/1.0").respond(404, json=MANIFEST_UNKNOWN)
        RegistryClient(http, BASE, CREDENTIALS).get_manifest(APP, "1.0")
        assert token.calls.last.request.headers["Authorization"] == BASIC

    @pytest.mark.parametrize(
        "realm",
        [
            "https://auth.example.com/token",
            "https://dtr.example.com:8443/auth/token",
            "https://evil.dtr.example.com/auth/token",
        ],
    )
    def test_another_origin_is_asked_anonymously(self, http, mock, caplog, realm):
        token = bearer_registry(mock, realm)
        mock.get(f"{BASE}/v2/engineering/api/manifests/1.0").respond(404, json=MANIFEST_UNKNOWN)
        with caplog.at_level(logging.DEBUG, logger="dtrctl"):
            RegistryClient(http, BASE, CREDENTIALS).get_manifest(APP, "1.0")
        assert "Authorization" not in token.calls.last.request.headers
        assert f"not sending the credentials of user alice to the token realm {realm}" in (
            caplog.text
        )
        assert "s3cret" not in caplog.text

    @pytest.mark.parametrize("allowed", ["auth.example.com", "AUTH.example.com:443"])
    def test_a_host_the_user_allowed_gets_the_credentials(self, http, mock, allowed):
        token = bearer_registry(mock, "https://auth.example.com/token")
        mock.get(f"{BASE}/v2/engineering/api/manifests/1.0").respond(404, json=MANIFEST_UNKNOWN)
        policy = TokenRealmPolicy.from_environment({"DTRCTL_ALLOW_REALM_HOST": f"x.test,{allowed}"})
        client = RegistryClient(http, BASE, CREDENTIALS, realm_policy=policy)
        client.get_manifest(APP, "1.0")
        assert token.calls.last.request.headers["Authorization"] == BASIC

    def test_the_allowed_hosts_come_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("DTRCTL_ALLOW_REALM_HOST", " auth.example.com , login.test:8443,")
        policy = TokenRealmPolicy.from_environment()
        assert policy.allowed_hosts == frozenset({"auth.example.com", "login.test:8443"})
        assert policy.allows(BASE, "https://login.test:8443/token")
        assert not policy.allows(BASE, "https://login.test/token")


class TestDeadline:
    """Against a loopback server that drips its answer: each call ends by its timeout."""

    TIMEOUT = 1.0
    # Time for the client itself (connect, parse) beyond the timeout.
    ALLOWANCE = 2.0

    @pytest.fixture
    def dripping(self) -> Iterator[str]:
        with hostile.serving(hostile.drip_body(interval=0.05)) as server:
            yield server.url

    def timed_error(self, call: Callable[[DtrClient], object], url: str) -> DtrctlError:
        options = TransportOptions(retries=0, timeout=self.TIMEOUT)
        started = time.monotonic()
        with build_http_client(options) as client, pytest.raises(DtrctlError) as caught:
            call(DtrClient(client, url, CREDENTIALS))
        assert time.monotonic() - started < self.TIMEOUT + self.ALLOWANCE
        return caught.value

    def test_a_read_ends_by_its_timeout(self, dripping):
        error = self.timed_error(lambda dtr: dtr.get_repository(APP), dripping)
        assert isinstance(error, RequestTimeout)

    def test_the_answer_to_a_write_ends_by_its_timeout(self, dripping):
        repository = repository_from_api(repository_body())
        error = self.timed_error(lambda dtr: dtr.create_repository(repository), dripping)
        assert isinstance(error, RequestTimeout)
