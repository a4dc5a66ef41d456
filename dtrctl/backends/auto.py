"""`--backend auto` without a recorded kind: DTR first, Harbor when the URL turns out to be one.

A run against DTR sends exactly what it sent before kinds existed: the first call goes to DTR's
`/api/v0`. Only when that answers 404 in words that are not DTR's does the run ask
`/api/v2.0/systeminfo` once; Harbor answers it, and the call is made again on Harbor. A URL that
is neither is an error (exit 5). `dtrctl login` records the kind, so later runs skip all this.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from dtrctl.errors import DtrctlError, NoRegistryApi

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
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

T = TypeVar("T")


def is_foreign_not_found(error: DtrctlError | None) -> bool:
    """A 404 from `/api/v0` that DTR did not write (DTR's codes all begin with NO_SUCH_)."""
    return (
        error is not None
        and error.status == 404
        and not (error.dtr_code or "").startswith("NO_SUCH_")
    )


class AutoBackend:
    """Delegates to DTR until a foreign 404 shows the URL is Harbor (or neither)."""

    def __init__(
        self,
        dtr: Backend,
        harbor: Callable[[], Backend],
        answers_harbor: Callable[[], bool],
        url: str,
    ) -> None:
        self._current = dtr
        self.kind = dtr.kind
        self._make_harbor = harbor
        self._answers_harbor = answers_harbor
        self._url = url
        self._decided = False
        self._lock = threading.Lock()

    @property
    def current(self) -> Backend:
        """The backend decided on so far (DTR until a call showed otherwise)."""
        return self._current

    def _switch(self, error: DtrctlError | None, tried: Backend) -> bool:
        """Whether to call again on Harbor; the decision is made once for the whole run."""
        with self._lock:
            if self._current is not tried:
                return True  # another thread switched meanwhile
            if self._decided or not is_foreign_not_found(error):
                self._decided = True
                return False
            if not self._answers_harbor():
                raise _neither(error, self._url)
            self._current, self._decided = self._make_harbor(), True
            self.kind = self._current.kind
            return True

    def _call(self, call: Callable[[Backend], T], error_of: Callable[[T], DtrctlError | None]) -> T:
        tried = self._current
        if self._decided:
            return call(tried)
        try:
            result = call(tried)
        except DtrctlError as error:
            if self._switch(error, tried):
                return call(self._current)
            raise
        if self._switch(error_of(result), tried):
            return call(self._current)
        return result

    def _raising(self, call: Callable[[Backend], T]) -> T:
        return self._call(call, lambda result: None)

    def _with_error(self, call: Callable[[Backend], T]) -> T:
        return self._call(call, lambda result: getattr(result, "error", None))

    def check_credentials(self) -> None:
        self._raising(lambda backend: backend.check_credentials())

    def get_repository(self, name: RepositoryName) -> Repository:
        return self._raising(lambda backend: backend.get_repository(name))

    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]:
        def first_and_rest(backend: Backend) -> tuple[list[Repository], Iterator[Repository]]:
            items = iter(backend.list_repositories(namespace))
            return list(_take_one(items)), items

        head, rest = self._raising(first_and_rest)
        yield from head
        yield from rest

    def create_repository(
        self,
        name: RepositoryName,
        settings: RepositorySettings,
        *,
        exist_ok: bool,
        create_project: bool = False,
    ) -> CreateOutcome:
        return self._raising(
            lambda backend: backend.create_repository(
                name, settings, exist_ok=exist_ok, create_project=create_project
            )
        )

    def audit_findings(self, namespaces: Iterable[str]) -> list[AuditFinding]:
        return self._current.audit_findings(namespaces)

    def set_immutability(self, name: RepositoryName, immutable: bool) -> ImmutabilityResult:
        return self._with_error(lambda backend: backend.set_immutability(name, immutable))

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        return self._with_error(
            lambda backend: backend.preview_immutability(name, immutable, current)
        )

    def apply_settings(self, change: SettingsChange) -> SettingsResult:
        return self._with_error(lambda backend: backend.apply_settings(change))

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        return self._raising(lambda backend: backend.plan_unlock(name))

    def lift_change(self, change: WindowChange) -> None:
        self._current.lift_change(change)

    def restore_change(self, change: WindowChange) -> None:
        self._current.restore_change(change)

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return self._current.repository_state(name, username)

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        def first_and_rest(backend: Backend) -> tuple[list[Tag], Iterator[Tag]]:
            items = iter(backend.list_tags(name))
            return list(_take_one(items)), items

        head, rest = self._raising(first_and_rest)
        yield from head
        yield from rest

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return self._current.tag_details(name, tag)

    def token_endpoint(self, url: str) -> tuple[str, str] | None:
        return self._current.token_endpoint(url)


def _neither(error: DtrctlError | None, url: str) -> NoRegistryApi:
    """DTR's "no DTR API here" (with its hint about the URL), saying Harbor is not there either."""
    message = f"{url or 'this URL'} serves no DTR API"
    hint = "Check --url (DTRCTL_URL), or name the kind with --backend"
    if error is not None:
        message, hint = error.message, error.hint or hint
    return NoRegistryApi(f"{message}; it serves no Harbor API either", hint=hint, status=404)


def _take_one(items: Iterator[Any]) -> Iterator[Any]:
    for item in items:
        yield item
        return
