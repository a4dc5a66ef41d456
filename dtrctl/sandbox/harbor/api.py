"""Harbor's API v2.0 in the sandbox: routing, system info, the current user and projects.

Immutable tag rules are in `rules_api`, repository and artifact reads in `artifacts_api`,
their writes in `repository_writes`.
Choices where Harbor is not followed exactly:
- Projects cannot be updated or deleted; the project list filters `name` by substring.
- `/users/current/permissions` knows the project scope (`/project/<id or name>`) and `/system`.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from dtrctl import __version__
from dtrctl.sandbox.exchange import Request, Response, json_response
from dtrctl.sandbox.harbor import artifacts_api, repository_writes, rules_api
from dtrctl.sandbox.harbor.conventions import (
    HarborError,
    caller_of,
    check_csrf,
    denied,
    json_body,
    not_found,
    omit_empty,
    paged,
    unauthorized,
    with_session,
)
from dtrctl.sandbox.harbor.state import Caller, HarborState, Project
from dtrctl.sandbox.state import utc_timestamp

API_PREFIX = "/api/v2.0"
HARBOR_VERSION = f"v2.13.0-sandbox-{__version__}"
PROJECT_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def handle(state: HarborState, request: Request) -> Response:
    """Answer a request under /api/v2.0."""
    caller = caller_of(state, request)
    check_csrf(request)
    # Decoded once, as Harbor's router does: a repository name with `/` arrives encoded twice.
    segments = urllib.parse.unquote(request.path[len(API_PREFIX) :]).strip("/").split("/")
    return with_session(_route(state, request, caller, segments), caller, request)


def _not_allowed(request: Request) -> HarborError:
    return HarborError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")


def _route(
    state: HarborState, request: Request, caller: Caller | None, segments: list[str]
) -> Response:
    method = request.method
    head, rest = segments[0], segments[1:]
    if head == "ping" and not rest:
        return Response(200, b"Pong", [("Content-Type", "text/plain")])
    if head == "systeminfo" and not rest:
        return json_response(200, system_info(state, request, caller))
    if head == "users" and rest[:1] == ["current"]:
        return _current_user(state, request, caller, rest[1:])
    if head == "repositories" and not rest:
        return artifacts_api.list_all_repositories(state, request, caller)
    if head == "projects" and not rest:
        if method == "HEAD":
            return _head_project(state, request, caller)
        if method == "POST":
            return _create_project(state, request, caller)
        if method == "GET":
            return _list_projects(state, request, caller)
        raise _not_allowed(request)
    if head == "projects":
        by_name = rest[1:2] == ["repositories"]  # `{project_name}` there, never an id
        project = resolve_project(state, request, caller, rest[0], by_name)
        if len(rest) == 1:
            if method != "GET":
                raise _not_allowed(request)
            return json_response(200, project_body(state, caller, project))
        if rest[1] == "immutabletagrules":
            return rules_api.handle(state, request, caller, project, rest[2:])
        if rest[1] == "repositories":
            return repository_writes.handle(state, request, caller, project, rest[2:])
    raise not_found(f"no API endpoint {request.path}")


def system_info(state: HarborState, request: Request, caller: Caller | None) -> dict[str, Any]:
    """GeneralInfo: `harbor_version` and the settings only for an authenticated caller (2.13)."""
    info: dict[str, Any] = {
        "auth_mode": "db_auth",
        "primary_auth_mode": False,
        "self_registration": False,
        "banner_message": "",
        "current_time": utc_timestamp(),
        "oidc_provider_name": "",
    }
    if caller is not None:
        info |= {
            "harbor_version": HARBOR_VERSION,
            "external_url": request.base_url,
            "registry_url": request.host,
            "project_creation_restriction": state.project_creation_restriction,
            "has_ca_root": state.ca_pem is not None,
            "read_only": False,
            "notification_enable": True,
            "registry_storage_provider_name": "inmemory",
        }
    return info


def _current_user(
    state: HarborState, request: Request, caller: Caller | None, rest: list[str]
) -> Response:
    if request.method != "GET":
        raise _not_allowed(request)
    if caller is None:
        raise unauthorized()
    if rest == ["permissions"]:
        return json_response(200, _permissions(state, request, caller))
    if rest:
        raise not_found(f"no API endpoint {request.path}")
    if caller.user is None:
        raise HarborError(412, "PRECONDITION", "the current user is a robot account")
    user = caller.user
    body = {
        "user_id": user.user_id,
        "username": user.username,
        "email": f"{user.username}@sandbox.invalid",
        "realname": user.username,
        "comment": "",
        "sysadmin_flag": user.sysadmin,
        "admin_role_in_auth": False,
        "creation_time": user.creation_time,
        "update_time": user.creation_time,
    }
    return json_response(200, omit_empty(body, keep=("sysadmin_flag", "admin_role_in_auth")))


def _permissions(state: HarborState, request: Request, caller: Caller) -> list[dict[str, str]]:
    scope = (request.param("scope") or "/system").rstrip("/")
    relative = (request.param("relative") or "").lower() == "true"
    if scope == "/system":
        allowed = caller.sysadmin or (
            state.project_creation_restriction == "everyone" and caller.user is not None
        )
        return [{"resource": "project", "action": "create"}] if allowed else []
    match = re.fullmatch(r"/project/([^/]+)", scope)
    if match is None:
        raise HarborError(400, "BAD_REQUEST", f"unknown scope {scope}")
    project = state.project(match[1])
    if project is None and match[1].isdigit():
        project = state.project_by_id(int(match[1]))
    if project is None:
        return []
    prefix = "" if relative else f"{scope}/"
    return [
        {"resource": prefix + resource, "action": action}
        for resource, action in sorted(state.permissions(caller, project))
    ]


def resolve_project(
    state: HarborState, request: Request, caller: Caller | None, value: str, by_name: bool
) -> Project:
    """The project a path names, readable by the caller. `by_name`: the path's project is
    always a name (repositories); otherwise a numeric value is an id unless the request says
    `X-Is-Resource-Name: true`."""
    is_name = by_name or request.headers.get("x-is-resource-name", "").lower() == "true"
    if is_name or not value.isdigit():
        project = state.project(value)
    else:
        project = state.project_by_id(int(value))
    if project is None:
        raise not_found(f"project {value} not found")
    if not state.can(caller, project, "project", "read"):
        raise denied(caller)
    return project


def project_body(state: HarborState, caller: Caller | None, project: Project) -> dict[str, Any]:
    roles = state.role_ids(caller, project)
    body = {
        "project_id": project.project_id,
        "owner_id": project.owner_id,
        "name": project.name,
        "creation_time": project.creation_time,
        "update_time": project.update_time,
        "owner_name": project.owner_name,
        "togglable": state.can(caller, project, "project", "update"),
        "current_user_role_id": roles[0] if roles else 0,
        "current_user_role_ids": roles,
        "repo_count": len(state.project_repositories(project.name)),
        "metadata": {"public": "true" if project.public else "false"},
    }
    return omit_empty(body, keep=("repo_count",))


def _list_projects(state: HarborState, request: Request, caller: Caller | None) -> Response:
    name, public = request.param("name"), request.param("public")
    projects = [
        project
        for project in state.projects()
        if state.can(caller, project, "project", "read")
        and (not name or name in project.name)
        and (public is None or public.lower() == str(project.public).lower())
    ]
    page, headers = paged(request, projects)
    return json_response(200, [project_body(state, caller, p) for p in page], headers)


def _head_project(state: HarborState, request: Request, caller: Caller | None) -> Response:
    if caller is None:
        raise unauthorized()
    name = request.param("project_name") or ""
    if state.project(name) is None:
        raise not_found(f"project {name} not found")
    return Response(200)


def _may_create_project(state: HarborState, caller: Caller) -> bool:
    if caller.sysadmin:
        return True
    if caller.robot is not None:
        return caller.robot.project is None and ("project", "create") in caller.robot.permissions
    return state.project_creation_restriction == "everyone"


def _create_project(state: HarborState, request: Request, caller: Caller | None) -> Response:
    if caller is None:
        raise unauthorized()
    if not _may_create_project(state, caller):
        raise HarborError(403, "FORBIDDEN", "Only system admin can create project")
    body = json_body(request)
    name = body.get("project_name")
    if not isinstance(name, str) or len(name) > 255 or not PROJECT_NAME.fullmatch(name):
        raise HarborError(400, "BAD_REQUEST", f"invalid project name {name!r}")
    metadata = body.get("metadata") or {}
    public = body.get("public") is True or (
        isinstance(metadata, dict) and str(metadata.get("public", "false")).lower() == "true"
    )
    with state.lock:
        if state.project(name) is not None:
            raise HarborError(409, "CONFLICT", f"The project named {name} already exists")
        project = state.add_project(name, public=public, owner=caller.name)
    by_name = request.headers.get("x-resource-name-in-location", "").lower() == "true"
    location = f"{API_PREFIX}/projects/{name if by_name else project.project_id}"
    return Response(201, headers=[("Location", location)])
