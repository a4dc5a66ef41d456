"""`DtrBackend`: the `Backend` interface on top of the DTR API client.

Every call goes through `dtrctl.backends.dtr.api.CheckedDtrApi`, the API module's one place that
tells DTR's own 404 from a 404 of something else at that URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

# `writes` (and the change records) only in the methods that write: push-check never does.
from dtrctl.backends.dtr import push_facts
from dtrctl.backends.dtr.api import CheckedDtrApi
from dtrctl.errors import NotFound
from dtrctl.settings import url_registry

if TYPE_CHECKING:
    from dtrctl.backends.dtr.api import DtrClient
    from dtrctl.records.changes import (
        CreateOutcome,
        ImmutabilityResult,
        RepositorySettings,
        SettingsChange,
        SettingsResult,
    )
    from dtrctl.records.findings import AuditFinding
    from dtrctl.records.push import RepositoryState, TagDetails
    from dtrctl.records.repository import Repository, Tag
    from dtrctl.records.unlock import WindowChange
    from dtrctl.reference import RepositoryName


class DtrBackend:
    kind = "dtr"

    def __init__(
        self,
        api: DtrClient,
        *,
        url: str = "",
        plain_fallback: bool = False,
        another_kind: Callable[[], bool] | None = None,
    ) -> None:
        """`plain_fallback`: no DTR API at `url` means a plain registry (push-check's automatic
        mode for a host named only by the references), rather than an error. `another_kind`:
        whether another kind answers at `url` (`dtrctl.backends.detect`'s probe)."""
        self.api = CheckedDtrApi(api, url)
        self.plain_fallback = plain_fallback
        self.another_kind = another_kind

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
        from dtrctl.backends.dtr import writes

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
        from dtrctl.backends.dtr import writes

        return writes.set_immutability(self.api, name, immutable)

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        from dtrctl.backends.dtr import writes

        return writes.preview_immutability(self.api, name, immutable, current)

    def apply_settings(self, change: SettingsChange) -> SettingsResult:
        from dtrctl.backends.dtr import writes

        return writes.apply_settings(self.api, change)

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        from dtrctl.backends.dtr import unlock

        return unlock.plan_unlock(self.api, name)

    def lift_change(self, change: WindowChange) -> None:
        from dtrctl.backends.dtr import unlock

        unlock.lift(self.api, change)

    def restore_change(self, change: WindowChange) -> None:
        from dtrctl.backends.dtr import unlock

        unlock.restore(self.api, change)

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return push_facts.repository_state(
            self.api,
            name,
            username,
            plain_fallback=self.plain_fallback,
            another_kind=self.another_kind,
        )

    def push_right(self, name: RepositoryName, granted: frozenset[str] | None) -> None:
        return None  # DTR's repository access call told it (`repository_state`)

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        return self.api.list_tags(name)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return push_facts.tag_details(self.api, name, tag)

    def token_endpoint(self, url: str) -> tuple[str, str]:
        # DTR's token server is its own /auth/token, for the service named by its host.
        return f"{url.rstrip('/')}/auth/token", str(url_registry(url))
