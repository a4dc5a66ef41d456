"""Fault injection: make the next few matching requests fail the way real networks do.

Kinds and their options:
- "status": answer `status` (required) with an error envelope, or `body` (bytes, str or a
  JSON value); optional `retry_after` (Retry-After header) and `headers` (dict). The request
  is not processed.
- "drop": close the connection. `at="start"` (default) answers nothing and does not process
  the request; `at="headers"` sends part of a status line and headers, unprocessed;
  `at="body"` processes the request, then sends its headers and half its body.
- "slow": sleep `seconds` (required), then answer normally; with `until` (a threading.Event)
  answer as soon as it is set, if that is sooner (a test releases the answer when it is ready).
- "html": an nginx-style HTML error page with `status` (default 502), unprocessed.
- "truncated_json": process the request, answer 200 with the first half of its JSON body.
- "wrong_json": process the request, answer 200 with valid JSON of the wrong shape: `body` if
  given, else the real answer with booleans turned into strings (or a list wrapped in an
  object / an object wrapped in a list when it has no booleans).
- "empty": a 200 with an empty body, unprocessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_OPTIONS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required options, optional options)
    "status": ({"status"}, {"retry_after", "body", "headers"}),
    "drop": (set(), {"at"}),
    "slow": ({"seconds"}, {"until"}),
    "html": (set(), {"status"}),
    "truncated_json": (set(), set()),
    "wrong_json": (set(), {"body"}),
    "empty": (set(), set()),
}
DROP_POINTS = ("start", "headers", "body")


@dataclass
class Fault:
    kind: str
    path_prefix: str
    remaining: int
    method: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return path.startswith(self.path_prefix)


def make_fault(
    kind: str, path_prefix: str, count: int, method: str | None, options: dict[str, Any]
) -> Fault:
    if kind not in _OPTIONS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(_OPTIONS)}")
    if count < 1:
        raise ValueError("count must be at least 1")
    required, optional = _OPTIONS[kind]
    missing = required - options.keys()
    unknown = options.keys() - required - optional
    if missing:
        raise ValueError(f"fault {kind!r} needs {', '.join(sorted(missing))}")
    if unknown:
        raise ValueError(f"fault {kind!r} takes no {', '.join(sorted(unknown))}")
    if kind == "drop" and options.get("at", "start") not in DROP_POINTS:
        raise ValueError(f"drop fault 'at' must be one of {', '.join(DROP_POINTS)}")
    return Fault(kind, path_prefix, count, method.upper() if method else None, dict(options))


def stringify_booleans(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {key: stringify_booleans(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringify_booleans(item) for item in value]
    return value


def wrong_shape(value: Any) -> Any:
    """`value` reshaped so that a strict client must reject it."""
    changed = stringify_booleans(value)
    if changed != value or type(changed) is not type(value):
        return changed
    if isinstance(value, list):
        return {"items": value}
    return [value]


NGINX_PAGE = """<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
