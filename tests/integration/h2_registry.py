"""A minimal registry as an ASGI app, served over TLS by hypercorn for the HTTP/2 tests.

Every answer names the HTTP version and the client's port it came over, so a test can tell
which protocol was negotiated and how many connections carried its requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": []}).encode()  # fmt: skip
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    headers = [
        (b"x-http-version", scope["http_version"].encode()),
        (b"x-client-port", str(scope["client"][1]).encode()),
        (b"docker-distribution-api-version", b"registry/2.0"),
    ]
    if scope["path"] == "/v2/":
        status, body = 200, b"{}"
        headers.append((b"content-type", b"application/json"))
    elif scope["path"].endswith("/manifests/1.0"):
        status, body = 200, MANIFEST
        headers += [
            (b"content-type", b"application/vnd.oci.image.index.v1+json"),
            (b"docker-content-digest", DIGEST.encode()),
        ]
    else:
        status, body = 404, b'{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}'
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
