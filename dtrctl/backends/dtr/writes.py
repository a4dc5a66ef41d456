"""DTR repository changes: read-modify-write, idempotent, never sent twice blindly."""

from __future__ import annotations

from typing import Protocol

from dtrctl.backends.dtr.wire import update_body
from dtrctl.errors import (
    DtrctlError,
    InvalidResponse,
    NetworkError,
    RepositoryExists,
    RepositoryNotFound,
    RequestTimeout,
)
from dtrctl.records.changes import (
    CreateOutcome,
    ImmutabilityResult,
    RepositorySettings,
    SettingsChange,
    SettingsResult,
)
from dtrctl.records.repository import Repository
from dtrctl.reference import RepositoryName

# A request whose answer never arrived whole: DTR may or may not have acted on it.
LOST_ANSWER = (RequestTimeout, NetworkError, InvalidResponse)


class RepositoryApi(Protocol):
    def get_repository(self, name: RepositoryName) -> Repository: ...
    def create_repository(self, repository: Repository) -> Repository: ...
    def update_repository(self, repository: Repository) -> Repository: ...


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
    except LOST_ANSWER as lost:
        existing = _read_after_lost_answer(api, name, lost, "created it")
        if existing is None:
            raise _perhaps_applied(lost, name, "created it") from None
        if _same_settings(existing, wanted):
            return existing
        raise RepositoryExists(
            f"repository {name} exists, but the answer to the create request was lost "
            "and its settings differ from those asked for",
            hint="Check it with `dtrctl repo show`",
        ) from None


def _read_after_lost_answer(
    api: RepositoryApi, name: RepositoryName, lost: DtrctlError, done: str
) -> Repository | None:
    """The repository as DTR has it now (None: it does not exist); `lost` if it cannot be read."""
    try:
        return api.get_repository(name)
    except RepositoryNotFound:
        return None
    except DtrctlError:
        raise _perhaps_applied(lost, name, done) from None


def _perhaps_applied(lost: DtrctlError, name: RepositoryName, done: str) -> DtrctlError:
    """`lost`, its hint now saying that DTR may have acted on the request all the same."""
    hint = f"DTR may have {done} all the same: check with `dtrctl repo show {name}` before retrying"
    lost.hint = f"{hint}. {lost.hint}" if lost.hint else hint
    return lost


def _same_settings(left: Repository, right: Repository) -> bool:
    return update_body(left) == update_body(right)


def _patch(api: RepositoryApi, wanted: Repository) -> Repository:
    """PATCH, and after a lost answer look before reporting: the change may be in all the same.

    The transport repeats a PATCH whose answer did not begin (connection refused or dropped,
    timeout, 429/502/503/504): it carries the full settings, so a repeat changes nothing more. One
    whose answer broke off after DTR began it is not sent again: DTR is asked what it now has, so
    a bulk run reports exactly what changed.
    """
    name = RepositoryName(wanted.namespace, wanted.name)
    try:
        updated = api.update_repository(wanted)
    except LOST_ANSWER as lost:
        current = _read_after_lost_answer(api, name, lost, "applied the change")
        if current is None or not _same_settings(current, wanted):
            raise _perhaps_applied(lost, name, "applied the change") from None
        updated = current
    if updated.immutable != wanted.immutable:
        raise InvalidResponse(
            f"the registry accepted the change of {wanted.full_name} but reports "
            f"immutability {'off' if wanted.immutable else 'on'}"
        )
    return updated


def set_immutability(
    api: RepositoryApi, name: RepositoryName, immutable: bool
) -> ImmutabilityResult:
    """Read-modify-write; no PATCH when the repository is already in the wanted state."""
    current = api.get_repository(name)
    if current.immutable == immutable:
        return ImmutabilityResult(str(name), immutable, changed=False)
    updated = _patch(api, RepositorySettings(immutable=immutable).apply_to(current))
    cleared = current.tag_limit > 0 and updated.tag_limit == 0
    return ImmutabilityResult(str(name), immutable, changed=True, tag_limit_cleared=cleared)


def preview_immutability(
    api: RepositoryApi,
    name: RepositoryName,
    immutable: bool,
    current: Repository | None = None,
) -> ImmutabilityResult:
    """What `set_immutability` would do, changing nothing (`changed` means "would change")."""
    state = current if current is not None else api.get_repository(name)
    changed = state.immutable != immutable
    cleared = changed and immutable and state.tag_limit > 0
    return ImmutabilityResult(str(name), immutable, changed=changed, tag_limit_cleared=cleared)


def apply_settings(api: RepositoryApi, change: SettingsChange) -> SettingsResult:
    """Create the repository (one that exists by now gets the settings), or read-modify-write."""
    if change.create:
        outcome = create_repository(api, change.name, change.settings, exist_ok=True)
        if outcome.created:
            return SettingsResult(str(change.name), "created")
        return SettingsResult(str(change.name), "updated" if outcome.changed else "unchanged")
    current = api.get_repository(change.name)
    wanted = change.settings.apply_to(current)
    if wanted == current:
        return SettingsResult(str(change.name), "unchanged")
    _patch(api, wanted)
    return SettingsResult(str(change.name), "updated")
