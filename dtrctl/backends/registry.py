"""`PlainRegistryBackend`: a plain Docker registry (`--backend registry`), which has no API for
repository settings.

push-check still works on `/v2` alone: every repository counts as present (a plain registry
creates repositories on push), immutability is unknown, and an existing tag is `overwrite` with a
note, never `free`. Every other command is a usage error (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NoReturn

from dtrctl.errors import UsageError
from dtrctl.push_check.facts import RepositoryState, TagDetails

if TYPE_CHECKING:
    from dtrctl.backends.unlock import WindowChange
    from dtrctl.models import Repository, Tag
    from dtrctl.reference import RepositoryName
    from dtrctl.repos.findings import AuditFinding
    from dtrctl.repos.settings import (
        CreateOutcome,
        ImmutabilityResult,
        RepositorySettings,
        SettingsChange,
        SettingsResult,
    )

NO_API_MESSAGE = "a plain registry has no API for repository settings"
NO_API_HINT = (
    "--backend registry (DTRCTL_BACKEND, the profile's backend) supports push-check only; "
    "use --backend dtr or auto for a DTR"
)


def _no_api() -> NoReturn:
    raise UsageError(NO_API_MESSAGE, hint=NO_API_HINT)


class PlainRegistryBackend:
    kind = "registry"

    def check_credentials(self) -> None:
        _no_api()

    def get_repository(self, name: RepositoryName) -> Repository:
        _no_api()

    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]:
        _no_api()

    def create_repository(
        self,
        name: RepositoryName,
        settings: RepositorySettings,
        *,
        exist_ok: bool,
        create_project: bool = False,
    ) -> CreateOutcome:
        _no_api()

    def audit_findings(self, namespaces: Iterable[str]) -> list[AuditFinding]:
        _no_api()

    def set_immutability(self, name: RepositoryName, immutable: bool) -> ImmutabilityResult:
        _no_api()

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        _no_api()

    def apply_settings(self, change: SettingsChange) -> SettingsResult:
        _no_api()

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        _no_api()

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        _no_api()

    def lift_change(self, change: WindowChange) -> None:
        _no_api()

    def restore_change(self, change: WindowChange) -> None:
        _no_api()

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return RepositoryState(found=True, immutable=None, has_api=False)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return TagDetails()

    def token_endpoint(self, url: str) -> None:
        # A plain registry names its token server only in its challenge (often another host).
        return None
