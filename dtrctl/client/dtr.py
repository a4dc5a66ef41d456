"""The DTR REST API (`/api/v0`): repositories and tags."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from dtrctl.client.http import RequestContext, json_body, parse_model, send
from dtrctl.client.paging import cursor_pages
from dtrctl.errors import InvalidResponse
from dtrctl.models import Repository, RepositoryAccess, Tag
from dtrctl.reference import RepositoryName

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
        self._http = http
        self._base = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(*auth) if auth else None
        self.username = auth[0] if auth else None
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
        if self._auth is not None:
            kwargs["auth"] = self._auth
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        return send(self._http, method, url, context, headers=headers, **kwargs)

    # Repositories

    def get_repository(self, name: RepositoryName) -> Repository:
        context = self._context(f"read repository {name}", name)
        response = self._request(
            "GET", self._url("repositories", name.namespace, name.name), context
        )
        return parse_model(Repository.from_api, json_body(response, context), context)

    def get_repository_access(self, username: str, name: RepositoryName) -> RepositoryAccess:
        """The user's access level on the repository, and the repository itself, in one call."""
        context = self._context(f"read the access of user {username} to {name}", name)
        url = self._url("accounts", username, "repositoryAccess", name.namespace, name.name)
        response = self._request("GET", url, context)
        return parse_model(RepositoryAccess.from_api, json_body(response, context), context)

    def create_repository(self, repository: Repository) -> Repository:
        name = RepositoryName(repository.namespace, repository.name)
        context = self._context(f"create repository {name}", name)
        response = self._request(
            "POST",
            self._url("repositories", name.namespace),
            context,
            # POST is not among the retried methods: a create is never repeated blindly.
            json=repository.create_body(),
        )
        return parse_model(Repository.from_api, json_body(response, context), context)

    def update_repository(self, repository: Repository) -> Repository:
        """PATCH with every writable field (the caller read the repository first)."""
        name = RepositoryName(repository.namespace, repository.name)
        context = self._context(f"change the settings of repository {name}", name)
        response = self._request(
            "PATCH",
            self._url("repositories", name.namespace, name.name),
            context,
            json=repository.update_body(),
        )
        return parse_model(Repository.from_api, json_body(response, context), context)

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
            yield parse_model(Repository.from_api, item, context)

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
            yield parse_model(Tag.from_api, item, context)

    def get_tag(self, name: RepositoryName, tag: str) -> list[Tag]:
        """One entry per platform manifest; `TagNotFound` when the tag is absent."""
        context = self._context(f"read tag {name}:{tag}", name)
        url = self._url("repositories", name.namespace, name.name, "tags", tag)
        body = json_body(self._request("GET", url, context), context)
        if not isinstance(body, list) or not body:
            raise InvalidResponse(
                f"the registry's answer is not a tag list while trying to {context.action}"
            )
        return [parse_model(Tag.from_api, item, context) for item in body]

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
