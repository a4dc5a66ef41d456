"""`dtrctl profile`: list the config file's profiles and choose the default one."""

from typing import Annotated, Any

import typer

from dtrctl.cli.common import dtrctl_command
from dtrctl.cli.completers import complete_profile
from dtrctl.cli.options import ListOutputOption, OutputOption
from dtrctl.cli.output import write_csv

app = typer.Typer(
    help=(
        "List the profiles `dtrctl login` saved, and choose the default one.\n\n"
        "The active profile is --profile, else DTRCTL_PROFILE, else the config file's "
        "default_profile, else 'default'.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  dtrctl profile list\n"
        "  dtrctl profile use staging"
    ),
    short_help="List profiles; choose the default one.",
    no_args_is_help=True,
    # Plain help keeps `--help` and shell completion from importing Rich.
    rich_markup_mode=None,
)


def current_profile(ctx: typer.Context) -> Any:
    """The active profile (dtrctl.profiles.ActiveProfile) and the config it was read from."""
    from dtrctl.cli.common import CliState
    from dtrctl.profiles import find_active_profile

    root = ctx.find_root()
    state = root.obj
    chosen = state.settings.profile if isinstance(state, CliState) else None
    # Click records whether --profile came from the command line or DTRCTL_PROFILE.
    source = root.get_parameter_source("profile")
    return find_active_profile(chosen, getattr(source, "name", "") == "ENVIRONMENT")


@app.command("list")
@dtrctl_command
def list_profiles(ctx: typer.Context, output: ListOutputOption = "text") -> None:  # type: ignore[assignment]
    """List the profiles: URL, user, which is active, and where the secret lives.

    The secret itself is never shown: only "keyring", the file `--insecure-storage` wrote, or
    "-" when none is stored.

    Examples:

    \b
      dtrctl profile list
      dtrctl profile list -o json | jq -r '.profiles[] | select(.active) | .url'
    """
    from dtrctl.cli.output import Output
    from dtrctl.profiles import profile_document

    out = Output(getattr(output, "value", output), quiet=_quiet(ctx))
    active, config = current_profile(ctx)
    rows = [
        profile_document(profile, active=name == active.name)
        for name, profile in sorted(config.profiles.items())
    ]
    document = {
        "config_file": str(config.path),
        "active": active.name,
        "active_reason": active.reason,
        "profiles": rows,
    }
    if out.format == "csv":
        _print_csv(rows)
        return
    out.emit(document, lambda out: _print_table(out, rows))
    if not out.is_json:
        out.info(f"Active profile: {active.name} ({active.because(str(config.path))})")
        if not active.exists:
            out.info(f"There is no profile {active.name!r} in {config.path}")


@app.command("use")
@dtrctl_command
def use(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="The profile to make the default (its default_profile).",
            autocompletion=complete_profile,
            show_default=False,
        ),
    ],
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Make a profile the default one (default_profile in the config file).

    --profile and DTRCTL_PROFILE still take precedence over it.

    Examples:

    \b
      dtrctl profile use staging
      dtrctl profile use default -o json
    """
    import os

    from dtrctl.cli.output import Output
    from dtrctl.config import set_default_profile

    out = Output(getattr(output, "value", output), quiet=_quiet(ctx))
    path = set_default_profile(name)
    overridden = os.environ.get("DTRCTL_PROFILE")
    out.emit(
        {"default_profile": name, "config_file": str(path)},
        lambda out: out.line(f"Default profile: {name} (in {path})"),
    )
    if overridden and overridden != name:
        out.warn(f"DTRCTL_PROFILE={overridden} is set and takes precedence in this shell")


def _quiet(ctx: typer.Context) -> bool:
    from dtrctl.cli.common import CliState

    state = ctx.find_root().obj
    return isinstance(state, CliState) and state.settings.quiet


def _print_table(out: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.info("No profiles yet: `dtrctl login URL -u USER` creates one.")
        return
    out.table(
        ("", "PROFILE", "URL", "USER", "SECRET"),
        [
            (
                "*" if row["active"] else "",
                row["name"],
                row["url"] or "-",
                row["username"] or "-",
                row["secret_stored_in"] or "-",
            )
            for row in rows
        ],
    )


def _print_csv(rows: list[dict[str, Any]]) -> None:
    columns = ["name", "url", "username", "active", "secret_stored_in", "backend", "ca_file"]
    write_csv(columns, ([row[key] for key in columns] for row in rows))
