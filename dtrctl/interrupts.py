"""Ctrl-C ends a run promptly: exit 130, never a traceback, never a wait for a silent server.

A request blocked in a socket read cannot be interrupted from another thread, and Python joins
every worker thread before a process exits. So after the first Ctrl-C the run stops starting
work, reports what it has (a bulk run its partial summary), and the process then ends with
`os._exit`, leaving blocked workers behind. From the first Ctrl-C on, a second one ends the
process at once, wherever it lands.

The hard exits are armed only by the `dtrctl` entry point (`arm`), so a test that runs the CLI
in-process never has its own process ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import NoReturn

INTERRUPTED_EXIT_CODE = 130
_armed = False


def arm() -> None:
    """Let Ctrl-C end this process without waiting for worker threads (the entry point's call)."""
    global _armed
    _armed = True


def second_interrupt_exits() -> None:
    """After a first Ctrl-C: the next one ends the process at once (exit 130)."""
    if not _armed or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _exit_on_signal)


def exit_now(code: int = INTERRUPTED_EXIT_CODE) -> NoReturn:
    """End the process with `code` after flushing its output, not waiting for worker threads."""
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe or stream, or a write the interrupt cut into: nothing more can be said.
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            stream.flush()
    os._exit(code)


def exit_if_workers_remain(code: int) -> None:
    """After an interrupt: end now if worker threads are still running (they may be blocked in
    reads that would keep the interpreter from exiting for as long as --timeout)."""
    if _armed and code == INTERRUPTED_EXIT_CODE and threading.active_count() > 1:
        exit_now(code)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.write(sys.stderr.fileno(), b"Interrupted\n")
    exit_now()
