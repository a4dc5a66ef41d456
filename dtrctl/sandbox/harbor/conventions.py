"""Harbor's conventions for the sandbox: its error envelope, paging, callers and cookies.

- Errors are `{"errors":[{"code","message"}]}` (no `detail`, unlike the registry's).
- Lists take `page` (from 1) and `page_size` (default 10, at most 100: more is 422) and answer
  `X-Total-Count` and, when there is another page, `Link` (`<...>; rel="prev" , <...>; rel="next"`).
- Callers use HTTP Basic (users or robots); none is anonymous. Authenticated answers set a
  `sid` session cookie; a write that sends one back without `X-Harbor-CSRF-Token` is refused
  (403 "CSRF token invalid"), as Harbor refuses a cookie-keeping client.
- Answers omit empty fields as go-swagger's `omitempty` does, except those the Swagger marks
  `x-omitempty: false`.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from typing import Any

from dtrctl.sandbox.exchange import ApiError, Request, Response, json_response
from dtrctl.sandbox.harbor.state import Caller, HarborState

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CSRF_HEADER = "x-harbor-csrf-token"


class HarborError(ApiError):
    """An answer in Harbor's error envelope."""

    def response(self) -> Response:
        body = {"errors": [{"code": self.code, "message": self.message}]}
        return json_response(self.status, body, self.headers)


def not_found(message: str) -> HarborError:
    return HarborError(404, "NOT_FOUND", message)


def unauthorized() -> HarborError:
    return HarborError(401, "UNAUTHORIZED", "unauthorized")


def forbidden() -> HarborError:
    return HarborError(403, "FORBIDDEN", "forbidden")


def denied(caller: Caller | None) -> HarborError:
    """401 for an anonymous caller, 403 for an authenticated one."""
    return unauthorized() if caller is None else forbidden()


def omit_empty(value: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Drop None, "", 0, False and empty collections, except the fields in `keep`."""
    return {
        key: item
        for key, item in value.items()
        if key in keep or not (item is None or item is False or item in ("", 0, [], {}))
    }


def caller_of(state: HarborState, request: Request) -> Caller | None:
    """The authenticated caller; None for an anonymous one. Bad credentials are 401."""
    try:
        credentials = request.basic_credentials()
    except ValueError:
        raise unauthorized() from None
    if credentials is None:
        return None
    caller = state.caller(*credentials)
    if caller is None:
        raise unauthorized()
    return caller


def session_cookie(request: Request) -> str | None:
    for part in request.headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "sid" and value:
            return value
    return None


def check_csrf(request: Request) -> None:
    if (
        request.method in WRITE_METHODS
        and session_cookie(request) is not None
        and not request.headers.get(CSRF_HEADER)
    ):
        raise HarborError(403, "FORBIDDEN", "CSRF token invalid")


def with_session(response: Response, caller: Caller | None, request: Request) -> Response:
    """Give an authenticated caller a session cookie, as Harbor does (keeping it is a mistake)."""
    if caller is not None and session_cookie(request) is None:
        response.headers.append(("Set-Cookie", f"sid={secrets.token_hex(16)}; Path=/; HttpOnly"))
    return response


def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise HarborError(400, "BAD_REQUEST", "invalid JSON in the request body") from None
    if not isinstance(body, dict):
        raise HarborError(400, "BAD_REQUEST", "the request body must be a JSON object")
    return body


def _integer(request: Request, name: str, default: int, maximum: int | None) -> int:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HarborError(
            422, "UNPROCESSABLE_ENTITY", f"{name} in query must be of type int64: {raw!r}"
        ) from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"less than or equal to {maximum}" if value >= 1 else "greater than or equal to 1"
        raise HarborError(
            422,
            "UNPROCESSABLE_ENTITY",
            f"validation failure list:\n{name} in query should be {bound}",
        )
    return value


def paged(request: Request, items: list[Any]) -> tuple[list[Any], list[tuple[str, str]]]:
    """One page of `items` and the X-Total-Count and Link headers for it."""
    page = _integer(request, "page", 1, None)
    size = _integer(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    start = (page - 1) * size
    headers = [("X-Total-Count", str(len(items)))]
    links = []
    if page > 1:
        links.append(f'<{_page_url(request, page - 1, size)}>; rel="prev"')
    if start + size < len(items):
        links.append(f'<{_page_url(request, page + 1, size)}>; rel="next"')
    if links:
        headers.append(("Link", " , ".join(links)))
    return items[start : start + size], headers


def _page_url(request: Request, page: int, size: int) -> str:
    query = [(k, v) for k, values in request.query.items() for v in values]
    query = [(k, v) for k, v in query if k not in ("page", "page_size")]
    query += [("page", str(page)), ("page_size", str(size))]
    return f"{request.path}?{urllib.parse.urlencode(query)}"


def flag(request: Request, name: str) -> bool:
    return (request.param(name) or "").lower() == "true"
