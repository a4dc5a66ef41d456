"""Whether a URL serves Harbor (MSR 4): its `/api/v2.0/systeminfo`.

Harbor answers `GET /api/v2.0/systeminfo` (anonymous callers too) with JSON that has
`auth_mode`. The probe goes without credentials: nothing secret is needed to tell, and a wrong
password costs Harbor a pause.
"""

from __future__ import annotations

import json

import httpx

from dtrctl.client.http import RequestContext, send


def answers_harbor(http: httpx.Client, base_url: str) -> bool:
    """Whether `GET /api/v2.0/systeminfo` answers Harbor's JSON with `auth_mode`."""
    context = RequestContext(action="ask the server which registry it is")
    response = send(
        http,
        "GET",
        base_url.rstrip("/") + "/api/v2.0/systeminfo",
        context,
        ok=lambda status: status < 500,  # a failing server says so, it is not "neither"
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(body, dict) and isinstance(body.get("auth_mode"), str)
