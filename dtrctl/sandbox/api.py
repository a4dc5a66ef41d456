"""The DTR REST API under /api/v0: repositories and their tags.

Choices where DTR's behaviour is not documented:
- Any write by an anonymous caller is 401. Creating a repository in an existing namespace
  without admin rights on it is 403 NOT_AUTHORIZED (namespaces are not secret in DTR), in an
  unknown namespace 404 NO_SUCH_ACCOUNT.
- Checks run in this order: authentication, existence/visibility, rights, body, conflicts.
- The repository page cursor is the id of the first repository of the next page; the tag
  page cursor is the name of the first tag of the next page. An unknown repository cursor is
  400 INVALID_PARAMETERS.
- Without `includeManifests=true`, a listed tag's `manifest` holds only digest and mediaType.
"""

from __future__ import annotations

import bisect
import json
import re
import urllib.parse
from typing import Any

from dtrctl.sandbox.dtr_bodies import VISIBILITIES, ManifestBody, RepositoryRecord, TagBody
from dtrctl.sandbox.exchange import ApiError, Request, Response, json_response
from dtrctl.sandbox.manifests import DIGEST_PATTERN
from dtrctl.sandbox.state import SandboxState, StoredManifest, StoredTag, at_least

REPOSITORY_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
MAX_FULL_NAME_LENGTH = 255
MAX_SHORT_DESCRIPTION_LENGTH = 140
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000

MESSAGES = {
    "NOT_AUTHENTICATED": "The client is not authenticated.",
    "NOT_AUTHORIZED": "The client is not authorized.",
    "NOT_FOUND": "Not Found",
    "NOT_ALLOWED": "Method Not Allowed",
    "NO_SUCH_ACCOUNT": "An account with the given name does not exist.",
    "NO_SUCH_REPOSITORY": "A repository with the given name does not exist.",
    "NO_SUCH_REF": "A ref with the given name does not exist for the given repository.",
    "NO_SUCH_TAG": "A tag with the given name does not exist for the given repository.",
    "REPOSITORY_EXISTS": "A repository with the same name already exists.",
    "INVALID_JSON": "Unable to parse the request body as JSON.",
    "INVALID_PARAMETERS": "One or more parameters are invalid.",
    "INVALID_REPOSITORY_NAME": "The name of the repository is invalid.",
    "INVALID_REPOSITORY_SHORT_DESCRIPTION": "The short description of the repository is invalid.",
    "INVALID_REPOSITORY_VISIBILITY": "The visibility value of the repository is invalid.",
}
_STATUSES = {
    "NOT_AUTHENTICATED": 401,
    "NOT_AUTHORIZED": 403,
    "NOT_FOUND": 404,
    "NOT_ALLOWED": 405,
    "NO_SUCH_ACCOUNT": 404,
    "NO_SUCH_REPOSITORY": 404,
    "NO_SUCH_REF": 404,
    "NO_SUCH_TAG": 404,
}
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_EDITABLE_FIELDS: dict[str, tuple[str, type]] = {
    # API field: (RepositoryRecord attribute, JSON type)
    "shortDescription": ("short_description", str),
    "longDescription": ("long_description", str),
    "visibility": ("visibility", str),
    "scanOnPush": ("scan_on_push", bool),
    "immutableTags": ("immutable", bool),
    "enableManifestLists": ("enable_manifest_lists", bool),
    "tagLimit": ("tag_limit", int),
}


def fail(code: str, detail: Any = None) -> ApiError:
    return ApiError(_STATUSES.get(code, 400), code, MESSAGES[code], detail)


def authenticate(state: SandboxState, request: Request) -> str | None:
    """The caller's username; None for an anonymous caller. Bad credentials are 401."""
    try:
        credentials = request.basic_credentials()
    except ValueError as error:
        raise fail("NOT_AUTHENTICATED", str(error)) from None
    if credentials is None:
        return None
    username, secret = credentials
    if not state.authenticate(username, secret):
        raise fail("NOT_AUTHENTICATED", "invalid username, password or access token")
    return username


