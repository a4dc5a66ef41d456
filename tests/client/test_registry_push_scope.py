"""The /v2 client asks Harbor's token service for `pull,push` and reads the granted actions
from the token it got: one token request, no extra round trip for the push right."""

from __future__ import annotations

import base64
import json

import httpx
import respx

from dtrctl.client.distribution import RegistryClient
from dtrctl.client.registry_auth import Challenge
from dtrctl.reference import RepositoryName
from tests.client.test_registry_client import http, mock, served

BASE = "https://msr.example.com"
REALM = f"{BASE}/service/token"
APP = RepositoryName("library", "team/app")
MANIFEST_URL = f"{BASE}/v2/library/team/app/manifests/1.0"
EXPECTED = Challenge("bearer", REALM, "harbor-registry")


def jwt(actions: list[str]) -> str:
    claims = {"access": [{"type": "repository", "name": "library/team/app", "actions": actions}]}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"


__all__ = ["http", "mock"]


def test_the_token_is_asked_for_pull_and_push_and_its_claim_read(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    token = mock.get(REALM).respond(200, json={"token": jwt(["pull"])})
    mock.get(MANIFEST_URL).mock(return_value=served())
    client = RegistryClient(
        http, BASE, ("bob", "pw"), expected_challenge=EXPECTED, ask_push=lambda challenge: True
    )

    assert client.get_manifest(APP, "1.0") is not None

    assert dict(token.calls.last.request.url.params) == {
        "service": "harbor-registry",
        "scope": "repository:library/team/app:pull,push",
    }
    assert client.granted_actions(APP) == frozenset({"pull"})
    assert [call.request.url.path for call in mock.calls] == [
        "/service/token",
        "/v2/library/team/app/manifests/1.0",
    ]


def test_without_ask_push_the_scope_stays_pull(http: httpx.Client, mock: respx.MockRouter) -> None:
    token = mock.get(REALM).respond(200, json={"token": jwt(["pull", "push"])})
    mock.get(MANIFEST_URL).mock(return_value=served())
    client = RegistryClient(http, BASE, ("bob", "pw"), expected_challenge=EXPECTED)
    client.get_manifest(APP, "1.0")
    assert token.calls.last.request.url.params["scope"] == "repository:library/team/app:pull"
    # A token asked for pull only says nothing about pushing, whatever it lists.
    assert client.granted_actions(APP) is None


def test_an_opaque_token_or_none_at_all_is_unknown(
    http: httpx.Client, mock: respx.MockRouter
) -> None:
    client = RegistryClient(
        http, BASE, ("bob", "pw"), expected_challenge=EXPECTED, ask_push=lambda challenge: True
    )
    assert client.granted_actions(APP) is None  # no token fetched yet: asks nothing
    assert not mock.calls
    mock.get(REALM).respond(200, json={"token": "opaque"})
    mock.get(MANIFEST_URL).mock(return_value=served())
    client.get_manifest(APP, "1.0")
    assert client.granted_actions(APP) is None
