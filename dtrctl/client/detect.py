"""Which kind of registry a URL serves: Harbor (MSR 4, `/api/v2.0`) or DTR (`/api/v0`).

Harbor answers `GET /api/v2.0/systeminfo` (anonymous callers too) with JSON that has
`auth_mode`; DTR answers its `/api/v0` API with JSON or its error envelope. Both probes go
without credentials: nothing secret is needed to tell, and a wrong password costs Harbor a pause.
"""

from __future__ import annotations

import json
from typing import Literal

import httpx

from dtrctl.client.http import RequestContext, parse_error_body, send
from dtrctl.errors import InvalidResponse

RegistryKind = Literal["harbor", "dtr"]
HARBOR_SERVICE = "harbor-registry"


def answers_harbor(http: httpx.Client, base_url: str) -> bool:
    """Whether `GET /api/v2.0/systeminfo` answers Harbor's JSON with `auth_mode`."""
    context = RequestContext(action="ask the server which registry it is")
    response = send(
        http,
        "GET",
        base_url.rstrip("/") + "/api/v2.0/systeminfo",
        context,
        ok=lambda status: True,
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(body, dict) and isinstance(body.get("auth_mode"), str)


def answers_dtr(http: httpx.Client, base_url: str) -> bool:
    """Whether `/api/v0` answers as DTR does: a repository list, or DTR's error envelope."""
    context = RequestContext(action="ask the server which registry it is")
    response = send(
        http,
        "GET",
        base_url.rstrip("/") + "/api/v0/repositories",
        context,
        ok=lambda status: True,
        params={"pageSize": "1"},
        headers={"Accept": "application/json"},
    )
    if response.status_code == 200:
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False
        return isinstance(body, dict) and "repositories" in body
    return response.status_code in (401, 403) and parse_error_body(response).code is not None


def detect_kind(http: httpx.Client, base_url: str) -> RegistryKind:
    """`harbor` or `dtr`; `InvalidResponse` (exit 5) for a URL that serves neither."""
    if answers_harbor(http, base_url):
        return "harbor"
    if answers_dtr(http, base_url):
        return "dtr"
    raise InvalidResponse(
        f"the URL serves neither a DTR nor a Harbor API: {base_url}",
        hint="Check --url (DTRCTL_URL); name the kind with --backend dtr|harbor if detection "
        "is blocked",
    )


def is_harbor_challenge(service: str | None, realm: str | None) -> bool:
    """Harbor's `/v2/` challenge: service `harbor-registry`, realm `.../service/token`."""
    return service == HARBOR_SERVICE and bool(realm) and str(realm).endswith("/service/token")