def handle(state: SandboxState, request: Request) -> Response:
    caller = authenticate(state, request)
    relative = request.path.removeprefix("/api/v0/").rstrip("/")
    parts = [urllib.parse.unquote(part) for part in relative.split("/")]
    # HEAD answers like GET; the server leaves out the body.
    method = "GET" if request.method == "HEAD" else request.method
    match parts:
        case ["repositories"]:
            _allow(method, "GET")
            return _list_repositories(state, request, caller, None)
        case ["repositories", namespace]:
            _allow(method, "GET", "POST")
            if method == "GET":
                return _list_repositories(state, request, caller, namespace)
            return _create_repository(state, request, caller, namespace)
        case ["repositories", namespace, name]:
            _allow(method, "GET", "PATCH", "DELETE")
            if method == "GET":
                return json_response(
                    200, _visible_repository(state, caller, namespace, name).to_api()
                )
            if method == "PATCH":
                return _update_repository(state, request, caller, namespace, name)
            return _delete_repository(state, caller, namespace, name)
        case ["repositories", namespace, name, "tags"]:
            _allow(method, "GET")
            return _list_tags(state, request, caller, namespace, name)
        case ["repositories", namespace, name, "tags", reference]:
            _allow(method, "GET", "DELETE")
            if method == "GET":
                return _get_tag(state, request, caller, namespace, name, reference)
            return _delete_tag(state, caller, namespace, name, reference)
        case ["accounts", username, "repositoryAccess", namespace, name]:
            _allow(method, "GET")
            return _repository_access(state, caller, username, namespace, name)
    raise fail("NOT_FOUND", f"no API endpoint {request.path}")


def _repository_access(
    state: SandboxState, caller: str | None, username: str, namespace: str, name: str
) -> Response:
    """A user's access level on a repository: for that user or a system admin only."""
    caller = _require_caller(caller)
    if caller != username and not state.is_sysadmin(caller):
        raise fail("NOT_AUTHORIZED", "only the user in question or a system admin may ask")
    account = state.user_account(username)
    if account is None:
        raise fail("NO_SUCH_ACCOUNT", username)
    repository = _visible_repository(state, username, namespace, name)
    level = state.access_level(username, namespace, repository)
    return json_response(
        200, {"accessLevel": level, "user": account, "repository": repository.to_api()}
    )


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise fail("NOT_ALLOWED", f"allowed: {', '.join(allowed)}")


def _require_caller(caller: str | None) -> str:
    if caller is None:
        raise fail("NOT_AUTHENTICATED", "this operation needs credentials")
    return caller


def _visible_repository(
    state: SandboxState, caller: str | None, namespace: str, name: str
) -> RepositoryRecord:
    repository = state.get_repository(namespace, name)
    if repository is None or state.access_level(caller, namespace, repository) is None:
        raise fail("NO_SUCH_REPOSITORY", f"{namespace}/{name}")
    return repository


def _parse_bool(request: Request, name: str) -> bool:
    value = request.param(name)
    if value is None or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise fail("INVALID_PARAMETERS", f"{name} must be a boolean, got {value!r}")


