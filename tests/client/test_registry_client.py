"""The /v2 client: exact requests of the token flow and the manifest GET, and never failing open."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator

import httpx
import pytest
import respx

from dtrctl.client.bounded import REQUEST_DEADLINE
from dtrctl.client.distribution import MANIFEST_ACCEPT, OPEN_CONNECTION_SECONDS, RegistryClient
from dtrctl.client.registry_auth import Challenge, parse_challenge
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


def manifest_bytes(config_digest: str = DIGEST, media_type: str = OCI_MANIFEST) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": 2,
            },
            "layers": [],
        }
    ).encode()


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


BODY = manifest_bytes()
INDEX_BODY = manifest_bytes(media_type=OCI_INDEX)
UNKNOWN = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {}}]}


def served(body: bytes = BODY, media_type: str = OCI_MANIFEST) -> httpx.Response:
    headers = {"Docker-Content-Digest": digest_of(body), "Content-Type": media_type}
    return httpx.Response(200, content=body, headers={**headers, **REGISTRY_HEADERS})


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


def test_token_flow_and_manifest_get_send_exactly_what_the_registry_expects(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    token = bearer_registry(mock)
    head = mock.get(MANIFEST_URL).mock(return_value=served(INDEX_BODY, OCI_INDEX))
    client = RegistryClient(http, BASE, ("alice", "s3cret"))

    found = client.get_manifest(APP, "1.0")

    assert found is not None
    assert (found.digest, found.is_index) == (digest_of(INDEX_BODY), True)
    ping = mock.calls[0].request
    assert (ping.method, ping.url.path, "authorization" in ping.headers) == ("GET", "/v2/", False)
    token_request = token.calls.last.request
    assert dict(token_request.url.params) == {
        "service": "dtr.example.com",
        "scope": "repository:engineering/api:pull",
    }
    assert token_request.headers["Authorization"] == basic("alice", "s3cret")
    head_request = head.calls.last.request
    assert head_request.method == "GET"
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
    head = mock.get(MANIFEST_URL).mock(return_value=served())
    client = RegistryClient(http, BASE)

    assert client.get_manifest(APP, "1.0") is not None

    assert "authorization" not in token.calls.last.request.headers
    assert head.calls.last.request.headers["Authorization"] == "Bearer anon"


def test_one_ping_and_one_token_per_scope(http: httpx.Client, mock: respx.MockRouter) -> None:
    token = bearer_registry(mock)
    mock.get(url__regex=rf"{BASE}/v2/.+/manifests/.*").mock(return_value=served())
    client = RegistryClient(http, BASE, ("alice", "s3cret"))
    web = RepositoryName("engineering", "web")

    for name, tag in ((APP, "1.0"), (APP, "1.1"), (APP, "latest"), (web, "1.0"), (web, "2.0")):
        client.get_manifest(name, tag)

    scopes = [call.request.url.params["scope"] for call in token.calls]
    assert scopes == ["repository:engineering/api:pull", "repository:engineering/web:pull"]
    pings = [call for call in mock.calls if call.request.url.path == "/v2/"]
    assert len(pings) == 1


def test_basic_challenge_sends_basic_credentials(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": 'Basic realm="Registry"'})
    head = mock.get(MANIFEST_URL).mock(return_value=served())
    client = RegistryClient(http, BASE, ("ci", "pw"))

    assert client.get_manifest(APP, "1.0") is not None
    assert head.calls.last.request.headers["Authorization"] == basic("ci", "pw")


def test_basic_challenge_without_credentials_is_an_auth_failure(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": 'Basic realm="Registry"'})
    head = mock.get(MANIFEST_URL)
    with pytest.raises(AuthenticationFailed):
        RegistryClient(http, BASE).get_manifest(APP, "1.0")
    assert not head.called


def test_open_registry_gets_no_authorization(http: httpx.Client, mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/v2/").respond(200, json={})
    head = mock.get(MANIFEST_URL).mock(return_value=served())
    assert RegistryClient(http, BASE, ("alice", "pw")).get_manifest(APP, "1.0") is not None
    assert "authorization" not in head.calls.last.request.headers


@pytest.mark.parametrize("code", ["MANIFEST_UNKNOWN", "NAME_UNKNOWN"])
def test_404_with_the_registrys_error_code_means_absent_in_one_request(
    http: httpx.Client, mock: respx.MockRouter, code: str
) -> None:
    bearer_registry(mock)
    get = mock.get(MANIFEST_URL).respond(
        404, json={"errors": [{"code": code, "message": "unknown", "detail": {}}]}
    )
    assert RegistryClient(http, BASE).get_manifest(APP, "1.0") is None
    assert get.call_count == 1
    assert get.calls.last.request.headers["Accept"] == MANIFEST_ACCEPT


def test_404_without_the_registrys_error_body_is_never_absent(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    # The API version header alone proves nothing: a proxy may copy it onto its own 404.
    bearer_registry(mock)
    mock.get(MANIFEST_URL).respond(404, headers=REGISTRY_HEADERS)
    with pytest.raises(InvalidResponse, match="without the registry's error code"):
        RegistryClient(http, BASE).get_manifest(APP, "1.0")


def test_404_from_a_proxy_is_never_absent(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    mock.get(MANIFEST_URL).respond(404, html="<html><body>404 Not Found</body></html>")
    with pytest.raises(InvalidResponse) as raised:
        RegistryClient(http, BASE).get_manifest(APP, "1.0")
    assert raised.value.exit_code == 5


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, PermissionDenied), (500, ServerError), (503, ServerError), (400, InvalidResponse)],
)
def test_errors_on_the_manifest_are_never_absent(
    http: httpx.Client, mock: respx.MockRouter, status: int, error: type[Exception]
) -> None:
    bearer_registry(mock)
    mock.get(MANIFEST_URL).respond(status)
    with pytest.raises(error):
        RegistryClient(http, BASE, ("alice", "pw")).get_manifest(APP, "1.0")


def test_401_with_a_granted_token_is_a_permission_problem(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    bearer_registry(mock)
    mock.get(MANIFEST_URL).respond(401, headers={"WWW-Authenticate": CHALLENGE})
    with pytest.raises(
        PermissionDenied, match=r"user bob may not read manifest engineering/api:1\.0"
    ):
        RegistryClient(http, BASE, ("bob", "pw")).get_manifest(APP, "1.0")


def test_rejected_credentials_at_the_token_server(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": CHALLENGE})
    mock.get(REALM).respond(401, json={"errors": [{"code": "UNAUTHORIZED", "message": "no"}]})
    head = mock.get(MANIFEST_URL)
    with pytest.raises(AuthenticationFailed, match="credentials of user alice"):
        RegistryClient(http, BASE, ("alice", "wrong")).get_manifest(APP, "1.0")
    assert not head.called


@pytest.mark.parametrize("body", [{"expires_in": 300}, {"token": ""}, ["tok"]])
def test_token_answer_without_a_token_is_garbled(
    http: httpx.Client, mock: respx.MockRouter, body: object
) -> None:
    bearer_registry(mock, body)
    with pytest.raises(InvalidResponse):
        RegistryClient(http, BASE).get_manifest(APP, "1.0")


def test_plain_http_realm_for_an_https_registry_is_refused(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(
        401, headers={"WWW-Authenticate": 'Bearer realm="http://dtr.example.com/auth/token"'}
    )
    token = mock.get("http://dtr.example.com/auth/token")
    with pytest.raises(InvalidResponse, match="plain-http token realm"):
        RegistryClient(http, BASE, ("alice", "pw")).get_manifest(APP, "1.0")
    assert not token.called


def test_no_registry_api_at_the_url(http: httpx.Client, mock: respx.MockRouter) -> None:
    mock.get(f"{BASE}/v2/").respond(404, text="404 page not found")
    with pytest.raises(InvalidResponse, match="does not serve the registry API"):
        RegistryClient(http, BASE).get_manifest(APP, "1.0")


def test_timeout_is_never_absent(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    mock.get(MANIFEST_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RequestTimeout):
        RegistryClient(http, BASE).get_manifest(APP, "1.0")


def test_malformed_digest_header_is_garbled(http: httpx.Client, mock: respx.MockRouter) -> None:
    bearer_registry(mock)
    mock.get(MANIFEST_URL).respond(
        200, content=BODY, headers={"Docker-Content-Digest": "sha256:nothex"}
    )
    with pytest.raises(InvalidResponse, match="invalid digest"):
        RegistryClient(http, BASE).get_manifest(APP, "1.0")


def test_manifest_without_digest_header_is_named_by_its_bytes(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    bearer_registry(mock)
    mock.get(MANIFEST_URL).respond(200, content=BODY, headers={"Content-Type": OCI_MANIFEST})
    found = RegistryClient(http, BASE).get_manifest(APP, "1.0")
    assert found is not None
    assert found.digest == digest_of(BODY)


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
        RegistryClient(http, BASE).get_manifest(APP, "1.0")


def test_failures_are_not_repeated_for_every_tag(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": CHALLENGE})
    token = mock.get(REALM).respond(401)
    client = RegistryClient(http, BASE, ("alice", "wrong"))
    for tag in ("1.0", "1.1", "latest"):
        with pytest.raises(AuthenticationFailed):
            client.get_manifest(APP, tag)
    assert token.call_count == 1


def test_unreachable_registry_is_pinged_once(http: httpx.Client, mock: respx.MockRouter) -> None:
    ping = mock.get(f"{BASE}/v2/").respond(503)
    client = RegistryClient(http, BASE)
    for tag in ("1.0", "1.1"):
        with pytest.raises(ServerError):
            client.get_manifest(APP, tag)
    assert ping.call_count == 1


EXPECTED = Challenge("bearer", REALM, "dtr.example.com")


def test_the_known_token_endpoint_is_asked_without_waiting_for_the_challenge(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    token = bearer_registry(mock)
    mock.get(MANIFEST_URL).mock(return_value=served())
    client = RegistryClient(http, BASE, ("alice", "s3cret"), expected_challenge=EXPECTED)

    assert client.get_manifest(APP, "1.0") is not None

    # The registry accepted the guessed token: no round trip for its challenge at all.
    assert [call.request.url.path for call in mock.calls] == [
        "/auth/token",
        "/v2/engineering/api/manifests/1.0",
    ]
    assert token.calls.last.request.headers["Authorization"] == basic("alice", "s3cret")


def test_when_the_challenge_differs_from_the_expected_one_the_challenge_wins(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    real_realm = f"{BASE}/v2/token"
    mock.get(f"{BASE}/v2/").respond(
        401, headers={"WWW-Authenticate": f'Bearer realm="{real_realm}",service="registry"'}
    )
    guessed = mock.get(REALM).respond(200, json={"token": "guessed"})
    real = mock.get(real_realm).respond(200, json={"token": "real"})

    def manifest(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer real":
            return served()
        return httpx.Response(401, headers={"WWW-Authenticate": "Bearer"})

    route = mock.get(MANIFEST_URL).mock(side_effect=manifest)
    client = RegistryClient(http, BASE, ("alice", "pw"), expected_challenge=EXPECTED)

    found = client.get_manifest(APP, "1.0")

    assert found is not None and found.digest == digest_of(BODY)
    assert guessed.call_count == 1
    assert dict(real.calls.last.request.url.params) == {
        "service": "registry",
        "scope": "repository:engineering/api:pull",
    }
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        "Bearer guessed",
        "Bearer real",
    ]


def test_a_failed_guess_falls_back_to_the_registrys_challenge(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(200, json={})
    guessed = mock.get(REALM).respond(404, text="no token server here")
    route = mock.get(MANIFEST_URL).mock(return_value=served())
    client = RegistryClient(http, BASE, ("alice", "pw"), expected_challenge=EXPECTED)

    assert client.get_manifest(APP, "1.0") is not None
    assert guessed.call_count == 1
    assert "authorization" not in route.calls.last.request.headers


def test_a_guess_the_challenge_confirms_keeps_its_error(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": CHALLENGE})
    mock.get(REALM).respond(401, json={"errors": [{"code": "UNAUTHORIZED", "message": "no"}]})
    with pytest.raises(AuthenticationFailed):
        RegistryClient(http, BASE, ("alice", "wrong"), expected_challenge=EXPECTED).get_manifest(
            APP, "1.0"
        )


def test_opening_a_connection_ahead_is_one_brief_request_whose_failure_is_ignored(
    mock: respx.MockRouter,
) -> None:
    ping = mock.get(f"{BASE}/v2/").mock(side_effect=httpx.ConnectError("refused"))
    started = time.monotonic()
    with build_http_client(TransportOptions(retries=3, timeout=30, backoff_factor=0)) as http:
        RegistryClient(http, BASE).open_connection()
    # Not retried (the retry transport would ask 4 times), and bounded well below --timeout:
    # the manifest GET it serves waits for it.
    assert ping.call_count == 1
    deadline = ping.calls.last.request.extensions[REQUEST_DEADLINE]
    assert started < deadline <= time.monotonic() + OPEN_CONNECTION_SECONDS
