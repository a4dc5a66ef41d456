"""What a user asks of a repository's settings, and the records every backend answers with."""

from __future__ import annotations

from dataclasses import dataclass, fields

from dtrctl.errors import DtrctlError, UsageError
from dtrctl.records.repository import VISIBILITIES, Repository
from dtrctl.reference import RepositoryName

MAX_SHORT_DESCRIPTION = 140


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
        if updated.immutable and self.tag_limit:
            # As on create: asking a tag limit of a repository that is (and stays) immutable.
            raise UsageError(
                f"{repository.full_name} is immutable: a tag limit cannot be added to it",
                hint="DTR treats immutability and tag limits as exclusive. Drop the tag limit, "
                f"or turn immutability off first: dtrctl repo set-immutable "
                f"{repository.full_name} --off",
            )
        return updated


@dataclass(frozen=True)
class CreateOutcome:
    repository: Repository
    created: bool
    changed: bool
    # What the user should know besides (Harbor: the repository appears on first push).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImmutabilityResult:
    repository: str
    immutable: bool | None
    changed: bool
    tag_limit_cleared: bool = False
    error: DtrctlError | None = None
    # E.g. a Harbor project with more rules than its UI shows.
    warnings: tuple[str, ...] = ()
    # Turning off on Harbor: the ids of the rules that still make some tags immutable (None
    # where not asked or not Harbor), and which tags in words (`v* by rule 4`).
    rules_left: tuple[int, ...] | None = None
    still_immutable: str = ""


@dataclass(frozen=True)
class SettingsChange:
    """Settings one repository must have; `create` when it did not exist at planning time."""

    name: RepositoryName
    settings: RepositorySettings
    create: bool


@dataclass(frozen=True)
class SettingsResult:
    repository: str
    # "created", "updated", "unchanged" (someone else made the change first) or "failed".
    action: str
    error: DtrctlError | None = None

    @property
    def changed(self) -> bool:
        return self.action in ("created", "updated")
