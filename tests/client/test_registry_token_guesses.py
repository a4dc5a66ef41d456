"""Under `--backend auto` push-check asks DTR's token endpoint and Harbor's in one flight and
uses the first that gives a token: on either kind no round trip is spent on the other's path,
and an answer that is not a token is a failed guess, never "no token needed"."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable

import httpx
import pytest
import respx

from dtrctl.client.distribution import RegistryClient
from dtrctl.client.limits import TOKEN_MAX_BYTES
from dtrctl.client.registry_auth import Challenge
from dtrctl.errors import AuthenticationFailed, InvalidResponse
from dtrctl.reference import RepositoryName
from tests.client.test_registry_client import http, mock, served

__all__ = ["http", "mock"]

BASE = "https://registry.example.com"
DTR_REALM = f"{BASE}/auth/token"
HARBOR_REALM = f"{BASE}/service/token"
DTR_GUESS = Challenge("bearer", DTR_REALM, "registry.example.com")
HARBOR_GUESS = Challenge("bearer", HARBOR_REALM, "harbor-registry")
APP = RepositoryName("library", "app")
MANIFEST_URL = f"{BASE}/v2/library/app/manifests/1.0"
# What Harbor's nginx answers on DTR's path: its web portal's page.
PORTAL = httpx.Response(200, text="<!doctype html><html><body>Harbor</body></html>")
HARBOR_CHALLENGE = f'Bearer realm="{HARBOR_REALM}",service="harbor-registry"'
NOT_A_TOKEN = {
    "the portal's page": lambda: httpx.Response(200, text="<!doctype html><html></html>"),
    "a 404": lambda: httpx.Response(404, text="404 page not found"),
    "JSON without a token": lambda: httpx.Response(200, json={"details": "ok"}),
    "truncated JSON": lambda: httpx.Response(200, text='{"token": "abc'),
    "an oversized answer": lambda: httpx.Response(200, json={"token": "t" * (TOKEN_MAX_BYTES + 1)}),
}


def jwt(actions: list[str]) -> str:
    claims = {"access": [{"type": "repository", "name": "library/app", "actions": actions}]}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"


def guessing_client(http: httpx.Client) -> RegistryClient:
    """As push-check builds it under `auto`: DTR's guess first, Harbor's asking for push."""
    return RegistryClient(
        http,
        BASE,
        ("alice", "pw"),
        expected_challenge=DTR_GUESS,
        other_guesses=(HARBOR_GUESS,),
        ask_push=lambda challenge: challenge == HARBOR_GUESS,
    )


class OneFlight:
    """Token routes that answer only once both endpoints were asked (or 5 s passed): a client
    that waits for one answer before asking the other is seen waiting."""

    def __init__(self) -> None:
        self.asked = {DTR_REALM: threading.Event(), HARBOR_REALM: threading.Event()}
        self.scopes: dict[str, str] = {}
        self.together: list[bool] = []

    def route(
        self, realm: str, answer: Callable[[], httpx.Response]
    ) -> Callable[[httpx.Request], httpx.Response]:
        other = HARBOR_REALM if realm == DTR_REALM else DTR_REALM

        def respond(request: httpx.Request) -> httpx.Response:
            self.scopes[realm] = request.url.params["scope"]
            self.asked[realm].set()
            self.together.append(self.asked[other].wait(5))
            return answer()

        return respond


def paths(mock: respx.MockRouter) -> list[str]:
    return sorted(call.request.url.path for call in mock.calls)


def test_on_a_dtr_both_endpoints_are_asked_at_once_and_dtrs_token_is_used(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    flight = OneFlight()
    mock.get(DTR_REALM).mock(
        side_effect=flight.route(DTR_REALM, lambda: httpx.Response(200, json={"token": "dtr"}))
    )
    mock.get(HARBOR_REALM).mock(
        side_effect=flight.route(HARBOR_REALM, lambda: httpx.Response(404, text="not found"))
    )
    manifest = mock.get(MANIFEST_URL).mock(return_value=served())

    assert guessing_client(http).get_manifest(APP, "1.0") is not None

    # DTR's answer came while Harbor's endpoint was asked too (its failure is not waited for).
    assert flight.together[0] is True
    assert manifest.calls.last.request.headers["Authorization"] == "Bearer dtr"
    # Each as its kind asks: DTR's access call tells the push right, Harbor's token does.
    assert flight.scopes == {
        DTR_REALM: "repository:library/app:pull",
        HARBOR_REALM: "repository:library/app:pull,push",
    }
    # No `GET /v2/` for the registry's challenge: the token was accepted.
    assert "/v2/" not in paths(mock)


def test_on_a_harbor_the_portal_at_dtrs_path_is_no_token_and_harbors_is_used(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    flight = OneFlight()
    token = jwt(["pull", "push"])
    mock.get(DTR_REALM).mock(side_effect=flight.route(DTR_REALM, lambda: PORTAL))
    mock.get(HARBOR_REALM).mock(
        side_effect=flight.route(HARBOR_REALM, lambda: httpx.Response(200, json={"token": token}))
    )
    manifest = mock.get(MANIFEST_URL).mock(return_value=served())
    client = guessing_client(http)

    assert client.get_manifest(APP, "1.0") is not None

    assert flight.together == [True, True]
    assert manifest.call_count == 1
    assert manifest.calls.last.request.headers["Authorization"] == f"Bearer {token}"
    assert client.granted_actions(APP) == frozenset({"pull", "push"})
    assert paths(mock) == ["/auth/token", "/service/token", "/v2/library/app/manifests/1.0"]


@pytest.mark.parametrize("answer", NOT_A_TOKEN.values(), ids=NOT_A_TOKEN.keys())
def test_what_is_not_a_token_at_harbors_path_leaves_dtrs(
    http: httpx.Client, mock: respx.MockRouter, answer: Callable[[], httpx.Response]
) -> None:
    flight = OneFlight()
    mock.get(DTR_REALM).mock(
        side_effect=flight.route(DTR_REALM, lambda: httpx.Response(200, json={"token": "dtr"}))
    )
    mock.get(HARBOR_REALM).mock(side_effect=flight.route(HARBOR_REALM, answer))
    manifest = mock.get(MANIFEST_URL).mock(return_value=served())
    client = guessing_client(http)

    assert client.get_manifest(APP, "1.0") is not None
    assert manifest.calls.last.request.headers["Authorization"] == "Bearer dtr"


@pytest.mark.parametrize("answer", NOT_A_TOKEN.values(), ids=NOT_A_TOKEN.keys())
def test_when_neither_gives_a_token_the_registrys_challenge_decides_never_anonymous(
    http: httpx.Client, mock: respx.MockRouter, answer: Callable[[], httpx.Response]
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": HARBOR_CHALLENGE})
    mock.get(DTR_REALM).mock(return_value=PORTAL)
    harbor = mock.get(HARBOR_REALM).mock(side_effect=lambda request: answer())
    manifest = mock.get(MANIFEST_URL).mock(return_value=served())

    with pytest.raises(InvalidResponse):
        guessing_client(http).get_manifest(APP, "1.0")

    # Harbor's answer, kept: asked once, and the manifest never asked without a token.
    assert harbor.call_count == 1
    assert not manifest.called


def test_refused_credentials_at_harbors_endpoint_are_the_error_reported(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": HARBOR_CHALLENGE})
    mock.get(DTR_REALM).mock(return_value=PORTAL)
    mock.get(HARBOR_REALM).respond(401, json={"errors": [{"code": "UNAUTHORIZED"}]})

    with pytest.raises(AuthenticationFailed):
        guessing_client(http).get_manifest(APP, "1.0")
    assert paths(mock) == ["/auth/token", "/service/token", "/v2/"]


def test_once_one_endpoint_gave_a_token_later_repositories_ask_it_alone(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    mock.get(DTR_REALM).mock(return_value=PORTAL)
    harbor = mock.get(HARBOR_REALM).respond(200, json={"token": jwt(["pull"])})
    mock.get(url__regex=rf"{BASE}/v2/library/(app|web)/manifests/1.0").mock(return_value=served())
    client = guessing_client(http)

    client.get_manifest(APP, "1.0")
    client.get_manifest(RepositoryName("library", "web"), "1.0")

    assert [call.request.url.path for call in mock.calls].count("/auth/token") == 1
    assert harbor.call_count == 2
