"""The interface every registry backend implements, and the kinds a user may name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from dtrctl.backends.unlock import WindowChange
    from dtrctl.models import Repository, Tag
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

# `auto` detects the kind; `registry` is a plain Docker registry (no API for settings).
BackendKind = Literal["auto", "dtr", "harbor", "registry"]
BACKEND_KINDS: tuple[BackendKind, ...] = ("auto", "dtr", "harbor", "registry")


class Backend(Protocol):
    """One registry's repository administration and push-check facts.

    Reads raise `DtrctlError`s; the per-repository changes (`set_immutability`,
    `preview_immutability`, `apply_settings`) put their error in the result instead, so one
    failure does not stop a fleet run.
    """

    kind: str

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

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        """For push-check: existence, immutability and push rights, errors kept in the state."""
        ...

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        """Every tag of the repository (all pages), one entry per platform manifest where the
        registry lists them so; `RepositoryNotFound` when the repository is absent."""
        ...

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        """For push-check: who pushed the tag and when; never raises."""
        ...

    def token_endpoint(self, url: str) -> tuple[str, str] | None:
        """The registry's token realm and service, where known without asking `GET /v2/`:
        push-check then asks for its token at once. None: wait for the registry's challenge."""
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
