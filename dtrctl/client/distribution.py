"""The Docker Registry HTTP API v2 (`/v2`): the digest a tag points at, authoritatively.

One `GET` per manifest answers both "present, with this digest" (computed from the body and
checked against `Docker-Content-Digest`) and "absent, and the registry says why". A failure is
never read as "tag absent": only a 404 carrying the registry's own error code is. Authentication
is `dtrctl.client.registry_auth`'s.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx

from dtrctl.client.bounded import REQUEST_DEADLINE
from dtrctl.client.http import RequestContext, json_body, parse_error_body, send
from dtrctl.client.limits import MANIFEST_MAX_BYTES
from dtrctl.client.registry_auth import (
    Challenge,
    RegistryAuth,
    TokenRealmPolicy,
    unexpected_answer,
)
from dtrctl.client.retry import ONCE
from dtrctl.errors import DtrctlError, InvalidResponse, PermissionDenied
from dtrctl.reference import DIGEST_RE, RepositoryName

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# Index types first: a registry must answer with the top-level digest of a multi-platform tag.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})

DIGEST_HEADER = "Docker-Content-Digest"
# How long opening a connection ahead may keep the manifest GET it serves waiting (seconds).
OPEN_CONNECTION_SECONDS = 5.0
ABSENT_CODES = frozenset({"MANIFEST_UNKNOWN", "NAME_UNKNOWN"})


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


def repository_scope(name: RepositoryName, *, push: bool) -> str:
    """The token scope to read `name`, and to push to it too when `push`."""
    return f"repository:{name}:{'pull,push' if push else 'pull'}"


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
        expected_challenge: Challenge | None = None,
        other_guesses: Sequence[Challenge] = (),
        ask_push: Callable[[Challenge], bool] | None = None,
    ) -> None:
        """`realm_policy`: where credentials may go for tokens (by default the registry's own
        origin and the hosts in DTRCTL_ALLOW_REALM_HOST); `expected_challenge`: the token
        endpoint the registry is known to use, asked for before `GET /v2/` answers;
        `other_guesses`: the endpoints it may use instead (the kind is not known yet), asked
        in the same flight, the first that gives a token used (`RegistryAuth.current`);
        `ask_push`: whether to ask the token server a challenge names for `pull,push` (asked at
        each token request, as the kind may be learnt meanwhile), so that its `access` claim
        tells whether a push would be allowed (`granted_actions`), in the same round trip."""
        self._http = http
        self._ask_push = ask_push
        self._base = base_url.rstrip("/")
        self.username = auth[0] if auth else None
        self.auth = RegistryAuth(
            http,
            base_url,
            auth,
            realm_policy=realm_policy,
            expected=(expected_challenge, *other_guesses) if expected_challenge else other_guesses,
        )

    def challenge(self) -> Challenge:
        """Ask `GET /v2/` once how to authenticate."""
        return self.auth.challenge()

    def open_connection(self) -> None:
        """Leave one more connection to the registry open in the pool, for a question that
        will be asked later: asking `GET /v2/`, the cheapest answer of every registry, opens it
        (TCP and TLS) and returns it idle. Best effort: a failure here is the real question's
        to report, when it is asked.

        Manifest GETs wait for their token and then all go at once; one that finds no idle
        connection opens one, two round trips more over TLS. Opened beside the token request,
        the connection is ready when the token arrives.
        """
        context = RequestContext(action="open a connection to the registry")
        # Once, and briefly: the question it serves has retries of its own and must not wait
        # long for a registry whose `/v2/` is slow.
        extensions = {ONCE: True, REQUEST_DEADLINE: time.monotonic() + OPEN_CONNECTION_SECONDS}
        with contextlib.suppress(DtrctlError):
            send(
                self._http,
                "GET",
                f"{self._base}/v2/",
                context,
                ok=lambda status: True,
                extensions=extensions,
            )

    def _context(self, action: str, name: RepositoryName) -> RequestContext:
        return RequestContext(
            action=action, repository=str(name), namespace=name.namespace, username=self.username
        )

    def _manifest_url(self, name: RepositoryName, reference: str) -> str:
        return (
            # A Harbor repository path nests (`team/app`): its slashes stay path separators.
            f"{self._base}/v2/{quote(name.namespace, safe='')}/{quote(name.name, safe='/')}"
            f"/manifests/{quote(reference, safe=':')}"
        )

    def _scope(self, name: RepositoryName, challenge: Challenge) -> str:
        return repository_scope(name, push=self._ask_push is not None and self._ask_push(challenge))

    def granted_actions(self, name: RepositoryName) -> frozenset[str] | None:
        """The actions a token already fetched for `name` with `pull,push` grants, from its
        `access` claim; None when unknown (no such token, or one that does not say). Asks
        nothing."""
        from dtrctl.client.token_claims import granted_actions

        token = self.auth.token_for(repository_scope(name, push=True))
        return granted_actions(token, str(name)) if token is not None else None

    def _send_manifest_get(
        self, name: RepositoryName, reference: str, challenge: Challenge, context: RequestContext
    ) -> httpx.Response:
        authorization = self.auth.authorization(self._scope(name, challenge), challenge)
        return send(
            self._http,
            "GET",
            self._manifest_url(name, reference),
            context,
            ok=lambda status: True,
            max_bytes=MANIFEST_MAX_BYTES,
            headers={"Accept": MANIFEST_ACCEPT, **authorization},
        )

    def _manifest_response(
        self, name: RepositoryName, reference: str, context: RequestContext
    ) -> httpx.Response:
        """The GET, under the expected challenge while the registry's is unknown: a registry
        that answers anything but 401 accepted the guess; otherwise the registry's own challenge
        decides, and the request is sent again under it."""
        used, guessed = self.auth.current(partial(self._scope, name))
        while True:
            try:
                response = self._send_manifest_get(name, reference, used, context)
            except DtrctlError:
                retry = self.auth.retry_after(used) if guessed else None
                if retry is None:
                    raise
            else:
                if not guessed or response.status_code != 401:
                    return response
                retry = self.auth.retry_after(used)
                if retry is None:
                    return response
            used, guessed = retry

    def get_manifest(self, name: RepositoryName, reference: str) -> Manifest | None:
        """The manifest of `name:reference`; None when the registry says it is absent."""
        context = self._context(f"read manifest {name}:{reference} from the registry", name)
        response = self._manifest_response(name, reference, context)
        if response.status_code == 404:
            if parse_error_body(response).code in ABSENT_CODES:
                return None
            raise InvalidResponse(
                f"cannot {context.action}: HTTP 404 without the registry's error code "
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
        return unexpected_answer(response, context)
