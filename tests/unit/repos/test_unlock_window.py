"""A `repo unlock` window: journal first, restore whatever happens, journal kept only when a
restore fails; `--recover` restores ended windows."""

from __future__ import annotations

from collections.abc import Callable

from dtrctl.errors import PermissionDenied, ServerError
from dtrctl.records.unlock import WindowChange
from dtrctl.reference import RepositoryName
from dtrctl.repos import journal
from dtrctl.repos.unlock import WindowOutcome, recover_window, run_window

NAME = RepositoryName("engineering", "api")
FLAG = WindowChange("repository_flag", "engineering/api", "immutableTags of engineering/api")


class FakeBackend:
    kind = "dtr"

    def __init__(self) -> None:
        self.immutable = True
        self.events: list[str] = []
        self.lift_error: Exception | None = None
        self.restore_error: Exception | None = None

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        return (FLAG,) if self.immutable else ()

    def lift_change(self, change: WindowChange) -> None:
        self.events.append(f"lift, journal {'written' if journal.journal_files() else 'missing'}")
        if self.lift_error:
            raise self.lift_error
        self.immutable = False

    def restore_change(self, change: WindowChange) -> None:
        self.events.append("restore")
        if self.restore_error:
            raise self.restore_error
        self.immutable = True


def window(
    backend: FakeBackend, command: Callable[[], int], stopped: Callable[[], bool] = lambda: False
) -> WindowOutcome:
    return run_window(
        backend,  # type: ignore[arg-type]
        url="https://dtr.example.com",
        name=NAME,
        reason="INC-7",
        changes=backend.plan_unlock(NAME),
        command=command,
        stopped=stopped,
    )


def test_journal_before_the_change_and_restore_after_a_failing_command() -> None:
    backend = FakeBackend()

    def command() -> int:
        backend.events.append(f"command sees immutable={backend.immutable}")
        return 9

    outcome = window(backend, command)
    assert backend.events == ["lift, journal written", "command sees immutable=False", "restore"]
    assert (outcome.restored, outcome.command_exit) == (True, 9)
    assert backend.immutable and journal.journal_files() == []


def test_a_failed_lift_skips_the_command_and_still_restores() -> None:
    backend = FakeBackend()
    backend.lift_error = ServerError("boom")

    def command() -> int:
        backend.events.append("command")
        return 0

    outcome = window(backend, command)
    assert backend.events == ["lift, journal written", "restore"]
    assert outcome.lift_error is backend.lift_error
    assert outcome.command_exit is None


def test_a_signal_before_the_command_skips_it() -> None:
    backend = FakeBackend()
    outcome = window(backend, lambda: 0, stopped=lambda: True)
    assert backend.events == ["restore"]
    assert outcome.command_exit is None


def test_a_failed_restore_keeps_the_journal_and_recover_finishes_it() -> None:
    backend = FakeBackend()
    backend.restore_error = PermissionDenied("no")
    outcome = window(backend, lambda: 0)
    assert not outcome.restored
    error = outcome.restore_error
    assert error is not None and "dtrctl repo unlock --recover" in (error.hint or "")
    [kept] = journal.journal_files()
    assert not journal.is_running(kept)

    backend.restore_error = None
    recovery = recover_window(kept, lambda found: backend)  # type: ignore[arg-type,return-value]
    assert recovery.restored and recovery.window is not None
    assert recovery.window.repository == "engineering/api"
    assert backend.immutable and journal.journal_files() == []


def test_a_mutable_repository_opens_no_window() -> None:
    backend = FakeBackend()
    backend.immutable = False
    outcome = window(backend, lambda: 0 if journal.journal_files() == [] else 1)
    assert outcome.command_exit == 0
