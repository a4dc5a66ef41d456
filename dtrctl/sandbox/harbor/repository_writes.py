"""Writes under `/projects/{project_name}/repositories`: description update, repository and
artifact delete, tag create and artifact copy; reads go on to `artifacts_api`.

As Harbor (src/server/v2.0/handler/{repository,artifact}.go, src/controller/{artifact,tag}):
- Deleting an artifact deletes its tags, each refused on an immutable tag with 412 PRECONDITION
  `the tag <tag> configured as immutable, cannot be deleted`; the whole request then changes
  nothing (Harbor runs it in one transaction). A member of an index is 412
  VIOLATE_FOREIGN_KEY_CONSTRAINT. Deleting a repository deletes every artifact, so any immutable
  tag in it refuses the delete the same way; rules naming it stay.
- Copying an artifact onto a tag of the target repository that points elsewhere and is immutable
  there is 412 `the tag <tag> configured as immutable, cannot be updated`; a tag already on the
  same artifact is left alone. The target repository is created when missing.
- Creating a tag that exists in the repository is 409 CONFLICT, immutable or not: Harbor's
  createTag inserts the row without an immutability check and the unique index refuses it.
- `PUT` on a repository sets its description (a body without one clears it); 200, empty body.
Choices where Harbor is not followed exactly: tag names and target repository paths are checked
against the distribution grammar (400), and a refused copy leaves no manifest behind.
"""

from __future__ import annotations

import re
import urllib.parse

from dtrctl.sandbox.exchange import Request, Response
from dtrctl.sandbox.harbor import artifacts_api
from dtrctl.sandbox.harbor.conventions import HarborError, denied, json_body, not_found
from dtrctl.sandbox.harbor.state import Caller, HarborState, Project

