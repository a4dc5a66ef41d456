"""`dtrctl repo unlock`: lift immutability while one command runs; `--recover` after a crash."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.completers import complete_repository
from dtrctl.cli.options import OutputOption
from dtrctl.cli.prompts import confirm
from dtrctl.errors import DtrctlError, ExitCode, UsageError

if TYPE_CHECKING:
    import subprocess

    from dtrctl.backends.base import Backend
    from dtrctl.cli.output import Output
    from dtrctl.records.unlock import WindowChange
    from dtrctl.repos.journal import Window
    from dtrctl.repos.unlock import Recovery, WindowOutcome

# What a shell reports when it cannot find or run a command.
COMMAND_NOT_FOUND, COMMAND_NOT_EXECUTABLE = 127, 126
# The signals that end a window early: dtrctl waits for the command, restores, then exits.
# A terminal's Ctrl-C reaches the command itself (same process group); the others are passed on.
ENDING_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
FORWARDED_SIGNALS = ("SIGTERM", "SIGHUP")


class Signals:
    """The first ending signal of the window, held until everything is restored."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.child: subprocess.Popen[bytes] | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            # os.write, not print: a handler may interrupt a print to the same stream.
            with contextlib.suppress(OSError, ValueError):
                os.write(
                    sys.stderr.fileno(),
                    f"{signal.Signals(signum).name}: the window ends when the command has "
                    "ended; immutability is restored then\n".encode(),
                )
        self.forward(signum)

    def forward(self, signum: int) -> None:
        forwarded = {getattr(signal, name, None) for name in FORWARDED_SIGNALS}
        if self.child is not None and signum in forwarded:
            self.child.send_signal(signum)  # a no-op once the command has ended

    def stopped(self) -> bool:
        return self.received is not None

    @property
    def exit_code(self) -> int:
        if self.received == signal.SIGINT:
            return int(ExitCode.INTERRUPTED)
        return 128 + int(self.received or 0)


@contextmanager
def deferred_signals() -> Iterator[Signals]:
    """Ending signals recorded, not raised, so a restore is never cut short."""
    signals = Signals()
    previous: dict[int, Any] = {}
    for name in ENDING_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, signals.handle)
    try:
        yield signals
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_command(command: list[str], signals: Signals) -> int:
    """COMMAND with dtrctl's stdin, stdout and stderr; its exit code as a shell gives it."""
    import subprocess

    try:
        child = subprocess.Popen(command)
    except FileNotFoundError:
        print(f"Error: command not found: {command[0]}", file=sys.stderr, flush=True)
        return COMMAND_NOT_FOUND
    except OSError as error:
        print(f"Error: cannot run {command[0]}: {error.strerror}", file=sys.stderr, flush=True)
        return COMMAND_NOT_EXECUTABLE
    signals.child = child
    if signals.received is not None:  # came while the command was being started
        signals.forward(signals.received)
    code = child.wait()
    signals.child = None
    return 128 - code if code < 0 else code


def _check_arguments(
    repository: str | None, reason: str | None, command: list[str] | None, recover: bool
) -> None:
    if recover:
        if repository or command or reason:
            raise UsageError("--recover takes no repository, --reason or command")
        return
    if not repository or not command:
        raise UsageError(
            "name the repository and the command to run while it is mutable",
            hint="dtrctl repo unlock NAMESPACE/NAME --reason TEXT -- COMMAND [ARGS...]",
        )
    if not reason or not reason.strip():
        raise UsageError(
            "--reason is required: say why immutability is lifted",
            hint="It is shown to anyone who meets the open window, and in -o json",
        )
    import shutil

    if shutil.which(command[0]) is None:
        raise UsageError(
            f"command not found: {command[0]}", hint="Nothing was changed: check the command"
        )


def _describe_plan(out: Output, name: str, changes: tuple[WindowChange, ...], yes: bool) -> None:
    if not changes:
        out.info(f"{name} has no immutability to lift: running the command as it is")
        return
    out.info(f"Lifting immutability of {name} while the command runs:")
    for change in changes:
        out.info(f"  {change.summary or change.description}")
    shared = sorted({other for change in changes for other in change.also_covers})
    if shared:
        out.warn(
            f"the rules disabled for {name} also cover {', '.join(shared)}: they are mutable "
            "for the window too"
        )
        confirm(
            f"lift immutability of {len(shared) + 1} repositories for the window",
            yes=yes,
            consequence=f"The rules that select {name} also select {len(shared)} other "
            "repositories",
        )


def _document(outcome: WindowOutcome, error: DtrctlError | None) -> dict[str, Any]:
    return {
        "repository": outcome.repository,
        "reason": outcome.reason,
        "changed": [change.to_json() for change in outcome.changes],
        "restored": outcome.restored,
        "command_exit": outcome.command_exit,
        "error": error.to_dict() if error is not None else None,
    }


def _finish(run: Run, outcome: WindowOutcome, signals: Signals) -> int:
    """Report the window; the exit code: a failed restore's, a failed lift's, the signal's,
    else the command's."""
    from dtrctl.cli.output import Output

    error = outcome.restore_error or outcome.lift_error
    if run.out.is_json:
        run.out.print_json(_document(outcome, error))
    if error is not None:
        Output("text").error(error)  # the message on stderr in every format
    if outcome.restored and outcome.changes:
        run.out.info(f"Immutability of {outcome.repository} restored")
    if error is not None:
        return int(error.exit_code)
    if signals.stopped():
        return signals.exit_code
    return outcome.command_exit if outcome.command_exit is not None else int(ExitCode.FAILED)


