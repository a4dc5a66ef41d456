"""`DtrBackend`: the `Backend` interface on top of the DTR API client.

Every call goes through `CheckedDtrApi`, the one place that tells DTR's own 404 (its error
envelope with a `NO_SUCH_*` code) from a 404 of something else at that URL: a plain registry,
UCP, a proxy, a URL ending in /api/v0. The latter is `NoRegistryApi` (exit 5), never "the
repository does not exist".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar

from dtrctl.backends.dtr import push_facts, unlock, writes
from dtrctl.errors import NoRegistryApi, NotFound
from dtrctl.settings import url_registry

if TYPE_CHECKING:
    from dtrctl.backends.unlock import WindowChange
    from dtrctl.models import Repository, RepositoryAccess, Tag
    from dtrctl.push_check.facts import RepositoryState, TagDetails
    from dtrctl.reference import RepositoryName
    from dtrctl.repos.findings import AuditFinding
    from dtrctl.repos.settings import (
        CreateOutcome,
        ImmutabilityResult,
        RepositorySettings,
        SettingsChange,
        SettingsResult,
    )


class DtrApi(Protocol):
    """The calls of `dtrctl.client.dtr.DtrClient` this backend uses."""

    def get_repository(self, name: RepositoryName) -> Repository: ...
    def get_repository_access(self, username: str, name: RepositoryName) -> RepositoryAccess: ...
    def create_repository(self, repository: Repository) -> Repository: ...
    def update_repository(self, repository: Repository) -> Repository: ...
    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]: ...
    def get_tag(self, name: RepositoryName, tag: str) -> list[Tag]: ...
    def list_tags(self, name: RepositoryName) -> Iterable[Tag]: ...
    def check_credentials(self) -> None: ...


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

    def __init__(self, api: DtrApi, url: str = "") -> None:
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


class DtrBackend:
    kind = "dtr"

    def __init__(self, api: DtrApi, *, url: str = "", plain_fallback: bool = False) -> None:
        """`plain_fallback`: no DTR API at `url` means a plain registry (push-check's automatic
        mode for a host named only by the references), rather than an error."""
        self.api = CheckedDtrApi(api, url)
        self.plain_fallback = plain_fallback

    def check_credentials(self) -> None:
        self.api.check_credentials()

    def get_repository(self, name: RepositoryName) -> Repository:
        return self.api.get_repository(name)

    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]:
        return self.api.list_repositories(namespace)

    def create_repository(
        self,
        name: RepositoryName,
        settings: RepositorySettings,
        *,
        exist_ok: bool,
        create_project: bool = False,
    ) -> CreateOutcome:
        try:
            return writes.create_repository(self.api, name, settings, exist_ok=exist_ok)
        except NotFound as error:
            if create_project and error.dtr_code == "NO_SUCH_ACCOUNT":
                # A namespace that exists needs nothing; a missing one cannot be made here.
                error.hint = (
                    "--create-project creates Harbor projects; DTR namespaces come from UCP"
                )
            raise

    def audit_findings(self, namespaces: Iterable[str]) -> list[AuditFinding]:
        return []  # DTR's immutability is one flag per repository: nothing can be malformed

    def set_immutability(self, name: RepositoryName, immutable: bool) -> ImmutabilityResult:
        return writes.set_immutability(self.api, name, immutable)

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        return writes.preview_immutability(self.api, name, immutable, current)

    def apply_settings(self, change: SettingsChange) -> SettingsResult:
        return writes.apply_settings(self.api, change)

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        return unlock.plan_unlock(self.api, name)

    def lift_change(self, change: WindowChange) -> None:
        unlock.lift(self.api, change)

    def restore_change(self, change: WindowChange) -> None:
        unlock.restore(self.api, change)

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return push_facts.repository_state(
            self.api, name, username, plain_fallback=self.plain_fallback
        )

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        return self.api.list_tags(name)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return push_facts.tag_details(self.api, name, tag)

    def token_endpoint(self, url: str) -> tuple[str, str]:
        # DTR's token server is its own /auth/token, for the service named by its host.
        return f"{url.rstrip('/')}/auth/token", str(url_registry(url))
