"""Credential sources read within bounds of size and time: files, helpers, the keyring.

A credential helper that prints without end, an auth file that is `/dev/zero` or a FIFO, a
keyring that waits for a prompt nobody sees: each would fill dtrctl's memory or hang it. So a
credential file must be a regular file of at most `CREDENTIAL_FILE_LIMIT`; a helper may print at
most `HELPER_OUTPUT_LIMIT`; a helper and each keyring call must answer within
`DTRCTL_CREDENTIAL_TIMEOUT` seconds (default 30). Beyond a bound the lookup ends, never skips the
source silently: exit 3 (`CredentialSourceUnusable`) or, for time, exit 5
(`CredentialSourceTimeout`), the source named.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from dtrctl.errors import CredentialSourceTimeout, CredentialSourceUnusable, UsageError
from dtrctl.files import (
    CREDENTIAL_FILE_LIMIT,
    MIB,
    FileTooLarge,
    NotAFile,
    read_regular_bytes_bounded,
)

CREDENTIAL_TIMEOUT_VARIABLE = "DTRCTL_CREDENTIAL_TIMEOUT"
DEFAULT_CREDENTIAL_TIMEOUT = 30.0
MAX_CREDENTIAL_TIMEOUT = 3600.0
# A helper answers with a small JSON object; anything near this is not an answer.
HELPER_OUTPUT_LIMIT = 1 * MIB
_CHUNK = 64 * 1024

T = TypeVar("T")


def credential_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds a credential helper or a keyring call may take: DTRCTL_CREDENTIAL_TIMEOUT."""
    text = (os.environ if env is None else env).get(CREDENTIAL_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_CREDENTIAL_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_CREDENTIAL_TIMEOUT:  # also false for nan
        raise UsageError(
            f"{CREDENTIAL_TIMEOUT_VARIABLE} must be a number of seconds above 0 and at most "
            f"{MAX_CREDENTIAL_TIMEOUT:g}, not {text!r}"
        )
    return seconds


def read_credential_file(path: Path, what: str, hint: str) -> str:
    """The UTF-8 text of a credential file; exit 3 naming it when it is too large or no
    regular file. OSError (a missing file included) and UnicodeDecodeError propagate."""
    try:
        data = read_regular_bytes_bounded(path, CREDENTIAL_FILE_LIMIT, what)
    except (FileTooLarge, NotAFile) as error:
        raise CredentialSourceUnusable(
            f"cannot read credentials: {error.message}", hint=hint
        ) from None
    return data.decode("utf-8")


@dataclass(frozen=True)
class HelperAnswer:
    returncode: int
    stdout: str
    stderr: str


def run_helper(
    executable: str, argument: str, stdin_text: str, env: Mapping[str, str], program: str
) -> HelperAnswer:
    """Run `executable argument` with `stdin_text` on its stdin, within the bounds.

    OSError (cannot start it) propagates. On a bound, the helper (and what it started, on
    POSIX: its own session) is killed before the error is raised.
    """
    timeout = credential_timeout(env)
    posix = os.name == "posix"
    process = subprocess.Popen(
        [executable, argument],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        start_new_session=posix,
    )
    completed = False
    try:
        answer = _collect(process, stdin_text, timeout, program)
        completed = True
        return answer
    finally:
        _end(process, kill=not completed, group=posix)


def _collect(
    process: subprocess.Popen[bytes], stdin_text: str, timeout: float, program: str
) -> HelperAnswer:
    deadline = time.monotonic() + timeout
    finished: queue.Queue[bool] = queue.Queue()
    outputs = (bytearray(), bytearray())
    for stream, sink in zip((process.stdout, process.stderr), outputs, strict=True):
        reader = threading.Thread(target=_drain, args=(stream, sink, finished), daemon=True)
        reader.start()
    _feed(process.stdin, stdin_text)
    for _ in outputs:
        try:
            within_limit = finished.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise _helper_timeout(program, timeout) from None
        if not within_limit:
            raise CredentialSourceUnusable(
                f"{program} printed more than {HELPER_OUTPUT_LIMIT // MIB} MiB, more than "
                "dtrctl reads from a credential helper",
                hint=f"Check {program}: it should print one small JSON object",
            )
    try:
        returncode = process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise _helper_timeout(program, timeout) from None
    stdout, stderr = (bytes(data).decode("utf-8", "replace") for data in outputs)
    return HelperAnswer(returncode, stdout, stderr)


def _drain(stream: IO[bytes] | None, sink: bytearray, finished: queue.Queue[bool]) -> None:
    """Read a pipe to its end into `sink`; report False as soon as it passes the limit."""
    if stream is None:
        finished.put(True)
        return
    try:
        while chunk := os.read(stream.fileno(), _CHUNK):
            if len(sink) + len(chunk) > HELPER_OUTPUT_LIMIT:
                finished.put(False)
                return
            sink += chunk
    except (OSError, ValueError):  # the pipe went away with the helper
        pass
    finished.put(True)


def _feed(stdin: IO[bytes] | None, text: str) -> None:
    if stdin is None:
        return
    try:
        stdin.write(text.encode("utf-8"))
        stdin.close()
    except OSError:  # the helper exited without reading: its answer says why
        pass


def _end(process: subprocess.Popen[bytes], *, kill: bool, group: bool) -> None:
    if kill:
        try:
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except OSError:  # already gone
            pass
        process.wait()
        return  # a reader may still hold a pipe (a grandchild keeps it open): left to exit
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _helper_timeout(program: str, timeout: float) -> CredentialSourceTimeout:
    return CredentialSourceTimeout(
        f"{program} did not answer within {timeout:g} s",
        hint=f"Check {program} (a locked store, a prompt nobody sees); "
        f"{CREDENTIAL_TIMEOUT_VARIABLE} sets the wait",
    )


def within_deadline(call: Callable[[], T], what: str, *, hint: str) -> T:
    """`call()`'s result or exception, if it comes within the credential timeout; else exit 5.

    The call runs in a daemon thread: one that never returns is left behind, and does not keep
    dtrctl from exiting.
    """
    timeout = credential_timeout()
    outcome: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            outcome.put((True, call()))
        except BaseException as error:  # handed to the caller's thread as it is
            outcome.put((False, error))

    threading.Thread(target=run, daemon=True, name="dtrctl-credential-call").start()
    try:
        succeeded, value = outcome.get(timeout=timeout)
    except queue.Empty:
        raise CredentialSourceTimeout(
            f"{what} did not answer within {timeout:g} s", hint=hint
        ) from None
    if not succeeded:
        raise value
    result: T = value
    return result
