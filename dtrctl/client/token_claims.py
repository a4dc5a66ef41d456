"""What a registry token says it grants: the `access` claim of a JWT bearer token.

Docker's token specification (which Harbor's `/service/token` and DTR's `/auth/token` follow)
puts the granted actions in the token itself: `{"access": [{"type": "repository", "name":
"P/R", "actions": ["pull", "push"]}]}`. The token server grants only what the account may do,
so the claim predicts whether a push will be refused. The signature is not checked: this is a
prediction, and the registry checks the token itself. Anything that is not a readable claim is
unknown (None), never "granted" or "refused". Pure: no HTTP.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

# A JWT's payload is a few hundred bytes; a token is bounded by TOKEN_MAX_BYTES already.
_MAX_PAYLOAD_CHARS = 256 * 1024


def _payload(token: str) -> Any:
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > _MAX_PAYLOAD_CHARS:
        return None
    text = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(text.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None


def granted_actions(token: str, repository: str) -> frozenset[str] | None:
    """The actions the token grants on `repository` (`P/R`); None when the token has no
    readable `access` claim (not a JWT, garbled, or a claim of another shape)."""
    payload = _payload(token)
    if not isinstance(payload, dict) or "access" not in payload:
        return None
    access = payload["access"]
    if access is None:  # Go's nil slice: nothing granted
        return frozenset()
    if not isinstance(access, list):
        return None
    actions: set[str] = set()
    for entry in access:
        if not isinstance(entry, dict):
            return None
        listed = entry.get("actions") or []
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            return None
        if entry.get("type") == "repository" and entry.get("name") == repository:
            actions.update(listed)
    return frozenset(actions)


def may_push(actions: frozenset[str]) -> bool:
    """Whether granted actions include a push (`*` grants every action)."""
    return "push" in actions or "*" in actions
