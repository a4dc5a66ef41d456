"""`repo unlock` on DTR: the repository's `immutableTags` flag off for the window, then on.

Both writes read the repository and send every writable setting back with only the flag
changed, so a tag limit or a description set meanwhile is kept. Restoring is idempotent: a
repository already immutable is left alone, and a lost answer is settled by reading again.
"""

from __future__ import annotations

from typing import Protocol

from dtrctl.errors import DtrctlError, InvalidResponse, UsageError
from dtrctl.records.repository import Repository
from dtrctl.records.unlock import WindowChange
from dtrctl.reference import RepositoryName


class RepositoryApi(Protocol):
    def get_repository(self, name: RepositoryName) -> Repository: ...
    def update_repository(self, repository: Repository) -> Repository: ...


def plan_unlock(api: RepositoryApi, name: RepositoryName) -> tuple[WindowChange, ...]:
    """The flag, when it is on; nothing when the repository is mutable already."""
    if not api.get_repository(name).immutable:
        return ()
    description = f"immutableTags of {name} (on before and after)"
    return (WindowChange("repository_flag", str(name), description),)


def _name(change: WindowChange) -> RepositoryName:
    if change.kind != "repository_flag":
        raise UsageError(
            f"the unlock journal holds a Harbor rule for {change.repository}, but the registry "
            "is a DTR",
            hint="Run `dtrctl repo unlock --recover` against the registry the window was opened on",
        )
    from dtrctl.reference import parse_repository_name

    return parse_repository_name(change.repository)


def _set_flag(api: RepositoryApi, name: RepositoryName, immutable: bool) -> None:
    current = api.get_repository(name)
    if current.immutable == immutable:
        return
    try:
        updated = api.update_repository(current.with_changes(immutable=immutable))
    except DtrctlError:
        # The answer may be lost after DTR applied it: what DTR has now decides.
        if api.get_repository(name).immutable == immutable:
            return
        raise
    if updated.immutable != immutable:
        raise InvalidResponse(
            f"DTR accepted the change of {name} but reports immutability "
            f"{'on' if updated.immutable else 'off'}"
        )


def lift(api: RepositoryApi, change: WindowChange) -> None:
    _set_flag(api, _name(change), False)


def restore(api: RepositoryApi, change: WindowChange) -> None:
    _set_flag(api, _name(change), True)