@dtrctl_command
def unlock(
    ctx: typer.Context,
    repository: Annotated[
        str | None,
        typer.Argument(
            help="Repository as NAMESPACE/NAME.",
            autocompletion=complete_repository,
            show_default=False,
        ),
    ] = None,
    command: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="-- COMMAND [ARGS]...",
            help="The command to run while the repository is mutable (after --).",
            show_default=False,
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", metavar="TEXT", help="Why (required): shown while the window is open."
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Harbor: go ahead when the rules lifted cover other repositories too "
            "(needed off a terminal).",
        ),
    ] = False,
    recover: Annotated[
        bool,
        typer.Option(
            "--recover",
            help="Restore every window left open (its process ended before restoring), and "
            "remove its journal.",
        ),
    ] = False,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Lift tag immutability of one repository while COMMAND runs, then restore exactly that.

    DTR: the repository's immutability flag is off for the window. Harbor: the enabled rules
    that select the repository are lifted for the window and put back after: a rule naming it
    in a list (`{api,web}`) is narrowed to the others, any other rule is disabled; disabled
    rules that select other repositories too are named, and need --yes off a terminal. Before
    changing anything dtrctl writes a journal (in its config directory); if dtrctl dies
    mid-window, `dtrctl repo unlock --recover` restores it. Exits with COMMAND's exit code
    (130 after Ctrl-C), after restoring; a restore that fails is exit 1 or the error's own code.

    Examples:

    \b
      dtrctl repo unlock engineering/api --reason "INC-42 bad 1.4.2" -- \\
        skopeo delete docker://dtr.example.com/engineering/api:1.4.2
      dtrctl repo unlock --recover
    """
    _check_arguments(repository, reason, command, recover)
    run = Run(ctx, output)
    if recover:
        raise typer.Exit(_recover(run))
    assert repository is not None and command is not None and reason is not None
    raise typer.Exit(_unlock(run, repository, reason.strip(), command, yes))


def _unlock(run: Run, repository: str, reason: str, command: list[str], yes: bool) -> int:
    from dtrctl.reference import parse_repository_name
    from dtrctl.repos.unlock import run_window

    name = parse_repository_name(repository, nested=run.nested_names)
    with run.session(write=True) as session:
        backend = session.backend
        changes = backend.plan_unlock(name)
        _describe_plan(run.out, str(name), changes, yes)
        with deferred_signals() as signals:
            outcome = run_window(
                backend,
                url=session.url,
                name=name,
                reason=reason,
                changes=changes,
                command=lambda: run_command(command, signals),
                stopped=signals.stopped,
            )
    return _finish(run, outcome, signals)


def _recovery_json(recovery: Recovery) -> dict[str, Any]:
    window = recovery.window
    return {
        "journal": str(recovery.path),
        "url": window.url if window else None,
        "repository": window.repository if window else None,
        "reason": window.reason if window else None,
        "started": window.started if window else None,
        "changed": [change.to_json() for change in window.changes] if window else [],
        "restored": recovery.restored,
        "error": recovery.error.to_dict() if recovery.error else None,
    }


def _recover(run: Run) -> int:
    """Restore every window whose process has ended; the first failure's exit code, else 0."""
    from contextlib import ExitStack

    from dtrctl.repos.journal import is_running, journal_files, read_window
    from dtrctl.repos.unlock import recover_window

    backends: dict[tuple[str, str], Backend] = {}
    running: list[dict[str, Any]] = []
    recoveries: list[Recovery] = []
    with ExitStack() as stack:

        def backend_for(window: Window) -> Backend:
            key = (window.url, window.backend)
            if key not in backends:
                run.settings = replace(run.settings, url=window.url, backend=window.backend)
                session = stack.enter_context(run.session(write=True, window_notice=False))
                backends[key] = session.backend
            return backends[key]

        for path in journal_files():
            if is_running(path):
                window = read_window(path)
                running.append(
                    {
                        "journal": str(path),
                        "repository": window.repository,
                        "url": window.url,
                        "pid": window.pid,
                    }
                )
                continue
            recoveries.append(recover_window(path, backend_for))
    return _report_recovery(run, recoveries, running)


def _report_recovery(run: Run, recoveries: list[Recovery], running: list[dict[str, Any]]) -> int:
    from dtrctl.cli.output import Output

    document = {"recovered": [_recovery_json(item) for item in recoveries], "running": running}
    if run.out.is_json:
        run.out.print_json(document)
    for item in recoveries:
        what = item.window.repository if item.window else str(item.path)
        where = f" on {item.window.url}" if item.window else ""
        if not run.out.is_json:
            verb = "restored" if item.restored else "NOT restored"
            kept = "" if item.restored else f" (journal kept: {item.path})"
            run.out.line(f"{verb} {what}{where}{kept}")
        if item.error is not None:
            Output("text").error(item.error)
    for live in running:
        run.out.info(
            f"Window of {live['repository']} on {live['url']} is still running (process "
            f"{live['pid']}): left alone"
        )
    if not recoveries and not running:
        run.out.info("No open `dtrctl repo unlock` window: nothing to recover")
    failed = [item.error for item in recoveries if item.error is not None]
    return int(failed[0].exit_code) if failed else 0
