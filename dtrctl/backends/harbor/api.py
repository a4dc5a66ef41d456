"""Harbor's API v2.0 (MSR 4): system info, projects, immutable tag rules, repositories, artifacts.

Conventions kept here, from Harbor's code (see shared/harbor-api/FACTS.md):
- `X-Is-Resource-Name: true` on every request with a project name in its path, so a numeric
  project name is never read as an id.
- A repository name with `/` is URL-encoded twice in a path (`a/b` → `a%252Fb`).
- HTTP Basic on every request and no cookies kept: Harbor demands a CSRF token on writes from a
  client that sends its `sid` session cookie back.
- Lists are paged (`page`, `page_size`, `X-Total-Count`, `Link`); every page is read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dtrctl.backends.harbor.rules import ImmutableRule
from dtrctl.backends.harbor.wire import HarborArtifact, HarborProject, HarborRepository
from dtrctl.client.http import RequestContext, json_body, parse_error_body
from dtrctl.client.json_api import JsonApi
from dtrctl.client.paging import numbered_pages
from dtrctl.errors import (
    BadRequest,
    Conflict,
    DtrctlError,
    InvalidResponse,
    NotFound,
    RepositoryNotFound,
)

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import httpx

API_PREFIX = "/api/v2.0"
RESOURCE_NAME_HEADER = {"X-Is-Resource-Name": "true"}
# Harbor's own default for rules (at most 100 is accepted; more is 422).
RULE_PAGE_SIZE = 10
LIST_PAGE_SIZE = 100
PRECONDITION_FAILED = 412
_RULE_LOCATION_RE = re.compile(r"/immutabletagrules/([0-9]+)/?$")


def path_part(text: str) -> str:
    return quote(text, safe="")


def repository_part(path: str) -> str:
    """A repository path for a URL path: encoded twice, so `/` arrives as `%2F` (`a%252Fb`)."""
    return quote(quote(path, safe=""), safe="")


class HarborClient:
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        auth: tuple[str, str] | None = None,
        *,
        rule_page_size: int = RULE_PAGE_SIZE,
        page_size: int = LIST_PAGE_SIZE,
    ) -> None:
        self._api = JsonApi(http, base_url, auth, keep_cookies=False)
        self._base = self._api.base
        self.username = self._api.username
        self._rule_page_size = rule_page_size
        self._page_size = page_size

    # --- plumbing ---------------------------------------------------------------------------

    def _url(self, *parts: str) -> str:
        return self._base + API_PREFIX + "/" + "/".join(parts)

    def _context(self, action: str, repository: str | None = None) -> RequestContext:
        return RequestContext(action=action, repository=repository, username=self.username)

    def _request(
        self, method: str, url: str, context: RequestContext, **kwargs: Any
    ) -> httpx.Response:
        return self._api.request(method, url, context, **kwargs)

    def _paged(
        self,
        url: str,
        context: RequestContext,
        page_size: int,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Iterator[Any]:
        """Every entry of a list, through the guarded paginator (`paging.numbered_pages`)."""

        def get(page: dict[str, str]) -> httpx.Response:
            query = {**(params or {}), **page}
            return self._request("GET", url, context, headers=headers or {}, params=query)

        return numbered_pages(get, _json_list(context), context, page_size=page_size)

    # --- system and user --------------------------------------------------------------------

    def system_info(self) -> dict[str, Any]:
        context = self._context("read Harbor's system information")
        body = json_body(self._request("GET", self._url("systeminfo"), context), context)
        if not isinstance(body, dict):
            raise InvalidResponse("Harbor's system information is not a JSON object")
        return body

    def harbor_version(self) -> str | None:
        """`harbor_version` of the system information (`v2.10.2-9e5b5b1e`); None when Harbor
        leaves it out (anonymous callers since 2.13) or sends something else. A server that
        does not serve the system information at all (a proxy, a partial fake) leaves the version
        unknown too: matching is then the cautious reading of both versions, never a guess."""
        try:
            info = self.system_info()
        except NotFound:
            logger.info("no Harbor system information here: its version stays unknown")
            return None
        version = info.get("harbor_version")
        return version if isinstance(version, str) and version.strip() else None

    def current_permissions(self, scope: str | None = None) -> list[tuple[str, str]]:
        """(resource, action) pairs the caller holds, e.g. for scope `/project/1`."""
        context = self._context("read the permissions of the current user")
        params = {"scope": scope, "relative": "true"} if scope else {}
        url = self._url("users", "current", "permissions")
        body = json_body(self._request("GET", url, context, params=params), context)
        if not isinstance(body, list):
            raise InvalidResponse("Harbor's permission list is not a JSON array")
        return [
            (item["resource"], item["action"])
            for item in body
            if isinstance(item, dict)
            and isinstance(item.get("resource"), str)
            and isinstance(item.get("action"), str)
        ]

    def check_credentials(self) -> None:
        """One cheap authenticated call: `AuthenticationFailed` when Harbor refuses them."""
        self.current_permissions()

    # --- projects ---------------------------------------------------------------------------

    def project_exists(self, project: str) -> bool:
        context = self._context(f"look up project {project}")
        response = self._request(
            "HEAD",
            self._url("projects"),
            context,
            params={"project_name": project},
            ok=lambda status: status in (200, 404),
        )
        return response.status_code == 200

    def get_project(self, project: str) -> HarborProject:
        context = self._context(f"read project {project}")
        url = self._url("projects", path_part(project))
        try:
            response = self._request("GET", url, context, headers=RESOURCE_NAME_HEADER)
        except NotFound as error:
            raise _project_missing(project, error) from None
        return _parsed(HarborProject.from_api, json_body(response, context))

    def create_project(self, project: str, *, public: bool = False) -> None:
        """POST /projects; `Conflict` (409) when it exists already."""
        context = self._context(f"create project {project}")
        body = {"project_name": project, "metadata": {"public": "true" if public else "false"}}
        self._request("POST", self._url("projects"), context, json=body)

    def list_projects(self) -> Iterator[HarborProject]:
        context = self._context("list projects")
        for item in self._paged(self._url("projects"), context, self._page_size):
            yield _parsed(HarborProject.from_api, item)

    # --- immutable tag rules ----------------------------------------------------------------

    def _rules_url(self, project: str, *rest: str) -> str:
        return self._url("projects", path_part(project), "immutabletagrules", *rest)

    def list_rules(self, project: str) -> list[ImmutableRule]:
        """Every rule of the project, all pages, as Harbor sent them (id order)."""
        context = self._context(f"list the immutability rules of project {project}")
        pages = self._paged(
            self._rules_url(project), context, self._rule_page_size, RESOURCE_NAME_HEADER
        )
        try:
            return [ImmutableRule.from_api(item) for item in pages]
        except NotFound as error:
            raise _project_missing(project, error) from None

    def create_rule(self, project: str, rule: ImmutableRule) -> int | None:
        """The new rule's id (from `Location`); None when Harbor has the identical rule (409)."""
        context = self._context(f"add an immutability rule to project {project}")
        body = rule.to_api()
        body.pop("id", None)
        try:
            response = self._request(
                "POST", self._rules_url(project), context, headers=RESOURCE_NAME_HEADER, json=body
            )
        except Conflict:
            return None
        except NotFound as error:
            raise _project_missing(project, error) from None
        match = _RULE_LOCATION_RE.search(response.headers.get("Location", ""))
        if match is None:
            raise InvalidResponse(
                f"Harbor created an immutability rule in project {project} but named no id "
                "in its Location header",
                hint=f"Check the rules of project {project} in Harbor before retrying",
            )
        return int(match.group(1))

    def update_rule(self, project: str, rule: ImmutableRule) -> None:
        """PUT the rule; its body id is the path id. Harbor either toggles `disabled` or
        replaces the content, never both: callers change one or the other."""
        if rule.id is None:
            raise ValueError("a rule must have an id to be updated")
        context = self._context(f"change immutability rule {rule.id} of project {project}")
        url = self._rules_url(project, str(rule.id))
        self._request("PUT", url, context, headers=RESOURCE_NAME_HEADER, json=rule.to_api())

    def delete_rule(self, project: str, rule_id: int) -> None:
        """DELETE the rule; Harbor's 412 (a precondition of the project's failed) is a
        `Conflict`: the request was valid, the rule stays."""
        context = self._context(f"delete immutability rule {rule_id} of project {project}")
        url = self._rules_url(project, str(rule_id))
        try:
            self._request("DELETE", url, context, headers=RESOURCE_NAME_HEADER)
        except BadRequest as error:
            if error.status != PRECONDITION_FAILED:
                raise
            raise Conflict(
                f"Harbor refused to delete immutability rule {rule_id} of project {project}: "
                f"a precondition failed (HTTP 412), so the rule stays{_server_said(error)}",
                hint=f"Check the rules of project {project} in Harbor (another change may be "
                "under way), then retry",
                status=error.status,
            ) from None

    # --- repositories and artifacts ---------------------------------------------------------

    def list_repositories(self, project: str | None = None) -> Iterator[HarborRepository]:
        """Every repository the caller sees: of one project, or of all projects."""
        if project is None:
            url, context = self._url("repositories"), self._context("list repositories")
        else:
            url = self._url("projects", path_part(project), "repositories")
            context = self._context(f"list the repositories of project {project}")
        try:
            for item in self._paged(url, context, self._page_size):
                yield _parsed(HarborRepository.from_api, item)
        except NotFound as error:
            if project is None:
                raise
            raise _project_missing(project, error) from None

    def _repository_url(self, project: str, path: str, *rest: str) -> str:
        repository = repository_part(path)
        return self._url("projects", path_part(project), "repositories", repository, *rest)

    def get_repository(self, project: str, path: str) -> HarborRepository:
        full = f"{project}/{path}"
        context = self._context(f"read repository {full}", full)
        try:
            response = self._request("GET", self._repository_url(project, path), context)
        except NotFound as error:
            raise _repository_missing(full, error) from None
        return _parsed(HarborRepository.from_api, json_body(response, context))

    def update_repository_description(self, project: str, path: str, description: str) -> None:
        full = f"{project}/{path}"
        context = self._context(f"change the description of repository {full}", full)
        url = self._repository_url(project, path)
        try:
            self._request("PUT", url, context, json={"description": description})
        except NotFound as error:
            raise _repository_missing(full, error) from None
        except BadRequest as error:
            if error.status != 405:
                raise
            # The request is right for Harbor's API: a server that refuses the method is not
            # the Harbor dtrctl expects (an older one, or a proxy), not the user's mistake.
            raise InvalidResponse(
                f"the server refused to {context.action}: HTTP 405, method not allowed "
                "(Harbor's API serves PUT on a repository)",
                hint="Check that the URL is Harbor's (MSR 4) and that no proxy in front of it "
                "refuses PUT; change the description in Harbor's UI meanwhile",
                status=405,
                dtr_code=error.dtr_code,
            ) from None

    def get_artifact(self, project: str, path: str, tag: str) -> HarborArtifact | None:
        """The artifact a tag points at, with Harbor's per-tag immutability; None: no such tag
        (or repository) in Harbor's own words. Anything else is an error, never "absent"."""
        full = f"{project}/{path}"
        context = self._context(f"read tag {full}:{tag}", full)
        url = self._repository_url(project, path, "artifacts", path_part(tag))
        params = {"with_tag": "true", "with_immutable_status": "true"}
        response = self._request(
            "GET", url, context, params=params, ok=lambda status: status in (200, 404)
        )
        if response.status_code == 404:
            if parse_error_body(response).code != "NOT_FOUND":
                raise InvalidResponse(
                    f"a 404 that is not Harbor's answer while trying to {context.action} "
                    "(a proxy in front of Harbor?)",
                    status=404,
                )
            return None
        return _parsed(HarborArtifact.from_api, json_body(response, context))

    def list_artifacts(self, project: str, path: str) -> Iterator[HarborArtifact]:
        """Every artifact of a repository with its tags (all pages). `RepositoryNotFound` only
        in Harbor's own words; a 404 that is not Harbor's is an error, never "absent"."""
        full = f"{project}/{path}"
        context = self._context(f"list the tags of repository {full}", full)
        url = self._repository_url(project, path, "artifacts")
        try:
            for item in self._paged(url, context, self._page_size, params={"with_tag": "true"}):
                yield _parsed(HarborArtifact.from_api, item)
        except NotFound as error:
            if error.dtr_code != "NOT_FOUND":
                raise InvalidResponse(
                    f"a 404 that is not Harbor's answer while trying to {context.action} "
                    "(a proxy in front of Harbor?)",
                    status=404,
                ) from None
            raise _repository_missing(full, error) from None


def _json_list(context: RequestContext) -> Callable[[Any], list[Any]]:
    def items(body: Any) -> list[Any]:
        if not isinstance(body, list):
            raise InvalidResponse(f"Harbor's answer is not a list while trying to {context.action}")
        return body

    return items


def _server_said(error: DtrctlError) -> str:
    """ ": what the server said" of an error built by `error_for_status`, or ""."""
    _, marker, said = error.message.partition(f"(HTTP {error.status})")
    return said if marker else ""


def _parsed(parser: Callable[[Any], Any], body: Any) -> Any:
    return parser(body)


def _project_missing(project: str, error: DtrctlError) -> NotFound:
    return NotFound(
        f"project {project} does not exist on Harbor, or this user may not see it",
        hint="Harbor keeps repositories in projects: create it in Harbor first "
        "(or pass --create-project where a command offers it)",
        status=error.status,
        dtr_code=error.dtr_code,
    )


def _repository_missing(full: str, error: DtrctlError) -> RepositoryNotFound:
    return RepositoryNotFound(
        f"repository {full} does not exist on Harbor, or this user may not see it",
        hint="Harbor creates a repository at its first push",
        status=error.status,
        dtr_code=error.dtr_code,
    )
