"""The DTR REST API (`/api/v0`): repositories and tags, and what DTR's own 404 looks like."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from dtrctl.backends.dtr.wire import (
    access_from_api,
    create_body,
    repository_from_api,
    tag_from_api,
    update_body,
)
from dtrctl.client.http import RequestContext, json_body, parse_model
from dtrctl.client.json_api import JsonApi
from dtrctl.client.paging import cursor_pages
from dtrctl.errors import InvalidResponse, NoRegistryApi, NotFound
from dtrctl.records.repository import Repository, RepositoryAccess, Tag
from dtrctl.reference import RepositoryName

if TYPE_CHECKING:
    import httpx

DEFAULT_PAGE_SIZE = 100


class DtrClient:
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        auth: tuple[str, str] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self._api = JsonApi(http, base_url, auth)
        self._base = self._api.base
        self.username = self._api.username
        self._page_size = page_size

    def _url(self, *parts: str) -> str:
        return self._base + "/api/v0/" + "/".join(quote(part, safe="") for part in parts)

    def _context(
        self, action: str, name: RepositoryName | None = None, namespace: str | None = None
    ) -> RequestContext:
        return RequestContext(
            action=action,
            repository=str(name) if name else None,
            namespace=namespace or (name.namespace if name else None),
            username=self.username,
        )

    def _request(
        self, method: str, url: str, context: RequestContext, **kwargs: Any
    ) -> httpx.Response:
        return self._api.request(method, url, context, **kwargs)

    # Repositories

    def get_repository(self, name: RepositoryName) -> Repository:
        context = self._context(f"read repository {name}", name)
        response = self._request(
            "GET", self._url("repositories", name.namespace, name.name), context
        )
        return parse_model(repository_from_api, json_body(response, context), context)

    def get_repository_access(self, username: str, name: RepositoryName) -> RepositoryAccess:
        """The user's access level on the repository, and the repository itself, in one call."""
        context = self._context(f"read the access of user {username} to {name}", name)
        url = self._url("accounts", username, "repositoryAccess", name.namespace, name.name)
        response = self._request("GET", url, context)
        return parse_model(access_from_api, json_body(response, context), context)

    def create_repository(self, repository: Repository) -> Repository:
        name = RepositoryName(repository.namespace, repository.name)
        context = self._context(f"create repository {name}", name)
        response = self._request(
            "POST",
            self._url("repositories", name.namespace),
            context,
            # POST is not among the retried methods: a create is never repeated blindly.
            json=create_body(repository),
        )
        return parse_model(repository_from_api, json_body(response, context), context)

    def update_repository(self, repository: Repository) -> Repository:
        """PATCH with every writable field (the caller read the repository first)."""
        name = RepositoryName(repository.namespace, repository.name)
        context = self._context(f"change the settings of repository {name}", name)
        response = self._request(
            "PATCH",
            self._url("repositories", name.namespace, name.name),
            context,
            json=update_body(repository),
        )
        return parse_model(repository_from_api, json_body(response, context), context)

    def list_repositories(self, namespace: str | None = None) -> Iterator[Repository]:
        """Every repository visible to the caller (all pages), globally or in one namespace."""
        if namespace is None:
            url, context = self._url("repositories"), self._context("list repositories")
        else:
            url = self._url("repositories", namespace)
            context = self._context(
                f"list repositories of namespace {namespace}", namespace=namespace
            )

        def items(body: Any) -> list[Any]:
            if not isinstance(body, dict) or not isinstance(body.get("repositories"), list):
                raise InvalidResponse(
                    f"the registry's answer has no repository list while trying to {context.action}"
                )
            return body["repositories"]

        for item in self._paginate(url, context, items):
            yield parse_model(repository_from_api, item, context)

    # Tags

    def list_tags(self, name: RepositoryName) -> Iterator[Tag]:
        context = self._context(f"list the tags of {name}", name)

        def items(body: Any) -> list[Any]:
            if not isinstance(body, list):
                raise InvalidResponse(
                    f"the registry's answer is not a tag list while trying to {context.action}"
                )
            return body

        url = self._url("repositories", name.namespace, name.name, "tags")
        for item in self._paginate(url, context, items):
            yield parse_model(tag_from_api, item, context)

    def get_tag(self, name: RepositoryName, tag: str) -> list[Tag]:
        """One entry per platform manifest; `TagNotFound` when the tag is absent."""
        context = self._context(f"read tag {name}:{tag}", name)
        url = self._url("repositories", name.namespace, name.name, "tags", tag)
        body = json_body(self._request("GET", url, context), context)
        if not isinstance(body, list) or not body:
            raise InvalidResponse(
                f"the registry's answer is not a tag list while trying to {context.action}"
            )
        return [parse_model(tag_from_api, item, context) for item in body]

    def _paginate(
        self, url: str, context: RequestContext, items: Callable[[Any], list[Any]]
    ) -> Iterator[Any]:
        """Every entry of a listing, through the guarded paginator (`paging.cursor_pages`)."""

        def get(params: dict[str, str]) -> httpx.Response:
            return self._request("GET", url, context, params=params)

        return cursor_pages(get, items, context, page_size=self._page_size)

    def check_credentials(self) -> None:
        """One cheap authenticated call: `AuthenticationFailed` when DTR refuses the credentials."""
        context = self._context("list repositories")
        self._request("GET", self._url("repositories"), context, params={"pageSize": "1"})


