"""Under `--backend auto`, push-check finds out the kind once and asks `/v2` once
(`dtrctl/backends/detect.py`): the exact requests a Harbor receives, and what a DTR receives
besides what it receives under `--backend dtr`."""

from __future__ import annotations

import base64
import json
import threading

import httpx
import pytest

from tests.cli.test_push_check_cli import OLD, FakeDtr, RemoteTag

pytestmark = pytest.mark.usefixtures("dtr_env")
DIGEST = "sha256:" + "e" * 64
_CLAIMS = {"access": [{"type": "repository", "name": "library/app", "actions": ["pull", "push"]}]}
PUSH_TOKEN = "e30." + base64.urlsafe_b64encode(json.dumps(_CLAIMS).encode()).decode() + ".c2ln"
MANIFEST = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}


def harbor_routes(dtr) -> dict[str, object]:
    dtr.get(url__regex=r".*/api/v0/.*").respond(404, text="404 page not found")
    routes = {
        # Harbor's nginx sends DTR's token path to its web portal: a page, not a token.
        "dtr token": dtr.get("/auth/token").respond(200, html="<!doctype html><html></html>"),
        "probe": dtr.get("/api/v2.0/systeminfo").respond(200, json={"auth_mode": "db_auth"}),
        "ping": dtr.get("/v2/").respond(401),
        # Harbor's token lists the actions granted: push-check reads its push right there.
        "token": dtr.get("/service/token").respond(200, json={"token": PUSH_TOKEN}),
    }
    dtr.head("/api/v2.0/projects", params={"project_name": "library"}).respond(200)
    for tag in ("1.0", "1.1", "1.2"):
        dtr.get(f"/api/v2.0/projects/library/repositories/app/artifacts/{tag}").respond(
            200, json={"digest": DIGEST, "tags": [{"name": tag, "immutable": tag == "1.0"}]}
        )
        routes[tag] = dtr.get(f"/v2/library/app/manifests/{tag}").respond(
            200, json=MANIFEST, headers={"Content-Type": MANIFEST["mediaType"]}
        )
    return routes


def test_harbor_under_auto_is_probed_once_and_its_registry_asked_once(dtr, cli) -> None:
    routes = harbor_routes(dtr)
    result = cli(
        "push-check", "library/app:1.0", "library/app:1.1", "library/app:1.2", "-o", "json"
    )
    immutable = [item["immutable"] for item in result.json()["results"]]
    assert immutable == [True, False, False], result.stdout
    counts = {name: route.call_count for name, route in routes.items()}  # type: ignore[attr-defined]
    # One probe; both kinds' token endpoints, once each and at once; `GET /v2/` only to open
    # connections for the manifests beside the token request; each manifest once.
    assert counts == {
        "dtr token": 1,
        "probe": 1,
        "ping": 2,
        "token": 1,
        "1.0": 1,
        "1.1": 1,
        "1.2": 1,
    }
    # Asked for push too, once the kind is known: the push right costs no request of its own.
    scope = routes["token"].calls.last.request.url.params["scope"]  # type: ignore[attr-defined]
    assert scope == "repository:library/app:pull,push"


def test_a_dtr_under_auto_uses_its_own_token_asked_beside_harbors(dtr, cli) -> None:
    fake = FakeDtr(dtr)
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    harbor_asked = threading.Event()

    def harbor_token(request: httpx.Request) -> httpx.Response:
        harbor_asked.set()
        return httpx.Response(404, text="404 page not found")

    def dtr_token(request: httpx.Request) -> httpx.Response:
        # Answered only once Harbor's endpoint was asked too (or 5 s passed): in one flight.
        in_one_flight.append(harbor_asked.wait(5))
        return httpx.Response(200, json={"token": "tok"})

    in_one_flight: list[bool] = []
    harbor = dtr.get("/service/token").mock(side_effect=harbor_token)
    fake.token_route.mock(side_effect=dtr_token)
    result = cli("push-check", "engineering/api:1.0", "engineering/api:1.1", "-o", "json")

    assert result.exit_code == 1, result.stderr
    assert [item["verdict"] for item in result.json()["results"]] == ["collision", "free"]
    assert in_one_flight == [True]
    assert harbor.call_count == 1
    # DTR's token was used (the fake's manifests accept no other); `GET /v2/` only opens the
    # second manifest's connection: no round trip for the registry's challenge.
    assert fake.manifest_route.call_count == 2
    assert fake.ping_route.call_count == 1
    assert harbor.calls.last.request.url.params["scope"] == "repository:engineering/api:pull,push"