def _page_size(request: Request) -> int:
    value = request.param("pageSize")
    if value is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise fail("INVALID_PARAMETERS", f"pageSize must be an integer, got {value!r}") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise fail("INVALID_PARAMETERS", f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    return size


def _list_repositories(
    state: SandboxState, request: Request, caller: str | None, namespace: str | None
) -> Response:
    if namespace is not None and not state.has_namespace(namespace):
        raise fail("NO_SUCH_ACCOUNT", namespace)
    size = _page_size(request)
    count = _parse_bool(request, "count")
    start = None
    cursor = request.param("pageStart")
    if cursor:
        start = state.repository_by_id(cursor)
        if start is None or (namespace is not None and start.namespace != namespace):
            raise fail("INVALID_PARAMETERS", f"pageStart {cursor!r} is not a repository cursor")
    page, following = state.list_repositories(caller, size, namespace, start)
    headers = []
    if following is not None:
        headers.append(("X-Next-Page-Start", following.id))
    if count:
        headers.append(("X-Resource-Count", str(state.count_repositories(caller, namespace))))
    return json_response(200, {"repositories": [repo.to_api() for repo in page]}, headers)


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body)
    except ValueError as error:
        raise fail("INVALID_JSON", str(error)) from None
    if not isinstance(body, dict):
        raise fail("INVALID_JSON", "the body must be a JSON object")
    return body


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    """RepositoryRecord attribute changes for the editable fields present in `body`."""
    changes: dict[str, Any] = {}
    for field_name, (attribute, kind) in _EDITABLE_FIELDS.items():
        value = body.get(field_name)
        # A JSON null leaves the Go zero value, i.e. the field counts as absent.
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise fail("INVALID_JSON", f"{field_name} must be a {kind.__name__}")
        changes[attribute] = value
    if "visibility" in changes:
        if changes["visibility"] == "":
            changes["visibility"] = "private"
        if changes["visibility"] not in VISIBILITIES:
            raise fail("INVALID_REPOSITORY_VISIBILITY", f"{changes['visibility']!r}")
    if len(changes.get("short_description", "")) > MAX_SHORT_DESCRIPTION_LENGTH:
        raise fail(
            "INVALID_REPOSITORY_SHORT_DESCRIPTION",
            f"at most {MAX_SHORT_DESCRIPTION_LENGTH} characters",
        )
    if changes.get("tag_limit", 0) < 0:
        raise fail("INVALID_PARAMETERS", "tagLimit must not be negative")
    return changes


def _create_repository(
    state: SandboxState, request: Request, caller: str | None, namespace: str
) -> Response:
    caller = _require_caller(caller)
    if not state.has_namespace(namespace):
        raise fail("NO_SUCH_ACCOUNT", namespace)
    if not at_least(state.namespace_level(caller, namespace), "admin"):
        raise fail("NOT_AUTHORIZED", f"{caller} is not an admin of {namespace}")
    body = _json_object(request)
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise fail("INVALID_JSON", "name must be a string")
    if (
        not name
        or not REPOSITORY_NAME.fullmatch(name)
        or len(namespace) + 1 + len(name) > MAX_FULL_NAME_LENGTH
    ):
        raise fail("INVALID_REPOSITORY_NAME", f"{name!r} does not match {REPOSITORY_NAME.pattern}")
    settings = _settings(body)
    with state.lock:
        if state.get_repository(namespace, name) is not None:
            raise fail("REPOSITORY_EXISTS", f"{namespace}/{name}")
        created = state.add_repository(RepositoryRecord(namespace=namespace, name=name, **settings))
    return json_response(201, created.to_api())


def _update_repository(
    state: SandboxState, request: Request, caller: str | None, namespace: str, name: str
) -> Response:
    caller = _require_caller(caller)
    with state.lock:
        repository = _visible_repository(state, caller, namespace, name)
        if not at_least(state.access_level(caller, namespace, repository), "admin"):
            raise fail("NOT_AUTHORIZED", f"{caller} may not change settings of {namespace}/{name}")
        changes = _settings(_json_object(request))
        updated = state.update_repository(namespace, name, **changes)
        state.record_settings_change()
    return json_response(200, updated.to_api())


def _delete_repository(
    state: SandboxState, caller: str | None, namespace: str, name: str
) -> Response:
    caller = _require_caller(caller)
    with state.lock:
        repository = state.get_repository(namespace, name)
        if repository is None:
            return Response(204)
        level = state.access_level(caller, namespace, repository)
        if level is None:
            raise fail("NO_SUCH_REPOSITORY", f"{namespace}/{name}")
        if not at_least(level, "admin"):
            raise fail("NOT_AUTHORIZED", f"{caller} may not delete {namespace}/{name}")
        state.delete_repository(namespace, name)
    return Response(204)


def _tag_manifest(manifest: StoredManifest) -> ManifestBody:
    return ManifestBody(
        digest=manifest.digest,
        media_type=manifest.media_type,
        config_media_type=manifest.config_media_type,
        config_digest=manifest.config_digest,
        os=manifest.os,
        architecture=manifest.architecture,
        size=manifest.size,
        created_at=manifest.created_at,
    )