# --- what DTR's own 404 looks like --------------------------------------------------------
# Every call of the backend goes through `CheckedDtrApi`, the one place that tells DTR's own 404
# (its error envelope with a `NO_SUCH_*` code) from a 404 of something else at that URL: a plain
# registry, UCP, a proxy, a URL ending in /api/v0. The latter is `NoRegistryApi` (exit 5), never
# "the repository does not exist". (Harbor's API module decides the same for Harbor.)


T = TypeVar("T")

# The codes of DTR's own "not found" answers (FACTS.md, Errors): NO_SUCH_REPOSITORY,
# NO_SUCH_ACCOUNT, NO_SUCH_REF, NO_SUCH_TAG.
DTR_NOT_FOUND_PREFIX = "NO_SUCH_"
NOT_DTR_HINT = (
    "Check the URL: it must be the DTR's own address (not UCP/MKE's, not a plain registry's). "
    "For a plain Docker registry, pass --backend registry (DTRCTL_BACKEND): push-check only"
)


def is_dtr_not_found(error: NotFound) -> bool:
    """Whether DTR itself said "not found" (rather than whatever else answers at the URL)."""
    return bool(error.dtr_code and error.dtr_code.startswith(DTR_NOT_FOUND_PREFIX))


def no_dtr_api(url: str) -> NoRegistryApi:
    where = url or "this URL"
    hint = NOT_DTR_HINT
    if url.rstrip("/").endswith("/api/v0"):
        hint = "Drop /api/v0 from the URL: dtrctl wants the DTR's address, e.g. https://dtr.example.com"
    return NoRegistryApi(
        f"{where} serves no DTR API (a 404 on /api/v0 that DTR did not send)", hint=hint, status=404
    )


class CheckedDtrApi:
    """The DTR API client, with a 404 that DTR did not send turned into `NoRegistryApi`."""

    def __init__(self, api: DtrClient, url: str = "") -> None:
        self._api = api
        self.url = url

    def _call(self, function: Callable[..., T], *args: object) -> T:
        try:
            return function(*args)
        except NotFound as error:
            if is_dtr_not_found(error):
                raise
            raise no_dtr_api(self.url) from None

    def get_repository(self, name: RepositoryName) -> Repository:
        return self._call(self._api.get_repository, name)

    def get_repository_access(self, username: str, name: RepositoryName) -> RepositoryAccess:
        return self._call(self._api.get_repository_access, username, name)

    def create_repository(self, repository: Repository) -> Repository:
        return self._call(self._api.create_repository, repository)

    def update_repository(self, repository: Repository) -> Repository:
        return self._call(self._api.update_repository, repository)

    def list_repositories(self, namespace: str | None = None) -> Iterator[Repository]:
        try:
            yield from self._api.list_repositories(namespace)
        except NotFound as error:
            if is_dtr_not_found(error):
                raise
            raise no_dtr_api(self.url) from None

    def get_tag(self, name: RepositoryName, tag: str) -> list[Tag]:
        return self._call(self._api.get_tag, name, tag)

    def list_tags(self, name: RepositoryName) -> Iterator[Tag]:
        try:
            yield from self._api.list_tags(name)
        except NotFound as error:
            if is_dtr_not_found(error):
                raise
            raise no_dtr_api(self.url) from None

    def check_credentials(self) -> None:
        self._call(self._api.check_credentials)
