"""Repository operations built from client calls: read-modify-write, idempotent, never partial.

This layer knows nothing of the terminal; the CLI renders what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, fields
from typing import Generic, Protocol, TypeVar

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
from dtrctl.repos.selection import Resolution, Selection

MAX_SHORT_DESCRIPTION = 140
# A request whose answer never arrived whole: DTR may or may not have acted on it.
LOST_ANSWER = (RequestTimeout, NetworkError, InvalidResponse)


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
    return left.update_body() == right.update_body()


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


def run_bulk(
    items: Sequence[ItemT],
    work: Callable[[ItemT], ResultT],
    *,
    concurrency: int = 8,
    on_result: Callable[[ResultT], None] | None = None,
) -> BulkOutcome[ResultT]:
    """Run `work` on each item on at most `concurrency` threads, submitting as they free up.

    Requests run only on worker threads and Python delivers Ctrl-C (KeyboardInterrupt) to the
    main thread, so an interrupt stops the submitting, lets the requests in flight finish (none
    is cut in half) and returns what finished, marked `interrupted`.
    """
    finished: dict[int, ResultT] = {}

    def run(index: int) -> ResultT:
        result = work(items[index])
        # Recorded by the worker itself, so an interrupt of the main thread cannot lose it.
        finished[index] = result
        return result

    workers = max(1, concurrency)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dtrctl-bulk")
    in_flight: set[Future[ResultT]] = set()
    next_index = 0
    interrupted = False
    try:
        while next_index < len(items) or in_flight:
            while next_index < len(items) and len(in_flight) < workers:
                in_flight.add(pool.submit(run, next_index))
                next_index += 1
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                if on_result is not None:
                    on_result(result)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        _wait_for_workers(pool)
    return BulkOutcome([finished[index] for index in sorted(finished)], len(items), interrupted)


def _wait_for_workers(pool: ThreadPoolExecutor) -> None:
    """Wait for the requests in flight, through further Ctrl-C too: none is left half-sent."""
    while True:
        try:
            pool.shutdown(wait=True)
            return
        except KeyboardInterrupt:
            continue


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
    api: RepositoryApi,
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
            return ReadResult(name, api.get_repository(name))
        except DtrctlError as error:
            return ReadResult(name, None, error)

    outcome = run_bulk([name for name in names if name not in known], read, concurrency=concurrency)
    if outcome.interrupted:
        raise KeyboardInterrupt
    fetched = {result.name: result for result in outcome.results}
    return [ReadResult(name, known[name]) if name in known else fetched[name] for name in names]


def load_repositories(
    api: RepositoryApi, resolution: Resolution, *, concurrency: int = 8
) -> list[Repository]:
    """The selected repositories' settings; the first failure to read one is raised."""
    results = read_repositories(
        api, resolution.names, listed=resolution.listed, concurrency=concurrency
    )
    for result in results:
        if result.error is not None:
            raise result.error
    return [result.repository for result in results if result.repository is not None]


def current_repositories(
    api: RepositoryApi, names: Sequence[RepositoryName], *, concurrency: int = 8
) -> dict[RepositoryName, Repository | None]:
    """Each repository's settings, None for one that does not exist (or cannot be seen)."""
    current: dict[RepositoryName, Repository | None] = {}
    for result in read_repositories(api, names, concurrency=concurrency):
        if isinstance(result.error, RepositoryNotFound):
            current[result.name] = None
        elif result.error is not None:
            raise result.error
        else:
            current[result.name] = result.repository
    return current


def preview_immutability(
    api: RepositoryApi,
    name: RepositoryName,
    immutable: bool,
    current: Repository | None = None,
) -> ImmutabilityResult:
    """What `set_immutability` would do, changing nothing (`changed` means "would change")."""
    try:
        state = current if current is not None else api.get_repository(name)
    except DtrctlError as error:
        return ImmutabilityResult(str(name), None, changed=False, error=error)
    changed = state.immutable != immutable
    cleared = changed and immutable and state.tag_limit > 0
    return ImmutabilityResult(str(name), immutable, changed=changed, tag_limit_cleared=cleared)


def set_immutability_bulk(
    api: RepositoryApi,
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
        if dry_run or (current is not None and current.immutable == immutable):
            return preview_immutability(api, name, immutable, current)
        return set_immutability(api, name, immutable)

    return run_bulk(names, one, concurrency=concurrency, on_result=on_result)


def fix_drift(
    api: RepositoryApi,
    mutable: Sequence[Repository],
    *,
    dry_run: bool = False,
    concurrency: int = 8,
    on_result: Callable[[ImmutabilityResult], None] | None = None,
) -> BulkOutcome[ImmutabilityResult]:
    """Turn immutability on for repositories an audit found mutable (as `set_immutability_bulk`)."""
    names = [RepositoryName(repository.namespace, repository.name) for repository in mutable]
    return set_immutability_bulk(
        api,
        names,
        True,
        listed=dict(zip(names, mutable, strict=True)),
        dry_run=dry_run,
        concurrency=concurrency,
        on_result=on_result,
    )


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


def apply_settings(api: RepositoryApi, change: SettingsChange) -> SettingsResult:
    """Create the repository (one that exists by now gets the settings), or read-modify-write."""
    try:
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
    except DtrctlError as error:
        return SettingsResult(str(change.name), "failed", error)


def apply_settings_changes(
    api: RepositoryApi,
    changes: Sequence[SettingsChange],
    *,
    concurrency: int = 8,
    on_result: Callable[[SettingsResult], None] | None = None,
) -> BulkOutcome[SettingsResult]:
    return run_bulk(
        changes,
        lambda change: apply_settings(api, change),
        concurrency=concurrency,
        on_result=on_result,
    )
