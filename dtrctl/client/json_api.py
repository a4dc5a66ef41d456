"""One registry's JSON API over the run's HTTP client: base URL, HTTP Basic, JSON accepted.

Each registry kind's API module (`dtrctl/backends/dtr/`, `dtrctl/backends/harbor/`) builds its
requests on this and never imports httpx itself.
"""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import httpx

from dtrctl.client.http import send

if TYPE_CHECKING:
    from dtrctl.client.http import RequestContext


class NoCookies(DefaultCookiePolicy):
    """Accept no cookie: a kept `sid` makes Harbor demand a CSRF token on every write."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


class JsonApi:
    """Requests to one base URL with the run's credential; `keep_cookies=False` keeps none."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        auth: tuple[str, str] | None = None,
        *,
        keep_cookies: bool = True,
    ) -> None:
        self._http = http
        self._keep_cookies = keep_cookies
        if not keep_cookies:
            http.cookies.jar.set_policy(NoCookies())
            http.cookies.clear()
        self.base = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(*auth) if auth else None
        self.username = auth[0] if auth else None

    def request(
        self, method: str, url: str, context: RequestContext, **kwargs: Any
    ) -> httpx.Response:
        if self._auth is not None:
            kwargs["auth"] = self._auth
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        try:
            return send(self._http, method, url, context, headers=headers, **kwargs)
        finally:
            if not self._keep_cookies:
                # Belt and braces besides the policy: nothing the server set is ever sent back.
                self._http.cookies.clear()
