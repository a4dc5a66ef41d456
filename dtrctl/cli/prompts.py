"""Questions on the terminal: confirmations before risky changes, and the login prompt."""

from __future__ import annotations

import sys

import typer

from dtrctl.errors import ExitCode, UsageError


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


def prompt_secret(url: str, username: str | None) -> tuple[str, str] | None:
    """Ask on the terminal (hidden input); never from argv."""
    user = username or typer.prompt(f"Username for {url}", err=True)
    secret = typer.prompt(f"Password or access token for {user}", hide_input=True, err=True)
    return (user, secret) if user and secret else None
