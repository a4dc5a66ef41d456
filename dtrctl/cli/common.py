"""What every command shares: global state, the run's session, the error-to-exit-code mapping."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import typer

from dtrctl.cli.output import ListFormat, Output, OutputFormat
from dtrctl.cli.prompts import prompt_secret
from dtrctl.errors import DtrctlError, ExitCode
from dtrctl.settings import ConnectionSettings

if TYPE_CHECKING:
    from dtrctl.session import Session

F = TypeVar("F", bound=Callable[..., Any])


class CliState(NamedTuple):
    """What the global options say, for the command that runs."""

    settings: ConnectionSettings


class Run:
    """One command's run: its output object and its connection to DTR."""

    def __init__(
        self,
        ctx: typer.Context,
        output: OutputFormat | ListFormat | str,
        *,
        profile: str | None = None,
        allow_new_profile: bool = False,
    ) -> None:
        from dtrctl.session import load_profile

        state = ctx.find_root().obj
        given = state.settings if isinstance(state, CliState) else ConnectionSettings()
        self.out = Output(getattr(output, "value", output), quiet=given.quiet)
        if profile is not None:
            given = given.with_profile(profile)
        # Options and environment first, then the active profile of the config file; login and
        # ca fetch may be about to create the profile they name.
        self.settings, self.profile = load_profile(given, must_exist=not allow_new_profile)

    @property
    def nested_names(self) -> bool:
        """Whether this run takes nested repository paths: the backend is named Harbor (by
        option, environment or profile), whose paths nest; DTR's never do."""
        return self.settings.backend == "harbor"

    def repository_name(self, text: str) -> Any:
        """A repo command's NAMESPACE/NAME (dtrctl.reference.RepositoryName); `HOST/NS/NAME`
        is taken when HOST is the configured URL's registry, as push-check takes it."""
        from dtrctl.errors import DtrctlError
        from dtrctl.reference import parse_registry, parse_repository_name
        from dtrctl.settings import normalize_url, url_registry

        host, _, rest = text.partition("/")
        if self.settings.url and "/" in rest and ("." in host or ":" in host):
            try:
                if parse_registry(host) == url_registry(normalize_url(self.settings.url)):
                    text = rest
            except DtrctlError:
                pass  # not a host: the name's own check says what is wrong
        return parse_repository_name(text, nested=self.nested_names)

    def session(
        self,
        *,
        write: bool,
        secret: str | None = None,
        url: str | None = None,
        gate: bool = False,
        url_from_reference: bool = False,
        announce_anonymous: bool = True,
        window_notice: bool = True,
    ) -> Session:
        """`gate`: a CI gate (push-check, repo audit), which needs credentials against a DTR.
        `window_notice`: warn when a `repo unlock` window is open on the registry."""
        from dtrctl.session import open_session

        settings = self.settings.with_url(url) if url else self.settings
        session = open_session(
            settings,
            need_credentials=write,
            prompt_secret=prompt_secret if write and sys.stdin.isatty() else None,
            secret=secret,
            profile=self.profile,
            profile_loaded=True,
            gate=gate,
            notice=self.out.warn if announce_anonymous else None,
            url_from_reference=url_from_reference,
        )
        if session.settings.insecure:
            self.out.warn("TLS certificate verification is off (--insecure)")
        if window_notice:
            warn_if_window_open(self.out, session.url)
        return session


def warn_if_window_open(out: Output, url: str) -> None:
    """Warn while a `repo unlock` window is open on the registry at `url` (one directory
    listing; the journal is loaded and a file read only when there is one)."""
    from dtrctl.config import unlock_journal_dir

    try:
        if not os.listdir(unlock_journal_dir()):
            return
    except FileNotFoundError:  # no window was ever opened here
        return
    except OSError:
        pass  # the journal says what is wrong with the directory
    from dtrctl.repos.journal import open_window_notice

    notice = open_window_notice(url)
    if notice:
        out.warn(notice)


def interrupted() -> typer.Exit:
    """Say that Ctrl-C stopped the run; raise the result (exit code 130).

    A second Ctrl-C from here on ends the process at once (dtrctl.interrupts).
    """
    from dtrctl.interrupts import second_interrupt_exits

    second_interrupt_exits()
    print("Interrupted", file=sys.stderr, flush=True)
    return typer.Exit(int(ExitCode.INTERRUPTED))


def dtrctl_command(func: F) -> F:
    """Map dtrctl errors and interrupts to messages and exit codes; no traceback for users."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        output = kwargs.get("output", OutputFormat.text)
        out = Output(getattr(output, "value", output))
        try:
            return func(*args, **kwargs)
        except DtrctlError as error:
            if os.environ.get("DTRCTL_DEBUG"):
                raise
            out.error(error)
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            if out.is_json:
                # As for any failure: stdout still gets its one document.
                from dtrctl.errors import Interrupted

                out.print_json({"error": Interrupted("interrupted (Ctrl-C)").to_dict()})
            raise interrupted() from None
        except BrokenPipeError:
            raise broken_pipe() from None

    return wrapper  # type: ignore[return-value]


# 128 + SIGPIPE: what a shell reports for a program that a closed pipe ended.
BROKEN_PIPE_EXIT_CODE = 141


def broken_pipe() -> typer.Exit:
    """The reader of stdout went away (`dtrctl repo list -o json | head`): stop quietly, in
    every output format, with exit 141; stdout now goes nowhere, so the final flush is quiet."""
    import contextlib

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return typer.Exit(BROKEN_PIPE_EXIT_CODE)
