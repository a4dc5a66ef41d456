"""How to address a registry's `/v2` API: its challenge, and the tokens it asks for.

`GET /v2/` answers 200 (open), or 401 with `WWW-Authenticate: Bearer realm=..,service=..` (the
token flow DTR, Harbor and Docker Hub use: one token per scope, fetched with Basic credentials or
anonymously) or `Basic` (a plain registry behind htpasswd).

Where the registry's token endpoint is known in advance (DTR's `/auth/token`, Harbor's
`/service/token`), the token is asked for at once, without `GET /v2/`: a registry that accepts
the token confirms the guess; one that refuses it is asked for its challenge, which wins. Where
the kind is not known yet, each kind's endpoint is asked in the same flight and the first (in
the order given) that gives a token is used: an answer that is not a token (an error, a web
page, garbled or oversized) is a failed guess, never "no token needed"; when every guess fails
the registry's challenge decides, as for one guess.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx

from dtrctl.client.http import (
    CREDENTIALS_HINT,
    RequestContext,
    error_for_response,
    host_port,
    json_body,
    parse_error_body,
    send,
)
from dtrctl.client.limits import TOKEN_MAX_BYTES
from dtrctl.errors import AuthenticationFailed, DtrctlError, ExitCode, InvalidResponse
from dtrctl.settings import LOOPBACK_HOSTS

_CHALLENGE_PARAM_RE = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,"]+))')
# Comma-separated hosts (`auth.example.com`, any port) or `host:port` that may receive the
# registry's credentials as token realm besides the registry's own origin.
ALLOW_REALM_HOST_VARIABLE = "DTRCTL_ALLOW_REALM_HOST"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenRealmPolicy:
    """Where credentials may go to fetch a registry token.

    A registry names its token server (the realm) itself: credentials go there only when it is
    the registry's own origin (scheme, host and port), as DTR's is, or a host the user allowed.
    Elsewhere the token is asked for anonymously.
    """

    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TokenRealmPolicy:
        value = (os.environ if environ is None else environ).get(ALLOW_REALM_HOST_VARIABLE, "")
        return cls(frozenset(entry.strip().lower() for entry in value.split(",") if entry.strip()))

    def allows(self, registry: str, realm: str) -> bool:
        base, target = httpx.URL(registry), httpx.URL(realm)
        if (base.scheme, host_port(base).lower()) == (target.scheme, host_port(target).lower()):
            return True
        return bool({target.host.lower(), host_port(target).lower()} & self.allowed_hosts)


class Challenge(NamedTuple):
    """How the registry wants to be addressed: scheme "none", "basic" or "bearer"."""

    scheme: str
    realm: str | None = None
    service: str | None = None


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a `WWW-Authenticate` header, if it is Basic or Bearer."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        key.lower(): quoted if quoted or not bare else bare
        for key, quoted, bare in _CHALLENGE_PARAM_RE.findall(rest)
    }
    if scheme.lower() == "basic":
        return Challenge("basic", params.get("realm"))
    if scheme.lower() == "bearer" and params.get("realm"):
        return Challenge("bearer", params["realm"], params.get("service"))
    return None


class RegistryAuth:
    """The `Authorization` header for each scope of one registry; safe to use from threads.

    Answers, failures included, are kept: N tags never cost N pings or token requests.
    """

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        auth: tuple[str, str] | None = None,
        *,
        realm_policy: TokenRealmPolicy | None = None,
        expected: Sequence[Challenge] = (),
    ) -> None:
        """`expected`: the challenges the registry may send, used before its answer, in order of
        preference: their tokens are asked for in one flight (`current`)."""
        self._http = http
        self._base = base_url.rstrip("/")
        self._auth = auth
        self._realm_policy = (
            TokenRealmPolicy.from_environment() if realm_policy is None else realm_policy
        )
        self._expected = tuple(dict.fromkeys(expected))
        self.username = auth[0] if auth else None
        self._ping_lock = threading.Lock()
        self._lock = threading.Lock()
        self._challenge: Challenge | DtrctlError | None = None
        # One token request per challenge and scope, whichever thread asks first; the others
        # wait for its answer, a failure included.
        self._tokens: dict[tuple[Challenge, str], Future[str]] = {}

    def _context(self, action: str) -> RequestContext:
        return RequestContext(action=action, username=self.username)

    def challenge(self) -> Challenge:
        """Ask `GET /v2/` once how to authenticate (waits for an answer already asked for)."""
        with self._ping_lock:
            if self._challenge is None:
                try:
                    self._challenge = self._ping()
                except DtrctlError as error:
                    self._challenge = error
        if isinstance(self._challenge, DtrctlError):
            raise self._challenge
        return self._challenge

    def current(self, scope_of: Callable[[Challenge], str]) -> tuple[Challenge, bool]:
        """The challenge to use now, and whether it is a guess: the registry's answer once it
        came; else the first expected challenge whose token server gives a token for
        `scope_of(challenge)`, all of them asked at once (the first when none does: using it
        then asks `GET /v2/`, see `retry_after`); else the answer to `GET /v2/`."""
        guesses = self._expected if self._challenge is None else ()
        if not guesses:
            return self.challenge(), False
        later = [self._token(guess, scope_of(guess), here=False) for guess in guesses[1:]]
        tokens = [self._token(guesses[0], scope_of(guesses[0])), *later]
        for guess, token in zip(guesses, tokens, strict=True):
            if token.exception() is None:
                with self._lock:
                    # Its server gave a token: the kind is known, later scopes ask it alone.
                    self._expected = (guess,)
                return guess, True
        return guesses[0], True

    def retry_after(self, used: Challenge) -> tuple[Challenge, bool] | None:
        """After a request under `used`, a guess, failed: the registry's own challenge when it
        differs from `used`; None when `used` was the registry's own."""
        return None if self.verify(used) else (self.challenge(), False)

    def verify(self, used: Challenge) -> bool:
        """Whether `used` is the registry's own challenge (asks `GET /v2/` if not yet asked)."""
        return used == self.challenge()

    def _ping(self) -> Challenge:
        context = self._context("reach the registry API (/v2/)")
        response = send(self._http, "GET", f"{self._base}/v2/", context, ok=lambda status: True)
        if response.status_code == 200:
            return Challenge("none")
        if response.status_code == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if challenge is None:
                raise InvalidResponse(
                    f"{self._base}/v2/ asks for authentication without a Basic or Bearer challenge",
                    status=401,
                )
            return challenge
        if response.status_code == 404:
            raise InvalidResponse(
                f"{self._base} does not serve the registry API (/v2/ answers 404)",
                status=404,
                hint="Check the URL: it must be the registry's, e.g. https://dtr.example.com",
            )
        raise unexpected_answer(response, context)

    def _basic_header(self) -> str:
        if self._auth is None:
            raise AuthenticationFailed(
                f"the registry at {self._base} needs credentials", hint=CREDENTIALS_HINT
            )
        encoded = base64.b64encode(f"{self._auth[0]}:{self._auth[1]}".encode()).decode()
        return f"Basic {encoded}"

    def authorization(self, scope: str, challenge: Challenge) -> dict[str, str]:
        """The `Authorization` header for `scope` under `challenge`; a token is fetched once."""
        if challenge.scheme == "none":
            return {}
        if challenge.scheme == "basic":
            return {"Authorization": self._basic_header()}
        return {"Authorization": f"Bearer {self._token(challenge, scope).result()}"}

    def _token(self, challenge: Challenge, scope: str, *, here: bool = True) -> Future[str]:
        """The token for `scope` from the server `challenge` names, asked once: by this thread
        (`here`), else in the background, so that this thread asks another meanwhile."""
        key = (challenge, scope)
        with self._lock:
            token = self._tokens.get(key)
            if token is not None:
                return token
            token = self._tokens[key] = Future()
        if here:
            self._fill(token, challenge, scope)
        else:
            threading.Thread(
                target=self._fill, args=(token, challenge, scope), name="dtrctl-token", daemon=True
            ).start()
        return token

    def _fill(self, token: Future[str], challenge: Challenge, scope: str) -> None:
        try:
            token.set_result(self._fetch_token(challenge, scope))
        except BaseException as error:  # kept, failures included, and raised to whoever uses it
            token.set_exception(error)

    def token_for(self, scope: str) -> str | None:
        """The token already fetched for `scope`: the one under the registry's own challenge
        once known, else the only one a token server gave (a failed guess gave none); None
        when there is none or it is ambiguous. Asks nothing."""
        own = self._challenge if isinstance(self._challenge, Challenge) else None
        with self._lock:
            found = {
                challenge: token.result()
                for (challenge, asked), token in self._tokens.items()
                if asked == scope and token.done() and token.exception() is None
            }
        if own is not None and own in found:
            return found[own]
        return next(iter(found.values())) if len(found) == 1 else None

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        realm = challenge.realm or ""
        try:
            parts = urlsplit(realm)
            httpx.URL(realm)
        except (ValueError, httpx.InvalidURL):  # e.g. a space in the host, an unclosed bracket
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidResponse(f"the registry's token realm {realm!r} is not an http(s) URL")
        if parts.scheme == "http" and not self._may_send_plain_http_to(parts.hostname):
            raise InvalidResponse(
                f"the registry at {self._base} sends credentials to a plain-http token realm "
                f"{realm}; refusing"
            )
        context = self._context(f"get a registry token for {scope}")
        params = {"service": challenge.service} if challenge.service else {}
        params["scope"] = scope
        headers = {"Accept": "application/json"}
        if self._auth is not None and self._may_send_credentials_to(realm):
            headers["Authorization"] = self._basic_header()
        response = send(
            self._http,
            "GET",
            realm,
            context,
            ok=lambda status: True,
            max_bytes=TOKEN_MAX_BYTES,
            params=params,
            headers=headers,
        )
        if response.status_code != 200:
            raise unexpected_answer(response, context)
        body = json_body(response, context)
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise InvalidResponse(
                f"the token server's answer has no token while trying to {context.action}"
            )
        return token

    def _may_send_credentials_to(self, realm: str) -> bool:
        if self._realm_policy.allows(self._base, realm):
            return True
        logger.debug(
            "not sending the credentials of user %s to the token realm %s: not the registry's "
            "own origin %s; %s=%s allows it",
            self.username,
            realm,
            self._base,
            ALLOW_REALM_HOST_VARIABLE,
            host_port(httpx.URL(realm)),
        )
        return False

    def _may_send_plain_http_to(self, host: str | None) -> bool:
        """Credentials go over plain http only where this run already sends them: the plain-http
        registry's own host (loopback, or allowed by --allow-http), or loopback."""
        base = urlsplit(self._base)
        return base.scheme == "http" and (host == base.hostname or host in LOOPBACK_HOSTS)


def unexpected_answer(response: httpx.Response, context: RequestContext) -> DtrctlError:
    """Auth and server failures as such; any other answer is garbled, never "absent"."""
    error = error_for_response(response, context)
    if error.exit_code in (ExitCode.AUTH, ExitCode.UNAVAILABLE):
        return error
    message = parse_error_body(response).message
    said = f": {message}" if message else ""
    return InvalidResponse(
        f"unexpected HTTP {response.status_code} from the registry while trying to "
        f"{context.action}{said}",
        status=response.status_code,
        dtr_code=error.dtr_code,
    )
