"""The Docker Registry HTTP API v2 (`/v2`): the digest a tag points at, authoritatively.

Authentication follows the registry's own challenge: `GET /v2/` answers 200 (open), or 401 with
`WWW-Authenticate: Bearer realm=..,service=..` (the token flow DTR and Docker Hub use: one token
per scope, fetched with Basic credentials or anonymously) or `Basic` (a plain registry behind
htpasswd). A failure is never read as "tag absent": only a 404 that is the registry's own answer
is.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

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
from dtrctl.client.limits import MANIFEST_MAX_BYTES, TOKEN_MAX_BYTES
from dtrctl.errors import (
    AuthenticationFailed,
    DtrctlError,
    ExitCode,
    InvalidResponse,
    PermissionDenied,
)
from dtrctl.reference import DIGEST_RE, RepositoryName
from dtrctl.settings import LOOPBACK_HOSTS

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# Index types first: a registry must answer with the top-level digest of a multi-platform tag.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})

DIGEST_HEADER = "Docker-Content-Digest"
API_VERSION_HEADER = "Docker-Distribution-API-Version"
ABSENT_CODES = frozenset({"MANIFEST_UNKNOWN", "NAME_UNKNOWN"})
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


class ManifestHead(NamedTuple):
    """A manifest's digest and media type, from a HEAD request."""

    digest: str
    media_type: str

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES


class Manifest(NamedTuple):
    """A manifest as served, with its parsed body."""

    digest: str
    media_type: str
    body: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES or "manifests" in self.body

    @property
    def config_digest(self) -> str | None:
        """The image configuration digest of a single-platform manifest."""
        config = self.body.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        return digest if isinstance(digest, str) and DIGEST_RE.fullmatch(digest) else None


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip()


