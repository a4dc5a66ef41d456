"""Under `--backend auto`, push-check finds out the kind once and asks `/v2` once
(`dtrctl/backends/detect.py`): the exact requests a Harbor receives."""

from __future__ import annotations

import base64
import json

import pytest

pytestmark = pytest.mark.usefixtures("dtr_env")
DIGEST = "sha256:" + "e" * 64
_CLAIMS = {"access": [{"type": "repository", "name": "library/app", "actions": ["pull", "push"]}]}
PUSH_TOKEN = "e30." + base64.urlsafe_b64encode(json.dumps(_CLAIMS).encode()).decode() + ".c2ln"
MANIFEST = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}


def harbor_routes(dtr) -> dict[str, object]:
    dtr.get(url__regex=r".*/api/v0/.*").respond(404, text="404 page not found")
    dtr.get("/auth/token").respond(404, text="404 page not found")
    routes = {
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
    # One probe; no `GET /v2/` (Harbor's token endpoint is known once the probe answered); one
    # token; each manifest once.
    assert counts == {"probe": 1, "ping": 0, "token": 1, "1.0": 1, "1.1": 1, "1.2": 1}
    # Asked for push too, once the kind is known: the push right costs no request of its own.
    scope = routes["token"].calls.last.request.url.params["scope"]  # type: ignore[attr-defined]
    assert scope == "repository:library/app:pull,push"
