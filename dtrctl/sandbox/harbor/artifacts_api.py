"""Repositories, artifacts and tags under `/api/v2.0`.

`{repository_name}` is the path inside the project, URL-encoded twice when it holds `/`
(`a%252Fb`); `Repository.name` in answers includes the project. `tags[].immutable` is computed
from the project's current rules only with `with_immutable_status=true` (else always false).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from dtrctl.sandbox.exchange import Request, Response, json_response
from dtrctl.sandbox.harbor.conventions import (
    HarborError,
    denied,
    flag,
    not_found,
    omit_empty,
    paged,
)
from dtrctl.sandbox.harbor.state import Caller, HarborState, Project
from dtrctl.sandbox.state import StoredManifest, StoredTag

NEVER = "0001-01-01T00:00:00.000Z"  # Harbor's pull_time of what was never pulled


def immutable_tag_refusal(tag: str) -> HarborError:
    return HarborError(
        412, "PRECONDITION", f"the tag {tag} configured as immutable, cannot be deleted"
    )


def repository_body(state: HarborState, project: Project, path: str) -> dict[str, Any]:
    repository = state.get_repository(project.name, path)
    pulls = repository.pulls if repository is not None else 0
    created = state.repository_time(project.name, path)
    body = {
        "id": state.object_id("repository", project.name, path),
        "project_id": project.project_id,
        "name": f"{project.name}/{path}",
        "description": state.description(project.name, path),
        "artifact_count": len(state.artifacts(project.name, path)),
        "pull_count": pulls,
        "creation_time": created,
        "update_time": created,
    }
    return omit_empty(body, keep=("artifact_count", "pull_count"))


def _repositories_page(
    state: HarborState, request: Request, pairs: list[tuple[Project, str]]
) -> Response:
    page, headers = paged(request, pairs)
    return json_response(200, [repository_body(state, p, path) for p, path in page], headers)


def list_all_repositories(state: HarborState, request: Request, caller: Caller | None) -> Response:
    if request.method != "GET":
        raise HarborError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")
    pairs = []
    for repository in state.project_repositories():
        project = state.project(repository.namespace)
        if project is not None and state.can(caller, project, "repository", "list"):
            pairs.append((project, repository.name))
    return _repositories_page(state, request, pairs)


def handle(
    state: HarborState, request: Request, caller: Caller | None, project: Project, rest: list[str]
) -> Response:
    """`rest`: the path after `/projects/{project}/repositories`, decoded once."""
    if not state.can(caller, project, "repository", "read"):
        raise denied(caller)
    if not rest:
        _only(request, "GET")
        pairs = [(project, r.name) for r in state.project_repositories(project.name)]
        return _repositories_page(state, request, pairs)
    path = urllib.parse.unquote(rest[0])
    if state.get_repository(project.name, path) is None:
        raise not_found(f"repository {project.name}/{path} not found")
    if len(rest) == 1:
        _only(request, "GET")
        return json_response(200, repository_body(state, project, path))
    if rest[1] != "artifacts" or len(rest) > 5 or (len(rest) >= 4 and rest[3] != "tags"):
        raise not_found(f"no API endpoint {request.path}")
    if len(rest) == 2:
        _only(request, "GET")
        items = [
            _artifact_body(state, request, project, path, manifest)
            for manifest in state.artifacts(project.name, path)
        ]
        page, headers = paged(request, items)
        return json_response(200, page, headers)
    manifest = find_artifact(state, project, path, rest[2])
    if len(rest) == 3:
        _only(request, "GET")
        return json_response(200, _artifact_body(state, request, project, path, manifest))
    if len(rest) == 4:
        _only(request, "GET")
        tags = _tags_of(state, request, project, path, manifest, "with_immutable_status")
        page, headers = paged(request, tags)
        return json_response(200, page, headers)
    _only(request, "DELETE")
    return _delete_tag(state, caller, project, path, manifest, rest[4])


def _only(request: Request, method: str) -> None:
    if request.method != method:
        raise HarborError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")


def find_artifact(
    state: HarborState, project: Project, path: str, reference: str
) -> StoredManifest:
    """The artifact a tag or digest names; 404 in Harbor's words when there is none."""
    digest: str | None = reference
    if ":" not in reference:
        tag = state.get_tag(project.name, path, reference)
        digest = tag.digest if tag is not None else None
    manifest = state.manifest(project.name, path, digest) if digest else None
    if manifest is None:
        separator = "@" if ":" in reference else ":"
        raise not_found(f"artifact {project.name}/{path}{separator}{reference} not found")
    return manifest


def _tag_body(
    state: HarborState, project: Project, path: str, tag: StoredTag, immutable: bool
) -> dict[str, Any]:
    return {
        "id": state.object_id("tag", project.name, path, tag.name),
        "repository_id": state.object_id("repository", project.name, path),
        "artifact_id": state.object_id("artifact", project.name, path, tag.digest),
        "name": tag.name,
        "push_time": tag.updated_at,
        "pull_time": NEVER,
        "immutable": immutable,
    }


def _tags_of(
    state: HarborState,
    request: Request,
    project: Project,
    path: str,
    manifest: StoredManifest,
    status_parameter: str,
) -> list[dict[str, Any]]:
    computed = flag(request, status_parameter)
    return [
        _tag_body(
            state,
            project,
            path,
            tag,
            computed and state.tag_is_immutable(project.name, path, tag.name),
        )
        for tag in state.list_tags(project.name, path)
        if tag.digest == manifest.digest
    ]


def _artifact_body(
    state: HarborState, request: Request, project: Project, path: str, manifest: StoredManifest
) -> dict[str, Any]:
    artifact_id = state.object_id("artifact", project.name, path, manifest.digest)
    body: dict[str, Any] = {
        "id": artifact_id,
        "type": "IMAGE",
        "media_type": manifest.config_media_type or manifest.media_type,
        "manifest_media_type": manifest.media_type,
        "project_id": project.project_id,
        "repository_id": state.object_id("repository", project.name, path),
        "repository_name": f"{project.name}/{path}",
        "digest": manifest.digest,
        "size": manifest.size,
        "push_time": manifest.created_at,
        "pull_time": NEVER,
    }
    references = []
    for child in manifest.children:
        member = state.manifest(project.name, path, child)
        platform = {"architecture": member.architecture, "os": member.os} if member else {}
        references.append(
            {
                "parent_id": artifact_id,
                "child_id": state.object_id("artifact", project.name, path, child),
                "child_digest": child,
                "platform": platform,
            }
        )
    if references:
        body["references"] = references
    # with_tag defaults to true in Harbor's Swagger.
    if (request.param("with_tag") or "true").lower() == "true":
        tags = _tags_of(state, request, project, path, manifest, "with_immutable_status")
        if tags:
            body["tags"] = tags
    return body


def _delete_tag(
    state: HarborState,
    caller: Caller | None,
    project: Project,
    path: str,
    manifest: StoredManifest,
    tag_name: str,
) -> Response:
    if not state.can(caller, project, "tag", "delete"):
        raise denied(caller)
    with state.lock:
        tag = state.get_tag(project.name, path, tag_name)
        if tag is None or tag.digest != manifest.digest:
            raise not_found(f"tag {tag_name} not found")
        if state.tag_is_immutable(project.name, path, tag_name):
            raise immutable_tag_refusal(tag_name)
        state.delete_tag(project.name, path, tag_name)
    return Response(200)