class RegistryClient:
    """One registry's `/v2` API over the run's shared HTTP client; safe to use from threads."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        auth: tuple[str, str] | None = None,
        *,
        realm_policy: TokenRealmPolicy | None = None,
    ) -> None:
        """`realm_policy`: where credentials may go for tokens; by default the registry's own
        origin and the hosts in DTRCTL_ALLOW_REALM_HOST."""
        self._http = http
        self._base = base_url.rstrip("/")
        self._auth = auth
        self._realm_policy = (
            TokenRealmPolicy.from_environment() if realm_policy is None else realm_policy
        )
        self.username = auth[0] if auth else None
        self._lock = threading.Lock()
        # Answers, failures included, are kept: N tags never cost N pings or token requests.
        self._challenge: Challenge | DtrctlError | None = None
        self._tokens: dict[str, str | DtrctlError] = {}
        self._scope_locks: dict[str, threading.Lock] = {}

    # Authentication

    def _context(self, action: str, name: RepositoryName | None = None) -> RequestContext:
        return RequestContext(
            action=action,
            repository=str(name) if name else None,
            namespace=name.namespace if name else None,
            username=self.username,
        )

    def challenge(self) -> Challenge:
        """Ask `GET /v2/` once how to authenticate."""
        with self._lock:
            if self._challenge is None:
                try:
                    self._challenge = self._ping()
                except DtrctlError as error:
                    self._challenge = error
            if isinstance(self._challenge, DtrctlError):
                raise self._challenge
            return self._challenge

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
        raise self._unexpected(response, context)

    def _basic_header(self) -> str:
        if self._auth is None:
            raise AuthenticationFailed(
                f"the registry at {self._base} needs credentials", hint=CREDENTIALS_HINT
            )
        encoded = base64.b64encode(f"{self._auth[0]}:{self._auth[1]}".encode()).decode()
        return f"Basic {encoded}"

    def authorization(self, scope: str) -> dict[str, str]:
        """The `Authorization` header for `scope`; a Bearer token is fetched once per scope."""
        challenge = self.challenge()
        if challenge.scheme == "none":
            return {}
        if challenge.scheme == "basic":
            return {"Authorization": self._basic_header()}
        with self._lock:
            scope_lock = self._scope_locks.setdefault(scope, threading.Lock())
        with scope_lock:
            if scope not in self._tokens:
                try:
                    self._tokens[scope] = self._fetch_token(challenge, scope)
                except DtrctlError as error:
                    self._tokens[scope] = error
            token = self._tokens[scope]
        if isinstance(token, DtrctlError):
            raise token
        return {"Authorization": f"Bearer {token}"}

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
            raise self._unexpected(response, context)
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

    # Manifests

    def _manifest_url(self, name: RepositoryName, reference: str) -> str:
        return (
            f"{self._base}/v2/{quote(name.namespace, safe='')}/{quote(name.name, safe='')}"
            f"/manifests/{quote(reference, safe=':')}"
        )

    def _manifest_request(
        self, method: str, name: RepositoryName, reference: str, context: RequestContext
    ) -> httpx.Response:
        headers = {"Accept": MANIFEST_ACCEPT, **self.authorization(f"repository:{name}:pull")}
        return send(
            self._http,
            method,
            self._manifest_url(name, reference),
            context,
            ok=lambda status: True,
            max_bytes=MANIFEST_MAX_BYTES,
            headers=headers,
        )

    def head_manifest(self, name: RepositoryName, tag: str) -> ManifestHead | None:
        """The top-level digest and media type of `name:tag`; None when the registry says absent."""
        context = self._context(f"read tag {name}:{tag} from the registry", name)
        response = self._manifest_request("HEAD", name, tag, context)
        if response.status_code == 200:
            digest = response.headers.get(DIGEST_HEADER)
            if digest is None:
                # Some proxies drop the header from HEAD answers: the GET tells the same.
                manifest = self.get_manifest(name, tag)
                return ManifestHead(manifest.digest, manifest.media_type) if manifest else None
            return ManifestHead(self._checked_digest(digest, context), _media_type(response))
        if response.status_code == 404:
            if API_VERSION_HEADER in response.headers:
                return None
            # A HEAD answer has no body: only a GET can show a registry's MANIFEST_UNKNOWN.
            manifest = self.get_manifest(name, tag)
            return ManifestHead(manifest.digest, manifest.media_type) if manifest else None
        raise self._resource_error(response, context)

    def get_manifest(self, name: RepositoryName, reference: str) -> Manifest | None:
        """The manifest of `name:reference`; None when the registry says absent."""
        context = self._context(f"read manifest {name}:{reference} from the registry", name)
        response = self._manifest_request("GET", name, reference, context)
        if response.status_code == 404:
            if (
                parse_error_body(response).code in ABSENT_CODES
                or API_VERSION_HEADER in response.headers
            ):
                return None
            raise InvalidResponse(
                f"cannot {context.action}: HTTP 404 that is not a registry's answer "
                "(a proxy in front of the registry?)",
                status=404,
            )
        if response.status_code != 200:
            raise self._resource_error(response, context)
        body = json_body(response, context)
        if not isinstance(body, dict):
            raise InvalidResponse(
                f"the manifest is not a JSON object while trying to {context.action}"
            )
        computed = "sha256:" + hashlib.sha256(response.content).hexdigest()
        header = response.headers.get(DIGEST_HEADER)
        digest = self._checked_digest(header, context) if header else computed
        if digest.startswith("sha256:") and digest != computed:
            raise InvalidResponse(
                f"the manifest does not match its digest {digest} while trying to {context.action}"
            )
        media_type = body.get("mediaType")
        return Manifest(
            digest, media_type if isinstance(media_type, str) else _media_type(response), body
        )

    # Errors

    def _checked_digest(self, digest: str, context: RequestContext) -> str:
        if not DIGEST_RE.fullmatch(digest.strip()):
            raise InvalidResponse(
                f"the registry sent an invalid digest {digest!r} while trying to {context.action}"
            )
        return digest.strip()

    def _resource_error(self, response: httpx.Response, context: RequestContext) -> DtrctlError:
        if response.status_code == 401 and self.username and self.challenge().scheme == "bearer":
            # The token was issued, so the credentials are good: it lacks the pull right.
            return PermissionDenied(
                f"user {self.username} may not {context.action}",
                status=401,
                dtr_code=parse_error_body(response).code,
                hint="Ask a repository or organization admin for read access",
            )
        return self._unexpected(response, context)

    def _unexpected(self, response: httpx.Response, context: RequestContext) -> DtrctlError:
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
