"""The registry side: the token server (/auth/token) and the Docker Registry HTTP API v2.

Immutability is enforced as DTR does, at manifest PUT by tag: an existing tag of an immutable
repository cannot be pushed again, not even with the digest it already has. What differs
between registries behind this same /v2 implementation (who may do what, which repositories
exist, whether a tag may be written, the token realm) is a `RegistryFlavor` (flavor.py).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timezone

from dtrctl.sandbox.exchange import ApiError, Request, Response, json_response
from dtrctl.sandbox.flavor import RegistryFlavor
from dtrctl.sandbox.images import sha256_digest
from dtrctl.sandbox.manifests import DIGEST_PATTERN, ManifestError, parse_manifest
from dtrctl.sandbox.state import (
    TOKEN_LIFETIME_SECONDS,
    RegistryToken,
    SandboxState,
    Upload,
)

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
SCOPE_PATTERN = re.compile(r"repository:([^:]+):([a-z*,]+)")
# What a challenge asks the client to fetch a token for, per required action.

_NAME = r"(?P<name>[^/]+(?:/[^/]+)+)"
_UPLOAD_START = re.compile(rf"/v2/{_NAME}/blobs/uploads/?")
_UPLOAD = re.compile(rf"/v2/{_NAME}/blobs/uploads/(?P<upload>[^/]+)")
_BLOB = re.compile(rf"/v2/{_NAME}/blobs/(?P<digest>[^/]+)")
_MANIFEST = re.compile(rf"/v2/{_NAME}/manifests/(?P<reference>[^/]+)")
_TAGS = re.compile(rf"/v2/{_NAME}/tags/list")
_NAMED = re.compile(rf"/v2/{_NAME}/(?:blobs|manifests|tags)/.*")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_token(
    state: SandboxState, request: Request, flavor: RegistryFlavor | None = None
) -> Response:
    """GET /auth/token: a bearer token for the requested actions the caller may do."""
    flavor = flavor or RegistryFlavor(state)
    try:
        credentials = request.basic_credentials()
    except ValueError as error:
        raise ApiError(401, "UNAUTHORIZED", "authentication required", str(error)) from None
    username = None
    if credentials is not None:
        if not flavor.authenticate(*credentials):
            raise ApiError(401, "UNAUTHORIZED", "invalid username, password or access token")
        username = credentials[0]
    access: dict[str, frozenset[str]] = {}
    for scope in request.query.get("scope", []):
        for item in scope.split():
            match = SCOPE_PATTERN.fullmatch(item)
            if match is None:
                continue
            repository, requested = match.groups()
            granted = flavor.grantable(username, repository) & set(requested.split(","))
            if granted:
                access[repository] = access.get(repository, frozenset()) | granted
    token = state.issue_token(username, access)
    return json_response(
        200,
        {
            "token": token.value,
            "access_token": token.value,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "issued_at": _iso(token.issued_at),
        },
    )


def handle(state: SandboxState, request: Request, flavor: RegistryFlavor | None = None) -> Response:
    try:
        response = _route(flavor or RegistryFlavor(state), request)
    except ApiError as error:
        response = error.response()
    except ManifestError as error:
        response = ApiError(400, error.code, error.message, error.detail).response()
    response.headers.append(API_VERSION_HEADER)
    return response


@dataclass(frozen=True)
class _Target:
    """An authorized request for one existing repository."""

    state: SandboxState
    request: Request
    namespace: str
    name: str
    token: RegistryToken
    flavor: RegistryFlavor

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    def url(self, suffix: str) -> str:
        return f"{self.request.base_url}/v2/{self.full_name}/{suffix}"


def _basic_token(
    flavor: RegistryFlavor, request: Request, repository: str | None, action: str
) -> RegistryToken:
    """A one-request token for Basic credentials, where the flavor accepts them on /v2."""
    try:
        credentials = request.basic_credentials()
    except ValueError:
        credentials = None
    if credentials is None or not flavor.authenticate(*credentials):
        raise flavor.denied(request, repository, action, "invalid_token")
    username = credentials[0]
    access = {}
    if repository is not None:
        access[repository] = frozenset(flavor.grantable(username, repository))
    now = time.time()
    return RegistryToken("", username, access, now, now + TOKEN_LIFETIME_SECONDS)


def _bearer(
    flavor: RegistryFlavor, request: Request, repository: str | None, action: str
) -> RegistryToken:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and flavor.accepts_basic:
        token = _basic_token(flavor, request, repository, action)
    elif scheme.lower() != "bearer":
        raise flavor.denied(request, repository, action, "")
    else:
        found = flavor.state.token(value.strip())
        if found is None:
            raise flavor.denied(request, repository, action, "invalid_token")
        token = found
    if repository is not None and not token.allows(repository, action):
        raise flavor.denied(request, repository, action, "insufficient_scope")
    return token


def _target(flavor: RegistryFlavor, request: Request, full_name: str, action: str) -> _Target:
    state = flavor.state
    full_name = urllib.parse.unquote(full_name)
    token = _bearer(flavor, request, full_name, action)
    with state.lock:
        namespace, name = flavor.open_repository(full_name, action)
    return _Target(state, request, namespace, name, token, flavor)


def _unsupported(request: Request) -> ApiError:
    return ApiError(405, "UNSUPPORTED", f"{request.method} is not supported on {request.path}")


def _route(flavor: RegistryFlavor, request: Request) -> Response:
    path, method = request.path, request.method
    reading = method in ("GET", "HEAD")
    if path in ("/v2", "/v2/"):
        _bearer(flavor, request, None, "pull")
        return json_response(200, {})
    match = _NAMED.fullmatch(path)
    if match is None or (not flavor.nested_names and match["name"].count("/") != 1):
        raise ApiError(404, "NOT_FOUND", f"no registry endpoint {path}")
    if match := _UPLOAD_START.fullmatch(path):
        if method != "POST":
            raise _unsupported(request)
        return _start_upload(_target(flavor, request, match["name"], "push"))
    if match := _UPLOAD.fullmatch(path):
        target = _target(flavor, request, match["name"], "push")
        return _continue_upload(target, urllib.parse.unquote(match["upload"]))
    if match := _BLOB.fullmatch(path):
        if not reading:
            raise _unsupported(request)
        return _get_blob(_target(flavor, request, match["name"], "pull"), match["digest"])
    if match := _MANIFEST.fullmatch(path):
        action = {"PUT": "push", "DELETE": "delete"}.get(method, "pull")
        if not reading and action == "pull":
            raise _unsupported(request)
        target = _target(flavor, request, match["name"], action)
        reference = urllib.parse.unquote(match["reference"])
        if method == "PUT":
            return _put_manifest(target, reference)
        if method == "DELETE":
            return _delete_manifest(target, reference)
        return _get_manifest(target, reference)
    if match := _TAGS.fullmatch(path):
        if not reading:
            raise _unsupported(request)
        return _list_tags(_target(flavor, request, match["name"], "pull"))
    raise ApiError(404, "NOT_FOUND", f"no registry endpoint {path}")


def _check_digest(digest: str | None) -> str:
    if digest is None or not DIGEST_PATTERN.fullmatch(digest):
        raise ApiError(400, "DIGEST_INVALID", "invalid digest", {"digest": digest})
    return digest


def _digest_mismatch(digest: str) -> ApiError:
    return ApiError(
        400, "DIGEST_INVALID", "provided digest did not match uploaded content", {"digest": digest}
    )


def _blob_created(target: _Target, digest: str) -> Response:
    return Response(
        201,
        headers=[("Location", target.url(f"blobs/{digest}")), ("Docker-Content-Digest", digest)],
    )


def _upload_headers(target: _Target, upload: Upload) -> list[tuple[str, str]]:
    return [
        ("Location", target.url(f"blobs/uploads/{upload.id}")),
        ("Range", f"0-{max(0, len(upload.data) - 1)}"),
        ("Docker-Upload-UUID", upload.id),
    ]


def _start_upload(target: _Target) -> Response:
    state, request = target.state, target.request
    mount, source = request.param("mount"), request.param("from")
    if mount is not None and source:
        source_namespace, _, source_name = source.partition("/")
        if (
            target.token.allows(source, "pull")
            and state.get_repository(source_namespace, source_name) is not None
            and state.mount_blob(
                target.namespace, target.name, _check_digest(mount), (source_namespace, source_name)
            )
        ):
            return _blob_created(target, mount)
    digest = request.param("digest")
    if digest is not None:
        if sha256_digest(request.body) != _check_digest(digest):
            raise _digest_mismatch(digest)
        state.add_blob(target.namespace, target.name, request.body, digest)
        return _blob_created(target, digest)
    upload = state.start_upload(target.namespace, target.name)
    return Response(202, headers=_upload_headers(target, upload))


def _continue_upload(target: _Target, upload_id: str) -> Response:
    state, request = target.state, target.request
    with state.lock:
        upload = state.upload(upload_id)
        if upload is None or (upload.namespace, upload.repository) != (
            target.namespace,
            target.name,
        ):
            raise ApiError(
                404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", {"uuid": upload_id}
            )
        if request.method == "GET":
            return Response(204, headers=_upload_headers(target, upload))
        if request.method == "DELETE":
            state.end_upload(upload_id)
            return Response(204)
        if request.method == "PATCH":
            content_range = request.headers.get("content-range")
            if content_range and not content_range.startswith(f"{len(upload.data)}-"):
                raise ApiError(
                    416, "BLOB_UPLOAD_INVALID", "blob upload invalid", {"range": content_range}
                )
            upload.data += request.body
            return Response(202, headers=_upload_headers(target, upload))
        if request.method == "PUT":
            digest = _check_digest(request.param("digest"))
            data = bytes(upload.data + request.body)
            if sha256_digest(data) != digest:
                raise _digest_mismatch(digest)
            state.end_upload(upload_id)
            state.add_blob(target.namespace, target.name, data, digest)
            return _blob_created(target, digest)
    raise _unsupported(request)


def _get_blob(target: _Target, digest: str) -> Response:
    data = target.state.blob(target.namespace, target.name, _check_digest(digest))
    if data is None:
        raise ApiError(404, "BLOB_UNKNOWN", "blob unknown to registry", {"digest": digest})
    return Response(
        200,
        data,
        [
            ("Content-Type", "application/octet-stream"),
            ("Docker-Content-Digest", digest),
            ("ETag", f'"{digest}"'),
        ],
    )


def _reference_kind(reference: str) -> str:
    """ "digest" or "tag"; anything else is a 400."""
    if ":" in reference:
        _check_digest(reference)
        return "digest"
    if not TAG_PATTERN.fullmatch(reference):
        raise ApiError(400, "TAG_INVALID", "manifest tag did not match URI", {"tag": reference})
    return "tag"


def _manifest_unknown(reference: str) -> ApiError:
    return ApiError(404, "MANIFEST_UNKNOWN", "manifest unknown", {"reference": reference})


def _get_manifest(target: _Target, reference: str) -> Response:
    state = target.state
    kind = _reference_kind(reference)
    with state.lock:
        digest = reference
        if kind == "tag":
            tag = state.get_tag(target.namespace, target.name, reference)
            if tag is None:
                raise _manifest_unknown(reference)
            digest = tag.digest
        manifest = state.manifest(target.namespace, target.name, digest)
        if manifest is None:
            raise _manifest_unknown(reference)
        if target.request.method == "GET":
            state.record_pull(target.namespace, target.name)
    # Served exactly as pushed, whatever the Accept header says: the digest stays the same.
    return Response(
        200,
        manifest.body,
        [
            ("Content-Type", manifest.media_type),
            ("Docker-Content-Digest", digest),
            ("ETag", f'"{digest}"'),
        ],
    )


def _put_manifest(target: _Target, reference: str) -> Response:
    state, request = target.state, target.request
    kind = _reference_kind(reference)
    body = request.body
    parsed = parse_manifest(request.headers.get("content-type", ""), body)
    digest = sha256_digest(body)
    if kind == "digest" and reference != digest:
        raise _digest_mismatch(reference)
    with state.lock:
        existing = (
            state.get_tag(target.namespace, target.name, reference) if kind == "tag" else None
        )
        if existing is not None:
            target.flavor.check_tag_write(request, target.namespace, target.name, reference)
        state.store_manifest(target.namespace, target.name, parsed, body, digest)
        if kind == "tag":
            state.push_tag(
                target.namespace, target.name, reference, digest, target.token.username or ""
            )
    return Response(
        201,
        headers=[
            ("Location", target.url(f"manifests/{digest}")),
            ("Docker-Content-Digest", digest),
        ],
    )


def _delete_manifest(target: _Target, reference: str) -> Response:
    state = target.state
    kind = _reference_kind(reference)
    with state.lock:
        target.flavor.check_manifest_delete(target.namespace, target.name, reference)
        if kind == "digest":
            deleted = state.delete_manifest(target.namespace, target.name, reference)
        else:
            deleted = state.delete_tag(target.namespace, target.name, reference)
    if not deleted:
        raise _manifest_unknown(reference)
    return Response(202)


def _list_tags(target: _Target) -> Response:
    request = target.request
    names = [tag.name for tag in target.state.list_tags(target.namespace, target.name)]
    last = request.param("last")
    if last:
        names = [name for name in names if name > last]
    headers = []
    limit = request.param("n")
    if limit is not None:
        if not limit.isdigit():
            raise ApiError(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")
        if int(limit) < len(names):
            names = names[: int(limit)]
            query = urllib.parse.urlencode({"n": limit, "last": names[-1] if names else ""})
            headers.append(("Link", f'</v2/{target.full_name}/tags/list?{query}>; rel="next"'))
    return json_response(200, {"name": target.full_name, "tags": names}, headers)
