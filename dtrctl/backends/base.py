"""The interfaces of the registry backends: what push-check needs of every kind
(`PushCheckFacts`, a plain registry's whole interface), and repository administration on top
(`Backend`: DTR, Harbor)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dtrctl.errors import DtrctlError
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


class PushCheckFacts(Protocol):
    """What push-check asks of a registry's API besides `/v2`; these never raise: an error is
    kept in the state or details."""

    kind: str

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        """For push-check: existence, immutability and push rights, errors kept in the state."""
        ...

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        """For push-check: who pushed the tag and when; never raises."""
        ...

    def push_right(
        self, name: RepositoryName, granted: frozenset[str] | None
    ) -> bool | DtrctlError | None:
        """For push-check: whether the caller may push to `name`, given the actions the
        registry's token grants (`granted`, None when unknown); None where the kind cannot
        tell or `repository_state` told already; the error of a look-up that failed."""
        ...

    def token_endpoint(self, url: str) -> tuple[str, str] | None:
        """The registry's token realm and service, where known without asking `GET /v2/`:
        push-check then asks for its token at once. None: wait for the registry's challenge."""
        ...


class Backend(PushCheckFacts, Protocol):
    """One registry's repository administration, and push-check facts.

    Every method raises `DtrctlError`s, the per-repository changes (`set_immutability`,
    `preview_immutability`, `apply_settings`) too: the runners (`repos/bulk.py`,
    `repos/migrate_run.py`) turn one repository's failure into its result, so one failure does
    not stop a fleet run.
    """

    def check_credentials(self) -> None:
        """One cheap authenticated call: `AuthenticationFailed` when the registry refuses."""
        ...

    def get_repository(self, name: RepositoryName) -> Repository: ...

    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]: ...

    def create_repository(
        self,
        name: RepositoryName,
        settings: RepositorySettings,
        *,
        exist_ok: bool,
        create_project: bool = False,
    ) -> CreateOutcome:
        """`create_project`: on Harbor, create a missing project (elsewhere a usage error)."""
        ...

    def audit_findings(self, namespaces: Iterable[str]) -> list[AuditFinding]:
        """Problems of the registry's immutability setup beyond drift (Harbor: broken rules)."""
        ...

    def set_immutability(self, name: RepositoryName, immutable: bool) -> ImmutabilityResult: ...

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        """What `set_immutability` would do, changing nothing (`changed`: would change)."""
        ...

    def apply_settings(self, change: SettingsChange) -> SettingsResult: ...

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        """Every tag of the repository (all pages), one entry per platform manifest where the
        registry lists them so; `RepositoryNotFound` when the repository is absent."""
        ...

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        """`repo unlock`: the settings to lift so that no tag of the repository is immutable
        (none when it is mutable already); reads only, raises."""
        ...

    def lift_change(self, change: WindowChange) -> None:
        """Lift one setting `plan_unlock` named; raises."""
        ...

    def restore_change(self, change: WindowChange) -> None:
        """Put one lifted setting back, idempotently (also for `--recover`); raises."""
        ...