def _tag_body(tag: StoredTag, manifest: StoredManifest) -> dict[str, Any]:
    return TagBody(
        name=tag.name,
        digest=tag.digest,
        author=tag.author,
        created_at=tag.created_at,
        updated_at=tag.updated_at,
        manifest=_tag_manifest(manifest),
    ).to_api()


def _tagged_manifest(
    state: SandboxState, namespace: str, name: str, tag: StoredTag
) -> StoredManifest:
    manifest = state.manifest(namespace, name, tag.digest)
    # Deleting a manifest deletes the tags naming it, so a tag's manifest is always stored.
    assert manifest is not None, f"tag {tag.name} names a missing manifest"
    return manifest


def _list_tags(
    state: SandboxState, request: Request, caller: str | None, namespace: str, name: str
) -> Response:
    _visible_repository(state, caller, namespace, name)
    size = _page_size(request)
    count = _parse_bool(request, "count")
    include_manifests = _parse_bool(request, "includeManifests")
    with state.lock:
        tags = state.list_tags(namespace, name)
        names = [tag.name for tag in tags]
        position = bisect.bisect_left(names, request.param("pageStart") or "")
        page = tags[position : position + size]
        entries = []
        for tag in page:
            body = _tag_body(tag, _tagged_manifest(state, namespace, name, tag))
            if not include_manifests:
                body["manifest"] = {key: body["manifest"][key] for key in ("digest", "mediaType")}
            entries.append(body)
    headers = []
    if position + size < len(tags):
        headers.append(("X-Next-Page-Start", tags[position + size].name))
    if count:
        headers.append(("X-Resource-Count", str(len(tags))))
    return json_response(200, entries, headers)


def _platform_entries(
    state: SandboxState, namespace: str, name: str, tag: StoredTag
) -> list[dict[str, Any]]:
    """One entry per platform manifest: an index tag keeps the index digest on top and
    names the platform manifest in `manifest.digest`."""
    manifest = _tagged_manifest(state, namespace, name, tag)
    if not manifest.children:
        return [_tag_body(tag, manifest)]
    # A platform manifest deleted by digest leaves its index behind: skip the gap.
    platforms = [state.manifest(namespace, name, child) for child in manifest.children]
    return [_tag_body(tag, platform) for platform in platforms if platform is not None]


def _get_tag(
    state: SandboxState,
    request: Request,
    caller: str | None,
    namespace: str,
    name: str,
    reference: str,
) -> Response:
    _visible_repository(state, caller, namespace, name)
    with state.lock:
        if DIGEST_PATTERN.fullmatch(reference):
            # Tags of that digest, and the platform entries of indexes that contain it.
            entries = [
                entry
                for tag in state.list_tags(namespace, name)
                for entry in _platform_entries(state, namespace, name, tag)
                if reference in (entry["digest"], entry["manifest"]["digest"])
            ]
        else:
            tag = state.get_tag(namespace, name, reference)
            entries = _platform_entries(state, namespace, name, tag) if tag else []
    wanted_os, wanted_arch = request.param("os"), request.param("arch")
    entries = [
        entry
        for entry in entries
        if (not wanted_os or entry["manifest"]["os"] == wanted_os)
        and (not wanted_arch or entry["manifest"]["architecture"] == wanted_arch)
    ]
    if not entries:
        raise fail("NO_SUCH_REF", f"{namespace}/{name}:{reference}")
    return json_response(200, entries)


def _delete_tag(
    state: SandboxState, caller: str | None, namespace: str, name: str, tag: str
) -> Response:
    caller = _require_caller(caller)
    with state.lock:
        repository = _visible_repository(state, caller, namespace, name)
        if not at_least(state.access_level(caller, namespace, repository), "read-write"):
            raise fail("NOT_AUTHORIZED", f"{caller} may not delete tags of {namespace}/{name}")
        if not state.delete_tag(namespace, name, tag):
            raise fail("NO_SUCH_TAG", f"{namespace}/{name}:{tag}")
    return Response(204)
