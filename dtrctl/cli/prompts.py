"""Questions on the terminal: confirmations before risky changes, and the login prompt."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import typer

from dtrctl.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.records.repository import Repository
    from dtrctl.reference import RepositoryName


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def confirm(action: str, *, yes: bool, consequence: str = "") -> None:
    """Ask on a terminal; elsewhere refuse without --yes (exit 2, before any change)."""
    if yes:
        return
    if not stdin_is_terminal():
        raise UsageError(
            f"refusing to {action} without confirmation",
            hint=f"{consequence + '. ' if consequence else ''}Pass --yes to confirm",
        )
    if consequence:
        print(f"{consequence}.", file=sys.stderr)
    if not typer.confirm(f"{action[0].upper()}{action[1:]}?", default=False, err=True):
        print("Nothing was changed.", file=sys.stderr)
        raise typer.Exit(int(ExitCode.FAILED))


def confirm_on_terminal(action: str) -> None:
    """Ask where someone can answer; off a terminal (CI) go ahead without asking."""
    if stdin_is_terminal():
        confirm(action, yes=False)


# How many names the confirmation for turning immutability off shows before "and N more".
NAMES_SHOWN = 5


def confirm_turning_off(
    backend: Backend,
    names: Sequence[RepositoryName],
    listed: Mapping[RepositoryName, Repository],
    concurrency: int,
) -> dict[RepositoryName, Repository]:
    """Ask (or, off a terminal, refuse) when more than one repository would become mutable,
    counting only those that would change; returns what was read, for the change."""
    from dtrctl.repos.bulk import would_change_immutability

    changing, known = would_change_immutability(
        backend, names, False, listed=listed, concurrency=concurrency
    )
    if len(changing) > 1:
        shown = ", ".join(str(name) for name in changing[:NAMES_SHOWN])
        more = len(changing) - NAMES_SHOWN
        confirm(
            f"turn tag immutability off for {len(changing)} repositories ({shown}"
            + (f" and {more} more)" if more > 0 else ")"),
            yes=False,
            consequence="Their existing tags can then be overwritten; --dry-run lists every one",
        )
    return known


def prompt_secret(url: str, username: str | None) -> tuple[str, str] | None:
    """Ask on the terminal (hidden input); never from argv."""
    user = username or typer.prompt(f"Username for {url}", err=True)
    secret = typer.prompt(f"Password or access token for {user}", hide_input=True, err=True)
    return (user, secret) if user and secret else None