TAG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_COMPONENT = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
REPOSITORY_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
# Harbor's `from`: "project/repository:tag" or "project/repository@digest".
SOURCE = re.compile(
    rf"(?P<repository>{_COMPONENT}(?:/{_COMPONENT})+)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)


def handle(
    state: HarborState, request: Request, caller: Caller | None, project: Project, rest: list[str]
) -> Response:
    """`rest`: the path after `/projects/{project}/repositories`, decoded once."""
    method, path = request.method, urllib.parse.unquote(rest[0]) if rest else ""
    if len(rest) == 1 and method == "PUT":
        return _update_description(state, request, caller, project, path)
    if len(rest) == 1 and method == "DELETE":
        return _delete_repository(state, caller, project, path)
    if rest[1:] == ["artifacts"] and method == "POST":
        return _copy_artifact(state, request, caller, project, path)
    if len(rest) == 3 and rest[1] == "artifacts" and method == "DELETE":
        return _delete_artifact(state, caller, project, path, rest[2])
    if len(rest) == 4 and rest[1] == "artifacts" and rest[3] == "tags" and method == "POST":
        return _create_tag(state, request, caller, project, path, rest[2])
    return artifacts_api.handle(state, request, caller, project, rest)


def _require(
    state: HarborState, caller: Caller | None, project: Project, resource: str, action: str
) -> None:
    if not state.can(caller, project, resource, action):
        raise denied(caller)


def _existing(state: HarborState, project: Project, path: str) -> None:
    if state.get_repository(project.name, path) is None:
        raise not_found(f"repository {project.name}/{path} not found")


def _update_description(
    state: HarborState, request: Request, caller: Caller | None, project: Project, path: str
) -> Response:
    _require(state, caller, project, "repository", "update")
    _existing(state, project, path)
    description = json_body(request).get("description")
    if description is not None and not isinstance(description, str):
        raise HarborError(400, "BAD_REQUEST", "description must be a string")
    state.set_description(project.name, path, description or "")
    return Response(200)


def _immutable_tag(state: HarborState, project: Project, path: str, tags: list[str]) -> str | None:
    return next((t for t in tags if state.tag_is_immutable(project.name, path, t)), None)


def _delete_repository(
    state: HarborState, caller: Caller | None, project: Project, path: str
) -> Response:
    _require(state, caller, project, "repository", "delete")
    with state.lock:
        _existing(state, project, path)
        names = [tag.name for tag in state.list_tags(project.name, path)]
        refused = _immutable_tag(state, project, path, names)
        if refused is not None:
            raise artifacts_api.immutable_tag_refusal(refused)
        state.delete_project_repository(project.name, path)
    return Response(200)


def _delete_artifact(
    state: HarborState, caller: Caller | None, project: Project, path: str, reference: str
) -> Response:
    _require(state, caller, project, "artifact", "delete")
    with state.lock:
        _existing(state, project, path)
        manifest = artifacts_api.find_artifact(state, project, path, reference)
        others = state.artifacts(project.name, path)
        if any(manifest.digest in other.children for other in others):
            raise HarborError(
                412,
                "VIOLATE_FOREIGN_KEY_CONSTRAINT",
                "the deleting artifact is referenced by others",
            )
        tags = [t.name for t in state.list_tags(project.name, path) if t.digest == manifest.digest]
        refused = _immutable_tag(state, project, path, tags)
        if refused is not None:
            raise artifacts_api.immutable_tag_refusal(refused)
        state.delete_artifact(project.name, path, manifest.digest)
    return Response(200)


def _create_tag(
    state: HarborState,
    request: Request,
    caller: Caller | None,
    project: Project,
    path: str,
    reference: str,
) -> Response:
    _require(state, caller, project, "tag", "create")
    name = json_body(request).get("name")
    with state.lock:
        _existing(state, project, path)
        manifest = artifacts_api.find_artifact(state, project, path, reference)
        if not isinstance(name, str) or not TAG_NAME.fullmatch(name):
            raise HarborError(400, "BAD_REQUEST", f"invalid tag name {name!r}")
        if state.get_tag(project.name, path, name) is not None:
            repository_id = state.object_id("repository", project.name, path)
            raise HarborError(
                409, "CONFLICT", f"tag {name} already exists under the repository {repository_id}"
            )
        assert caller is not None  # `_require` refuses anonymous callers
        state.push_tag(project.name, path, name, manifest.digest, caller.name)
    return Response(201)


def _source(
    state: HarborState, request: Request, caller: Caller | None
) -> tuple[str, str, str, str]:
    """(project, path, reference, digest) of the `from` artifact, readable by the caller."""
    value = request.param("from") or ""
    parsed = SOURCE.fullmatch(value)
    if parsed is None:
        raise HarborError(400, "BAD_REQUEST", f"invalid input: {value}")
    project_name, _, path = parsed["repository"].partition("/")
    project = state.project(project_name)
    if project is None:
        raise not_found(f"project {project_name} not found")
    _require(state, caller, project, "artifact", "read")
    reference = parsed["digest"] or parsed["tag"] or ""
    if state.get_repository(project_name, path) is None:
        raise not_found(f"repository {project_name}/{path} not found")
    digest = artifacts_api.find_artifact(state, project, path, reference).digest
    return project_name, path, reference, digest


def _copy_artifact(
    state: HarborState, request: Request, caller: Caller | None, project: Project, path: str
) -> Response:
    _require(state, caller, project, "artifact", "create")
    if not REPOSITORY_PATH.fullmatch(path):
        raise HarborError(400, "BAD_REQUEST", f"invalid repository name {path!r}")
    with state.lock:
        source_project, source_path, reference, digest = _source(state, request, caller)
        assert caller is not None  # `_require` refuses anonymous callers
        tags = [t.name for t in state.list_tags(source_project, source_path) if t.digest == digest]
        moved = [
            tag
            for tag in tags
            if (existing := state.get_tag(project.name, path, tag)) and existing.digest != digest
        ]
        refused = _immutable_tag(state, project, path, moved)
        if refused is not None:
            raise HarborError(
                412, "PRECONDITION", f"the tag {refused} configured as immutable, cannot be updated"
            )
        if state.get_repository(project.name, path) is None:
            state.add_project_repository(project.name, path)
        state.copy_artifact((source_project, source_path), digest, (project.name, path))
        for tag in tags:
            current = state.get_tag(project.name, path, tag)
            if current is None or current.digest != digest:
                state.push_tag(project.name, path, tag, digest, caller.name)
    location = f"{request.path.rstrip('/')}/{reference}"
    return Response(201, headers=[("Location", location)])
