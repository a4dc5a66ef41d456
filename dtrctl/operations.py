"""Repository operations built from client calls: read-modify-write, idempotent, never partial.

This layer knows nothing of the terminal; the CLI renders what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Protocol

from dtrctl.errors import (
    DtrctlError,
    InvalidResponse,
    NetworkError,
    RepositoryExists,
    RepositoryNotFound,
    RequestTimeout,
    UsageError,
)
from dtrctl.models import VISIBILITIES, Repository
from dtrctl.reference import RepositoryName

MAX_SHORT_DESCRIPTION = 140


class RepositoryApi(Protocol):
    def get_repository(self, name: RepositoryName) -> Repository: ...
    def create_repository(self, repository: Repository) -> Repository: ...
    def update_repository(self, repository: Repository) -> Repository: ...


@dataclass(frozen=True)
class RepositorySettings:
    """Settings given explicitly by the user; None means "not given, leave as is"."""

    immutable: bool | None = None
    visibility: str | None = None
    short_description: str | None = None
    long_description: str | None = None
    scan_on_push: bool | None = None
    tag_limit: int | None = None

    def validate(self) -> None:
        if self.visibility is not None and self.visibility not in VISIBILITIES:
            raise UsageError(f"visibility must be private or public, not {self.visibility!r}")
        if self.tag_limit is not None and self.tag_limit < 0:
            raise UsageError("the tag limit cannot be negative (0 means no limit)")
        if self.immutable and self.tag_limit:
            raise UsageError(
                "--immutable and a tag limit cannot be combined",
                hint="DTR treats immutability and tag limits as exclusive: a full immutable "
                "repository could accept no new tag. Drop --tag-limit or --immutable",
            )
        if self.short_description and len(self.short_description) > MAX_SHORT_DESCRIPTION:
            raise UsageError(
                f"the description is {len(self.short_description)} characters; "
                f"DTR allows at most {MAX_SHORT_DESCRIPTION}",
                hint="Put longer text in --long-description",
            )

    def apply_to(self, repository: Repository) -> Repository:
        changes = {f.name: getattr(self, f.name) for f in fields(self)}
        updated = repository.with_changes(**{k: v for k, v in changes.items() if v is not None})
        if updated.immutable and not repository.immutable and self.tag_limit is None:
            # Turning immutability on clears a tag limit in the same PATCH (exclusive in DTR).
            updated = updated.with_changes(tag_limit=0)
        return updated


@dataclass(frozen=True)
class CreateOutcome:
    repository: Repository
    created: bool
    changed: bool


def create_repository(
    api: RepositoryApi, name: RepositoryName, settings: RepositorySettings, *, exist_ok: bool
) -> CreateOutcome:
    settings.validate()
    wanted = settings.apply_to(Repository(namespace=name.namespace, name=name.name))
    try:
        return CreateOutcome(_create_once(api, wanted, name), created=True, changed=True)
    except RepositoryExists:
        if not exist_ok:
            raise
    current = api.get_repository(name)
    updated = settings.apply_to(current)
    if updated == current:
        return CreateOutcome(current, created=False, changed=False)
    return CreateOutcome(_patch(api, updated), created=False, changed=True)


def _create_once(api: RepositoryApi, wanted: Repository, name: RepositoryName) -> Repository:
    """POST, and after a lost answer look before deciding: a create is never sent twice blindly."""
    try:
        return api.create_repository(wanted)
    except (RequestTimeout, NetworkError, InvalidResponse) as lost:
        try:
            existing = api.get_repository(name)
        except RepositoryNotFound:
            raise lost from None
        if _same_settings(existing, wanted):
            return existing
        raise RepositoryExists(
            f"repository {name} exists, but the answer to the create request was lost "
            "and its settings differ from those asked for",
            hint="Check it with `dtrctl repo show`",
        ) from None


def _same_settings(left: Repository, right: Repository) -> bool:
    return left.update_body() == right.update_body()


def _patch(api: RepositoryApi, wanted: Repository) -> Repository:
    updated = api.update_repository(wanted)
    if updated.immutable != wanted.immutable:
        raise InvalidResponse(
            f"the registry accepted the change of {wanted.full_name} but reports "
            f"immutability {'off' if wanted.immutable else 'on'}"
        )
    return updated


@dataclass(frozen=True)
class ImmutabilityResult:
    repository: str
    immutable: bool | None
    changed: bool
    tag_limit_cleared: bool = False
    error: DtrctlError | None = None


def set_immutability(
    api: RepositoryApi, name: RepositoryName, immutable: bool
) -> ImmutabilityResult:
    """Read-modify-write; no PATCH when the repository is already in the wanted state."""
    try:
        current = api.get_repository(name)
        if current.immutable == immutable:
            return ImmutabilityResult(str(name), immutable, changed=False)
        updated = _patch(api, RepositorySettings(immutable=immutable).apply_to(current))
        cleared = current.tag_limit > 0 and updated.tag_limit == 0
        return ImmutabilityResult(str(name), immutable, changed=True, tag_limit_cleared=cleared)
    except DtrctlError as error:
        return ImmutabilityResult(str(name), None, changed=False, error=error)


def set_immutability_many(
    api: RepositoryApi,
    names: Sequence[RepositoryName],
    immutable: bool,
    *,
    concurrency: int = 8,
) -> list[ImmutabilityResult]:
    """Each repository on its own: one failure does not stop the others. Keeps input order."""
    if len(names) <= 1 or concurrency <= 1:
        return [set_immutability(api, name, immutable) for name in names]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda name: set_immutability(api, name, immutable), names))


def common_failure(errors: Iterable[DtrctlError]) -> DtrctlError | None:
    """The error that stands for all failures when every one failed the same way."""
    errors = list(errors)
    if errors and len({error.exit_code for error in errors}) == 1:
        return errors[0]
    return None
