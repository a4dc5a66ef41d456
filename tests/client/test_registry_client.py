"""The /v2 client: exact requests of the token flow and manifest HEAD, and never failing open."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from dtrctl.client.registry import MANIFEST_ACCEPT, RegistryClient, parse_challenge
from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.errors import (
    AuthenticationFailed,
    InvalidResponse,
    PermissionDenied,
    RequestTimeout,
    ServerError,
)
from dtrctl.reference import RepositoryName

BASE = "https://dtr.example.com"
REALM = f"{BASE}/auth/token"
CHALLENGE = f'Bearer realm="{REALM}",service="dtr.example.com"'
APP = RepositoryName("engineering", "api")
DIGEST = "sha256:" + "1" * 64
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REGISTRY_HEADERS = {"Docker-Distribution-API-Version": "registry/2.0"}
MANIFEST_URL = f"{BASE}/v2/engineering/api/manifests/1.0"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    client = build_http_client(TransportOptions(retries=0, timeout=5))
    yield client
    client.close()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def bearer_registry(mock: respx.MockRouter, token_body: object = None) -> respx.Route:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": CHALLENGE})
    return mock.get(REALM).respond(200, json=token_body or {"token": "tok-1", "expires_in": 300})


def test_token_flow_and_manifest_head_send_exactly_what_the_registry_expects(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    token = bearer_registry(mock)
    head = mock.head(MANIFEST_URL).respond(
        200,
        headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_INDEX, **REGISTRY_HEADERS},
    )
    client = RegistryClient(http, BASE, ("alice", "s3cret"))

    found = client.head_manifest(APP, "1.0")

    assert found is not None
    assert (found.digest, found.is_index) == (DIGEST, True)
    ping = mock.calls[0].request
    assert (ping.method, ping.url.path, "authorization" in ping.headers) == ("GET", "/v2/", False)
    token_request = token.calls.last.request
    assert dict(token_request.url.params) == {
        "service": "dtr.example.com",
        "scope": "repository:engineering/api:pull",
    }
    assert token_request.headers["Authorization"] == basic("alice", "s3cret")
    head_request = head.calls.last.request
    assert head_request.method == "HEAD"
    assert head_request.headers["Authorization"] == "Bearer tok-1"
    assert head_request.headers["Accept"] == MANIFEST_ACCEPT
    accepted = [item.strip() for item in head_request.headers["Accept"].split(",")]
    assert accepted == [
        OCI_INDEX,
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]


def test_anonymous_token_request_carries_no_credentials(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    token = bearer_registry(mock, {"access_token": "anon"})
    head = mock.head(MANIFEST_URL).respond(200, headers={"Docker-Content-Digest": DIGEST})
    client = RegistryClient(http, BASE)

    assert client.head_manifest(APP, "1.0") is not None

    assert "authorization" not in token.calls.last.request.headers
    assert head.calls.last.request.headers["Authorization"] == "Bearer anon"


def test_one_ping_and_one_token_per_scope(http: httpx.Client, mock: respx.MockRouter) -> None:
    token = bearer_registry(mock)
    mock.head(url__regex=rf"{BASE}/v2/.*/manifests/.*").respond(
        200, headers={"Docker-Content-Digest": DIGEST}
    )
    client = RegistryClient(http, BASE, ("alice", "s3cret"))
    web = RepositoryName("engineering", "web")

    for name, tag in ((APP, "1.0"), (APP, "1.1"), (APP, "latest"), (web, "1.0"), (web, "2.0")):
        client.head_manifest(name, tag)

    scopes = [call.request.url.params["scope"] for call in token.calls]
    assert scopes == ["repository:engineering/api:pull", "repository:engineering/web:pull"]
    pings = [call for call in mock.calls if call.request.url.path == "/v2/"]
    assert len(pings) == 1


def test_basic_challenge_sends_basic_credentials(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": 'Basic realm="Registry"'})
    head = mock.head(MANIFEST_URL).respond(200, headers={"Docker-Content-Digest": DIGEST})
    client = RegistryClient(http, BASE, ("ci", "pw"))

    assert client.head_manifest(APP, "1.0") is not None
    assert head.calls.last.request.headers["Authorization"] == basic("ci", "pw")


def test_basic_challenge_without_credentials_is_an_auth_failure(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": 'Basic realm="Registry"'})
    head = mock.head(MANIFEST_URL)
    with pytest.raises(AuthenticationFailed):
        RegistryClient(http, BASE).head_manifest(APP, "1.0")
    assert not head.called


def test_open_registry_gets_no_authorization(http: httpx.Client, mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/v2/").respond(200, json={})
    head = mock.head(MANIFEST_URL).respond(200, headers={"Docker-Content-Digest": DIGEST})
    assert RegistryClient(http, BASE, ("alice", "pw")).head_manifest(APP, "1.0") is not None
    assert "authorization" not in head.calls.last.request.headers


def test_registry_404_means_absent(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    mock.head(MANIFEST_URL).respond(404, headers=REGISTRY_HEADERS)
    get = mock.get(MANIFEST_URL)
    assert RegistryClient(http, BASE).head_manifest(APP, "1.0") is None
    assert not get.called


@pytest.mark.parametrize("code", ["MANIFEST_UNKNOWN", "NAME_UNKNOWN"])
def test_bare_404_is_absent_only_when_the_get_shows_the_registrys_error(
    http: httpx.Client, mock: respx.MockRouter, code: str
) -> None:
    bearer_registry(mock)
    mock.head(MANIFEST_URL).respond(404)
    get = mock.get(MANIFEST_URL).respond(
        404, json={"errors": [{"code": code, "message": "unknown", "detail": {}}]}
    )
    assert RegistryClient(http, BASE).head_manifest(APP, "1.0") is None
    assert get.calls.last.request.headers["Accept"] == MANIFEST_ACCEPT


def test_404_from_a_proxy_is_never_absent(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    mock.head(MANIFEST_URL).respond(404)
    mock.get(MANIFEST_URL).respond(404, html="<html><body>404 Not Found</body></html>")
    with pytest.raises(InvalidResponse) as raised:
        RegistryClient(http, BASE).head_manifest(APP, "1.0")
    assert raised.value.exit_code == 5


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, PermissionDenied), (500, ServerError), (503, ServerError), (400, InvalidResponse)],
)
def test_errors_on_the_manifest_are_never_absent(
    http: httpx.Client, mock: respx.MockRouter, status: int, error: type[Exception]
) -> None:
    bearer_registry(mock)
    mock.head(MANIFEST_URL).respond(status)
    with pytest.raises(error):
        RegistryClient(http, BASE, ("alice", "pw")).head_manifest(APP, "1.0")


def test_401_with_a_granted_token_is_a_permission_problem(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    bearer_registry(mock)
    mock.head(MANIFEST_URL).respond(401, headers={"WWW-Authenticate": CHALLENGE})
    with pytest.raises(PermissionDenied, match=r"user bob may not read tag engineering/api:1\.0"):
        RegistryClient(http, BASE, ("bob", "pw")).head_manifest(APP, "1.0")


def test_rejected_credentials_at_the_token_server(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": CHALLENGE})
    mock.get(REALM).respond(401, json={"errors": [{"code": "UNAUTHORIZED", "message": "no"}]})
    head = mock.head(MANIFEST_URL)
    with pytest.raises(AuthenticationFailed, match="credentials of user alice"):
        RegistryClient(http, BASE, ("alice", "wrong")).head_manifest(APP, "1.0")
    assert not head.called


@pytest.mark.parametrize("body", [{"expires_in": 300}, {"token": ""}, ["tok"]])
def test_token_answer_without_a_token_is_garbled(
    http: httpx.Client, mock: respx.MockRouter, body: object
) -> None:
    bearer_registry(mock, body)
    with pytest.raises(InvalidResponse):
        RegistryClient(http, BASE).head_manifest(APP, "1.0")


def test_plain_http_realm_for_an_https_registry_is_refused(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(
        401, headers={"WWW-Authenticate": 'Bearer realm="http://dtr.example.com/auth/token"'}
    )
    token = mock.get("http://dtr.example.com/auth/token")
    with pytest.raises(InvalidResponse, match="plain-http token realm"):
        RegistryClient(http, BASE, ("alice", "pw")).head_manifest(APP, "1.0")
    assert not token.called


def test_no_registry_api_at_the_url(http: httpx.Client, mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/v2/").respond(404, text="404 page not found")
    with pytest.raises(InvalidResponse, match="does not serve the registry API"):
        RegistryClient(http, BASE).head_manifest(APP, "1.0")


def test_timeout_is_never_absent(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    mock.head(MANIFEST_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RequestTimeout):
        RegistryClient(http, BASE).head_manifest(APP, "1.0")


def test_malformed_digest_header_is_garbled(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    mock.head(MANIFEST_URL).respond(200, headers={"Docker-Content-Digest": "sha256:nothex"})
    with pytest.raises(InvalidResponse, match="invalid digest"):
        RegistryClient(http, BASE).head_manifest(APP, "1.0")


def manifest_bytes(config_digest: str = DIGEST) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": 2,
            },
            "layers": [],
        }
    ).encode()


def test_head_without_digest_header_falls_back_to_the_manifest_bytes(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    bearer_registry(mock)
    body = manifest_bytes()
    mock.head(MANIFEST_URL).respond(200, headers={"Content-Type": OCI_MANIFEST})
    mock.get(MANIFEST_URL).respond(200, content=body, headers={"Content-Type": OCI_MANIFEST})
    found = RegistryClient(http, BASE).head_manifest(APP, "1.0")
    assert found is not None
    assert found.digest == "sha256:" + hashlib.sha256(body).hexdigest()


def test_get_manifest_reads_the_config_digest(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    body = manifest_bytes("sha256:" + "7" * 64)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    get = mock.get(f"{BASE}/v2/engineering/api/manifests/{digest}").respond(
        200, content=body, headers={"Docker-Content-Digest": digest, "Content-Type": OCI_MANIFEST}
    )
    manifest = RegistryClient(http, BASE).get_manifest(APP, digest)
    assert manifest is not None
    assert (manifest.is_index, manifest.config_digest) == (False, "sha256:" + "7" * 64)
    assert get.calls.last.request.headers["Authorization"] == "Bearer tok-1"


def test_manifest_that_does_not_match_its_digest_is_garbled(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    bearer_registry(mock)
    mock.get(MANIFEST_URL).respond(
        200, content=manifest_bytes(), headers={"Docker-Content-Digest": DIGEST}
    )
    with pytest.raises(InvalidResponse, match="does not match its digest"):
        RegistryClient(http, BASE).get_manifest(APP, "1.0")


@pytest.mark.parametrize(
    ("header", "scheme", "realm", "service"),
    [
        (CHALLENGE, "bearer", REALM, "dtr.example.com"),
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/nginx:pull"',
            "bearer",
            "https://auth.docker.io/token",
            "registry.docker.io",
        ),
        ('Basic realm="basic-realm"', "basic", "basic-realm", None),
        ("bearer realm=https://r/token", "bearer", "https://r/token", None),
    ],
)
def test_parse_challenge(header: str, scheme: str, realm: str, service: str | None) -> None:
    challenge = parse_challenge(header)
    assert challenge is not None
    assert (challenge.scheme, challenge.realm, challenge.service) == (scheme, realm, service)


def test_unknown_challenge_is_garbled(http: httpx.Client, mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": "Negotiate"})
    with pytest.raises(InvalidResponse, match="without a Basic or Bearer challenge"):
        RegistryClient(http, BASE).head_manifest(APP, "1.0")


def test_failures_are_not_repeated_for_every_tag(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": CHALLENGE})
    token = mock.get(REALM).respond(401)
    client = RegistryClient(http, BASE, ("alice", "wrong"))
    for tag in ("1.0", "1.1", "latest"):
        with pytest.raises(AuthenticationFailed):
            client.head_manifest(APP, tag)
    assert token.call_count == 1


def test_unreachable_registry_is_pinged_once(http: httpx.Client, mock: respx.MockRouter) -> None:
    ping = mock.get(f"{BASE}/v2/").respond(503)
    client = RegistryClient(http, BASE)
    for tag in ("1.0", "1.1"):
        with pytest.raises(ServerError):
            client.head_manifest(APP, tag)
    assert ping.call_count == 1
