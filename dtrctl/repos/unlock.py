"""`repo unlock`: lift a repository's immutability for the time a command runs, then restore it.

The order is what makes it safe: the journal is written (and flushed) before the first change;
every change is restored whatever happened in between (the command failed, a lift failed, a
signal came); the journal is removed only once every change is back. A restore that fails keeps
the journal for `dtrctl repo unlock --recover`, which restores every window whose process has
ended. Pure logic: the command and the signals are the caller's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from dtrctl.errors import Conflict, DtrctlError
from dtrctl.repos.journal import (
    RECOVER_COMMAND,
    Window,
    open_window,
    read_window,
    remove_window,
)

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.records.unlock import WindowChange
    from dtrctl.reference import RepositoryName


@dataclass(frozen=True)
class WindowOutcome:
    """What a window did: `command_exit` None when the command never ran (`lift_error`, or a
    signal before it started); `restore_error` set means the journal was kept."""

    repository: str
    reason: str
    changes: tuple[WindowChange, ...]
    restored: bool
    command_exit: int | None
    lift_error: DtrctlError | None = None
    restore_error: DtrctlError | None = None
    journal: Path | None = None


def restore_all(backend: Backend, changes: Sequence[WindowChange]) -> DtrctlError | None:
    """Put every change back (last lifted first), going on past failures; the first error."""
    first: DtrctlError | None = None
    for change in reversed(changes):
        try:
            backend.restore_change(change)
        except DtrctlError as error:
            first = first or error
    if first is not None:
        first.hint = (
            f"Immutability is NOT fully restored; the journal is kept: run `{RECOVER_COMMAND}`"
            + (f". {first.hint}" if first.hint else "")
        )
    return first


def _lift_and_run(
    backend: Backend,
    name: RepositoryName,
    changes: Sequence[WindowChange],
    command: Callable[[], int],
    stopped: Callable[[], bool],
) -> int | None:
    for change in changes:
        if stopped():
            return None
        backend.lift_change(change)
    if stopped():
        return None
    left = backend.plan_unlock(name)
    if left:
        raise Conflict(
            f"{name} is still immutable after lifting: {left[0].description}",
            hint="Someone changed its immutability meanwhile: check it and retry",
        )
    return command()


def run_window(
    backend: Backend,
    *,
    url: str,
    name: RepositoryName,
    reason: str,
    changes: tuple[WindowChange, ...],
    command: Callable[[], int],
    stopped: Callable[[], bool] = lambda: False,
) -> WindowOutcome:
    """Journal, lift, run `command`, restore. `stopped`: a signal asks to end (the command is
    then not started, or has been left to finish)."""
    window = Window(
        url=url,
        backend=backend.kind,
        repository=str(name),
        reason=reason,
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        pid=os.getpid(),
        changes=changes,
    )
    # Nothing to lift, nothing to restore: no window for others to be warned of.
    journal = open_window(window) if changes else None
    command_exit: int | None = None
    lift_error: DtrctlError | None = None
    restore_error: DtrctlError | None = None
    try:
        command_exit = _lift_and_run(backend, name, changes, command, stopped)
    except DtrctlError as error:
        lift_error = error
    finally:
        restore_error = restore_all(backend, changes)
        if journal is not None:
            journal.close(remove=restore_error is None)
    return WindowOutcome(
        str(name),
        reason,
        changes,
        restored=restore_error is None,
        command_exit=command_exit,
        lift_error=lift_error,
        restore_error=restore_error,
        journal=journal.path if journal is not None and restore_error is not None else None,
    )


@dataclass(frozen=True)
class Recovery:
    """One journal `--recover` looked at: restored (and removed), or why not."""

    path: Path
    window: Window | None
    restored: bool
    running: bool = False
    error: DtrctlError | None = None


def recover_window(path: Path, backend_for: Callable[[Window], Backend]) -> Recovery:
    """Restore one ended window and remove its journal; a garbled journal or a failed restore
    keeps it. `backend_for` connects to the window's registry."""
    try:
        window = read_window(path)
    except DtrctlError as garbled:
        return Recovery(path, None, restored=False, error=garbled)
    failure: DtrctlError | None
    try:
        failure = restore_all(backend_for(window), window.changes)
    except DtrctlError as failed:  # the connection itself: no credentials, no such registry
        failure = failed
    if failure is None:
        remove_window(path)
    return Recovery(path, window, restored=failure is None, error=failure)
