"""The journal of open `repo unlock` windows, so that nothing is lost if dtrctl dies mid-window.

Each window is one file in `unlock-journal/` of dtrctl's config directory, written before
anything on the registry changes and removed once everything is restored. A file is written
whole and renamed into place (never half-written), flushed to disk with fsync (the directory
too), mode 0600 in a 0700 directory, and holds no secret: the registry's URL, its kind, the
repository, the reason, and the settings to restore (`WindowChange`). The process whose window
it is holds an exclusive lock on it (`flock`) until it ends, which tells `--recover` whether
the window is still running; a killed process loses its lock at once. Where `flock` does not
exist (Windows) every window counts as ended.

A file's name begins with a digest of the registry's URL, so telling whether a registry has an
open window costs one directory listing, and naming it one small file read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtrctl.config import PRIVATE_FILE_MODE, ensure_private_dir, unlock_journal_dir
from dtrctl.errors import UsageError
from dtrctl.records.unlock import WindowChange

JOURNAL_FORMAT = "dtrctl-unlock-journal/1"
# A window's record is a few hundred bytes per rule: anything larger is not dtrctl's.
MAX_JOURNAL_BYTES = 1024 * 1024
RECOVER_COMMAND = "dtrctl repo unlock --recover"


@dataclass(frozen=True)
class Window:
    """One open window: where, what for, and what to restore."""

    url: str
    backend: str
    repository: str
    reason: str
    started: str
    pid: int
    changes: tuple[WindowChange, ...]

    def to_journal(self) -> dict[str, Any]:
        return {
            "format": JOURNAL_FORMAT,
            "url": self.url,
            "backend": self.backend,
            "repository": self.repository,
            "reason": self.reason,
            "started": self.started,
            "pid": self.pid,
            "changes": [change.to_journal() for change in self.changes],
        }

    @classmethod
    def from_journal(cls, body: Any, path: Path) -> Window:
        garbled = UsageError(
            f"{path} is not a journal of `dtrctl repo unlock` that this dtrctl can read",
            hint="Restore what it names by hand (`dtrctl repo show`), then delete the file",
        )
        if not isinstance(body, dict) or body.get("format") != JOURNAL_FORMAT:
            raise garbled
        texts = [body.get(key) for key in ("url", "backend", "repository", "reason", "started")]
        pid, changes = body.get("pid"), body.get("changes")
        if not all(isinstance(text, str) for text in texts) or not isinstance(changes, list):
            raise garbled
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise garbled
        try:
            parsed = tuple(WindowChange.from_journal(change) for change in changes)
        except UsageError:
            raise garbled from None
        url, backend, repository, reason, started = (str(text) for text in texts)
        return cls(url, backend, repository, reason, started, pid, parsed)


def journal_dir(environ: Mapping[str, str] | None = None) -> Path:
    return unlock_journal_dir(environ)


def registry_key(url: str) -> str:
    """The file-name prefix of a registry's windows: a digest of its normalized URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _lock(descriptor: int, *, wait: bool) -> bool:
    """An exclusive lock on the open file; False when another process holds one."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock, every window counts as ended
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _fsync_directory(directory: Path) -> None:
    # The rename is on disk only once the directory is: otherwise a crash may forget the file.
    with contextlib.suppress(OSError):  # Windows cannot open a directory
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class OpenWindow:
    """A window's journal file, locked by this process until `close`."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor: int | None = descriptor

    def close(self, *, remove: bool) -> None:
        """End the window: the file removed (everything restored) or kept for `--recover`."""
        if remove:
            # Everything is restored: a file left behind only makes --recover restore again.
            with contextlib.suppress(OSError):
                remove_window(self.path)
        if self._descriptor is not None:
            os.close(self._descriptor)  # releases the lock
            self._descriptor = None


def open_window(window: Window) -> OpenWindow:
    """Write the window's journal (whole, fsynced, 0600) and keep it locked; `UsageError`
    when it cannot be written (nothing has changed yet)."""
    try:
        return _write_locked(window)
    except OSError as error:
        raise UsageError(
            f"cannot write the journal of the window in {journal_dir()}: {error.strerror}",
            hint="Nothing was changed. Check dtrctl's config directory (DTRCTL_CONFIG_DIR)",
        ) from None


def _write_locked(window: Window) -> OpenWindow:
    # Here, not at the top: every command with a session imports this module for the notice.
    import secrets
    import tempfile

    directory = journal_dir()
    ensure_private_dir(directory)
    data = (json.dumps(window.to_journal(), indent=2) + "\n").encode("utf-8")
    name = f"{registry_key(window.url)}-{window.pid}-{secrets.token_hex(4)}.json"
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        os.chmod(temporary, PRIVATE_FILE_MODE)
        _lock(descriptor, wait=True)
        written = 0
        while written < len(data):
            written += os.write(descriptor, data[written:])
        os.fsync(descriptor)
        # The lock belongs to the open file, which the rename keeps: no moment without it.
        os.replace(temporary, directory / name)
    except BaseException:
        os.close(descriptor)
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return OpenWindow(directory / name, descriptor)


def read_window(path: Path) -> Window:
    """One journal file, bounded in size; `UsageError` naming it when it cannot be read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
        with os.fdopen(descriptor, "rb") as stream:
            data = stream.read(MAX_JOURNAL_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read the unlock journal {path}: {error.strerror}") from None
    try:
        if len(data) > MAX_JOURNAL_BYTES:
            raise ValueError("too large")
        body = json.loads(data.decode("utf-8"))
    except ValueError:
        body = None
    return Window.from_journal(body, path)


def journal_files(url: str | None = None) -> list[Path]:
    """The journal files of every open window (of one registry), oldest name first."""
    prefix = registry_key(url) + "-" if url is not None else ""
    try:
        names = os.listdir(journal_dir())
    except OSError:  # no directory: no window was ever opened here
        return []
    chosen = (n for n in names if n.startswith(prefix) and n.endswith(".json"))
    return [journal_dir() / name for name in sorted(chosen) if not name.startswith(".")]


def is_running(path: Path) -> bool:
    """Whether the process that opened this window still holds it."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        return not _lock(descriptor, wait=False)
    finally:
        os.close(descriptor)


def remove_window(path: Path) -> None:
    path.unlink(missing_ok=True)
    _fsync_directory(path.parent)


def open_window_notice(url: str) -> str | None:
    """The warning for a command against `url` while a window is open there (else None):
    one directory listing, and one small file read when there is a window."""
    paths = journal_files(url)
    if not paths:
        return None
    try:
        window = read_window(paths[0])
        what = f"{window.repository} (reason: {window.reason}; since {window.started})"
    except UsageError:
        what = f"one whose journal cannot be read ({paths[0]})"
    more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
    return (
        f"a `dtrctl repo unlock` window is open on this registry: {what}{more}; its "
        "immutability is lifted until the window ends. If no `dtrctl repo unlock` is running, "
        f"restore it with `{RECOVER_COMMAND}`"
    )
