"""Fleet operations: many repositories at once, concurrently, interruptible, through a backend."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from dtrctl.errors import DtrctlError, Interrupted, RepositoryNotFound
from dtrctl.records.changes import ImmutabilityResult, SettingsChange, SettingsResult
from dtrctl.records.repository import Repository
from dtrctl.reference import RepositoryName
from dtrctl.repos.selection import Resolution, Selection

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend


def common_failure(errors: Iterable[DtrctlError]) -> DtrctlError | None:
    """The error that stands for all failures when every one failed the same way."""
    errors = list(errors)
    if errors and len({error.exit_code for error in errors}) == 1:
        return errors[0]
    return None


# Fleet operations: many repositories at once, concurrently, interruptible.

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class BulkOutcome(Generic[ResultT]):
    """The results of the items that ran, in input order; `interrupted` after Ctrl-C."""

    results: list[ResultT]
    total: int
    interrupted: bool = False

    @property
    def not_started(self) -> int:
        return self.total - len(self.results)


# After Ctrl-C, how long the requests in flight may take to finish, so that their outcome is
# known; a request still unanswered then is abandoned (its outcome unknown, and said so).
IN_FLIGHT_GRACE_SECONDS = 2.0


def run_bulk(
    items: Sequence[ItemT],
    work: Callable[[ItemT], ResultT],
    *,
    concurrency: int = 8,
    on_result: Callable[[ResultT], None] | None = None,
    on_abandoned: Callable[[ItemT], ResultT] | None = None,
) -> BulkOutcome[ResultT]:
    """Run `work` on each item on at most `concurrency` threads, submitting as they free up.

    Requests run only on worker threads and Python delivers Ctrl-C (KeyboardInterrupt) to the
    main thread, so an interrupt stops the submitting, gives the requests in flight
    `IN_FLIGHT_GRACE_SECONDS` to finish and returns what finished, marked `interrupted`. An item
    whose request is still unanswered then is left to its thread (the process does not wait for
    it: dtrctl.interrupts) and, with `on_abandoned`, reported by the result that makes.
    """
    ledger = _Ledger(items, work)
    workers = max(1, concurrency)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dtrctl-bulk")
    in_flight: set[Future[ResultT]] = set()
    next_index = 0
    try:
        while next_index < len(items) or in_flight:
            while next_index < len(items) and len(in_flight) < workers:
                in_flight.add(pool.submit(ledger.run, next_index))
                next_index += 1
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                if on_result is not None:
                    on_result(result)
    except KeyboardInterrupt:
        finished, unanswered = _let_in_flight_finish(pool, ledger)
        if on_abandoned is not None:
            for index in unanswered:
                finished[index] = on_abandoned(items[index])
        return BulkOutcome([finished[i] for i in sorted(finished)], len(items), interrupted=True)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    pool.shutdown(wait=True)
    return BulkOutcome([ledger.finished[index] for index in sorted(ledger.finished)], len(items))


class _NotStarted(Exception):
    """An item a worker took up after Ctrl-C: it was not started (nobody reads this result)."""


class _Ledger(Generic[ItemT, ResultT]):
    """Which items started and which ended, kept by the workers themselves: wherever Ctrl-C
    lands in the main thread (even inside `submit`, before it returns the item's future), an
    item that started is known, waited for and reported, never counted as "not started"."""

    def __init__(self, items: Sequence[ItemT], work: Callable[[ItemT], ResultT]) -> None:
        self._items = items
        self._work = work
        self._changes = threading.Condition()
        self._stopping = False
        self._running: set[int] = set()
        self.finished: dict[int, ResultT] = {}

    def run(self, index: int) -> ResultT:
        with self._changes:
            if self._stopping:
                raise _NotStarted
            self._running.add(index)
        try:
            result = self._work(self._items[index])
            with self._changes:
                self.finished[index] = result
            return result
        finally:
            with self._changes:
                self._running.discard(index)
                self._changes.notify_all()

    def stop(self, timeout: float) -> tuple[dict[int, ResultT], list[int]]:
        """Start nothing more; wait up to `timeout` for the items running to end. What has
        finished then, and the indexes of the items still running (abandoned)."""
        # KeyboardInterrupt: only where a second Ctrl-C does not end the process at once (tests).
        with contextlib.suppress(KeyboardInterrupt), self._changes:
            self._stopping = True
            self._changes.wait_for(lambda: not self._running, timeout)
        with self._changes:
            self._stopping = True
            return dict(self.finished), sorted(self._running)


def _let_in_flight_finish(
    pool: ThreadPoolExecutor, ledger: _Ledger[Any, ResultT]
) -> tuple[dict[int, ResultT], list[int]]:
    """After Ctrl-C: start nothing more, wait a little for the requests in flight; what has
    finished, and the indexes of those still unanswered. A second Ctrl-C stops the wait."""
    from dtrctl.interrupts import second_interrupt_exits

    second_interrupt_exits()
    pool.shutdown(wait=False, cancel_futures=True)
    return ledger.stop(IN_FLIGHT_GRACE_SECONDS)


class RepositoryLister(Protocol):
    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]: ...


def resolve_selection(api: RepositoryLister, selection: Selection) -> Resolution:
    """List only what the selection needs (`Selection.listing_scopes`), then resolve it."""
    listed = (
        repository
        for scope in selection.listing_scopes()
        for repository in api.list_repositories(scope)
    )
    return selection.resolve(listed)


@dataclass(frozen=True)
class ReadResult:
    name: RepositoryName
    repository: Repository | None
    error: DtrctlError | None = None


def read_repositories(
    backend: Backend,
    names: Sequence[RepositoryName],
    *,
    listed: Mapping[RepositoryName, Repository] | None = None,
    concurrency: int = 8,
) -> list[ReadResult]:
    """Each repository's settings: from the listing when it has them, otherwise one GET.

    Ctrl-C while reading raises KeyboardInterrupt (nothing has been changed yet).
    """
    known = listed or {}

    def read(name: RepositoryName) -> ReadResult:
        try:
            return ReadResult(name, backend.get_repository(name))
        except DtrctlError as error:
            return ReadResult(name, None, error)

    outcome = run_bulk([name for name in names if name not in known], read, concurrency=concurrency)
    if outcome.interrupted:
        raise KeyboardInterrupt
    fetched = {result.name: result for result in outcome.results}
    return [ReadResult(name, known[name]) if name in known else fetched[name] for name in names]


def load_repositories(
    backend: Backend, resolution: Resolution, *, concurrency: int = 8
) -> list[Repository]:
    """The selected repositories' settings; the first failure to read one is raised."""
    results = read_repositories(
        backend, resolution.names, listed=resolution.listed, concurrency=concurrency
    )
    for result in results:
        if result.error is not None:
            raise result.error
    return [result.repository for result in results if result.repository is not None]


def would_change_immutability(
    backend: Backend,
    names: Sequence[RepositoryName],
    immutable: bool,
    *,
    listed: Mapping[RepositoryName, Repository] | None = None,
    concurrency: int = 8,
) -> tuple[list[RepositoryName], dict[RepositoryName, Repository]]:
    """The repositories a change of immutability would change (for the confirmation), and
    every repository's settings as read (for the change to skip what is already right).

    One the listing does not show is read; one that cannot be read counts as a change: the
    question must not understate what may happen.
    """
    known: dict[RepositoryName, Repository] = {}
    changing = []
    for result in read_repositories(backend, names, listed=listed, concurrency=concurrency):
        if result.repository is not None:
            known[result.name] = result.repository
        if result.repository is None or result.repository.immutable != immutable:
            changing.append(result.name)
    return changing, known


def current_repositories(
    backend: Backend, names: Sequence[RepositoryName], *, concurrency: int = 8
) -> dict[RepositoryName, Repository | None]:
    """Each repository's settings, None for one that does not exist (or cannot be seen)."""
    current: dict[RepositoryName, Repository | None] = {}
    for result in read_repositories(backend, names, concurrency=concurrency):
        if isinstance(result.error, RepositoryNotFound):
            current[result.name] = None
        elif result.error is not None:
            raise result.error
        else:
            current[result.name] = result.repository
    return current


def set_immutability_bulk(
    backend: Backend,
    names: Sequence[RepositoryName],
    immutable: bool,
    *,
    listed: Mapping[RepositoryName, Repository] | None = None,
    dry_run: bool = False,
    concurrency: int = 8,
    on_result: Callable[[ImmutabilityResult], None] | None = None,
) -> BulkOutcome[ImmutabilityResult]:
    """Set (or, with `dry_run`, preview) the immutability of many repositories concurrently.

    A repository the listing already shows in the wanted state is reported unchanged without a
    request; every other one is read afresh and changed read-modify-write.
    """
    known = listed or {}

    def one(name: RepositoryName) -> ImmutabilityResult:
        current = known.get(name)
        try:
            if dry_run or (current is not None and current.immutable == immutable):
                return backend.preview_immutability(name, immutable, current)
            return backend.set_immutability(name, immutable)
        except DtrctlError as error:
            # The backend raises; one repository's failure is its result, not the run's end.
            return ImmutabilityResult(str(name), None, False, error=error)

    def abandoned(name: RepositoryName) -> ImmutabilityResult:
        return ImmutabilityResult(str(name), None, False, error=_unanswered(name))

    return run_bulk(
        names, one, concurrency=concurrency, on_result=on_result, on_abandoned=abandoned
    )


def fix_drift(
    backend: Backend,
    mutable: Sequence[Repository],
    *,
    dry_run: bool = False,
    concurrency: int = 8,
    on_result: Callable[[ImmutabilityResult], None] | None = None,
) -> BulkOutcome[ImmutabilityResult]:
    """Turn immutability on for repositories an audit found mutable (as `set_immutability_bulk`)."""
    names = [RepositoryName(repository.namespace, repository.name) for repository in mutable]
    return set_immutability_bulk(
        backend,
        names,
        True,
        listed=dict(zip(names, mutable, strict=True)),
        dry_run=dry_run,
        concurrency=concurrency,
        on_result=on_result,
    )


def apply_settings_changes(
    backend: Backend,
    changes: Sequence[SettingsChange],
    *,
    concurrency: int = 8,
    on_result: Callable[[SettingsResult], None] | None = None,
) -> BulkOutcome[SettingsResult]:
    def one(change: SettingsChange) -> SettingsResult:
        try:
            return backend.apply_settings(change)
        except DtrctlError as error:
            return SettingsResult(str(change.name), "failed", error)

    return run_bulk(
        changes,
        one,
        concurrency=concurrency,
        on_result=on_result,
        on_abandoned=lambda change: SettingsResult(
            str(change.name), "failed", _unanswered(change.name)
        ),
    )


def _unanswered(name: RepositoryName) -> Interrupted:
    return Interrupted(
        f"interrupted while the change of {name} awaited its answer: it may or may not be made",
        hint=f"Check with `dtrctl repo show {name}`",
    )
