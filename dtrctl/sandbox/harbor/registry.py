"""The Harbor flavor's registry side and its top-level routing.

The /v2 implementation is the DTR flavor's (`dtrctl.sandbox.registry`); `HarborFlavor` gives it
Harbor's answers: the token service at `/service/token` for service `harbor-registry`, Basic
credentials accepted on /v2 too, projects and roles deciding who may pull and push, repositories
created by the first push into an existing project, a push into a missing project refused
(401 "project P not found", as Harbor's v2auth middleware answers), and tags made immutable by
the project's rules: a manifest PUT to such an existing tag is 412 PRECONDITION, even with the
same digest, and deleting one is 412 too. Any path outside Harbor's API, registry and token
service is its web portal's: 200 with the portal's HTML page (DTR's `/auth/token` included), as
Harbor's nginx sends every other path to the portal, which answers its `index.html`.
"""

from __future__ import annotations

import re
import traceback

from dtrctl.sandbox import registry
from dtrctl.sandbox.exchange import ApiError, Request, Response, json_response
from dtrctl.sandbox.flavor import RegistryFlavor
from dtrctl.sandbox.harbor import api
from dtrctl.sandbox.harbor.artifacts_api import immutable_tag_refusal
from dtrctl.sandbox.harbor.conventions import HarborError
from dtrctl.sandbox.harbor.state import HarborState

SERVICE = "harbor-registry"
# What Harbor's nginx routes to core; every other path goes to the portal.
CORE_PREFIXES = ("/api/", "/service/", "/v2/", "/c/", "/chartrepo/")
PORTAL_PAGE = (
    b'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Harbor</title>\n'
    b'<base href="/">\n</head>\n<body>\n<harbor-app>Loading...</harbor-app>\n</body>\n</html>\n'
)
REPOSITORY_PATH = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")


class HarborFlavor(RegistryFlavor):
    token_path = "/service/token"
    nested_names = True
    accepts_basic = True
    state: HarborState

    def __init__(self, state: HarborState) -> None:
        super().__init__(state)

    def service(self, request: Request) -> str:
        return SERVICE

    def grantable(self, username: str | None, repository: str) -> set[str]:
        project_name, _, path = repository.partition("/")
        project = self.state.project(project_name)
        if project is None or not path:
            return set()
        permissions = self.state.permissions(self.state.caller_named(username), project)
        actions = {
            action for action in ("pull", "push", "delete") if ("repository", action) in permissions
        }
        return actions | ({"*"} if "delete" in actions else set())

    def open_repository(self, full_name: str, action: str) -> tuple[str, str]:
        project, _, path = full_name.partition("/")
        if self.state.project(project) is None:
            raise _project_not_found(project)
        if self.state.get_repository(project, path) is None:
            if action != "push" or not REPOSITORY_PATH.fullmatch(path):
                raise ApiError(
                    404,
                    "NAME_UNKNOWN",
                    "repository name not known to registry",
                    {"name": full_name},
                )
            self.state.add_project_repository(project, path)
        return project, path

    def check_tag_write(self, request: Request, namespace: str, name: str, tag: str) -> None:
        if self.state.tag_is_immutable(namespace, name, tag):
            raise HarborError(
                412,
                "PRECONDITION",
                f"Failed to process request due to '{name}:{tag}' configured as immutable.",
            )

    def check_manifest_delete(self, namespace: str, name: str, reference: str) -> None:
        if ":" not in reference:
            raise HarborError(405, "UNSUPPORTED", f"unsupported digest {reference}")
        for tag in self.state.list_tags(namespace, name):
            if tag.digest == reference and self.state.tag_is_immutable(namespace, name, tag.name):
                raise immutable_tag_refusal(tag.name)

    def denied(self, request: Request, repository: str | None, action: str, error: str) -> ApiError:
        """Harbor's v2auth: a missing project first (without a challenge), then a Bearer
        challenge for a caller who sent nothing, else a Basic one."""
        has_credentials = "authorization" in request.headers
        if repository is not None:
            project = repository.partition("/")[0]
            reading_anonymously = not has_credentials and request.method in ("GET", "HEAD")
            if self.state.project(project) is None and not reading_anonymously:
                return _project_not_found(project)
        if not has_credentials:
            challenge = super().denied(request, repository, action, error)
            return HarborError(401, "UNAUTHORIZED", "unauthorized", headers=challenge.headers)
        message = (
            f"unauthorized to access repository: {repository}, action: {action}"
            if repository is not None
            else "unauthorized"
        )
        return HarborError(
            401, "UNAUTHORIZED", message, headers=[("WWW-Authenticate", 'Basic realm="harbor"')]
        )


def _project_not_found(project: str) -> HarborError:
    return HarborError(401, "UNAUTHORIZED", f"project {project} not found")


def dispatch(state: HarborState, request: Request) -> Response:
    """Answer any request to the Harbor flavor."""
    path = request.path
    flavor = HarborFlavor(state)
    try:
        if path == api.API_PREFIX or path.startswith(api.API_PREFIX + "/"):
            return api.handle(state, request)
        if path == "/api/version":
            return json_response(200, {"version": "v2.0"})
        if path == "/service/token":
            return registry.issue_token(state, request, flavor)
        if path == "/v2" or path.startswith("/v2/"):
            return registry.handle(state, request, flavor)
        if request.method in ("GET", "HEAD") and not path.startswith(CORE_PREFIXES):
            return Response(200, PORTAL_PAGE, [("Content-Type", "text/html")])
        raise HarborError(404, "NOT_FOUND", f"no endpoint {path}")
    except ApiError as error:
        return error.response()
    except Exception as error:  # a sandbox bug: tell the client, in Harbor's envelope
        message = f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
        return HarborError(500, "UNKNOWN", message).response()
