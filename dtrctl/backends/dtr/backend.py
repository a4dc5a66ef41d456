"""`DtrBackend`: the `Backend` interface on top of the DTR API client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from dtrctl.backends.dtr import push_facts, writes

if TYPE_CHECKING:
    from dtrctl.models import Repository, RepositoryAccess, Tag
    from dtrctl.push_check.facts import RepositoryState, TagDetails
    from dtrctl.reference import RepositoryName
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
    def check_credentials(self) -> None: ...


class DtrBackend:
    kind = "dtr"

    def __init__(self, api: DtrApi) -> None:
        self.api = api

    def check_credentials(self) -> None:
        self.api.check_credentials()

    def get_repository(self, name: RepositoryName) -> Repository:
        return self.api.get_repository(name)

    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]:
        return self.api.list_repositories(namespace)

    def create_repository(
        self, name: RepositoryName, settings: RepositorySettings, *, exist_ok: bool
    ) -> CreateOutcome:
        return writes.create_repository(self.api, name, settings, exist_ok=exist_ok)

    def set_immutability(self, name: RepositoryName, immutable: bool) -> ImmutabilityResult:
        return writes.set_immutability(self.api, name, immutable)

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        return writes.preview_immutability(self.api, name, immutable, current)

    def apply_settings(self, change: SettingsChange) -> SettingsResult:
        return writes.apply_settings(self.api, change)

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return push_facts.repository_state(self.api, name, username)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return push_facts.tag_details(self.api, name, tag)
