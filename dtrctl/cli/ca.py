"""`dtrctl ca fetch`: download DTR's self-signed CA, show its fingerprint, save it on request."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.options import OutputOption, UrlArgument
from dtrctl.errors import UsageError

app = typer.Typer(
    help=(
        "Work with the CA certificate DTR uses.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  dtrctl ca fetch https://dtr.example.com\n"
        "  dtrctl --profile prod ca fetch"
    ),
    no_args_is_help=True,
    # Plain help keeps `--help` and shell completion from importing Rich.
    rich_markup_mode=None,
)


@app.command("fetch")
@dtrctl_command
def fetch(
    ctx: typer.Context,
    url: UrlArgument = None,
    save: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Where to save the PEM (default: <config dir>/ca/<host>.pem).",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Save without asking (default: ask on a terminal, refuse otherwise); compare "
            "the fingerprint out of band first.",
        ),
    ] = False,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Download DTR's CA certificate and save it once you confirm it.

    The certificate comes from https://HOST/ca without verification (trust on first use), so
    its subject, expiry and SHA-256 fingerprint are shown first: compare the fingerprint with
    one from your DTR administrator. Once saved, it is the --ca-file of the profile of that DTR:
    the one --profile names, else the active one (created if need be); when the active profile
    is another DTR's, a new profile named after the host (use it with --profile HOST).

    Examples:

    \b
      dtrctl ca fetch https://dtr.example.com
      dtrctl ca fetch dtr.example.com --save /etc/dtr/ca.pem --yes
      dtrctl --profile prod ca fetch
    """
    from dtrctl.ca import fetch_ca, profile_for_ca, save_ca

    run = Run(ctx, output, allow_new_profile=True)
    fetched = fetch_ca(run.settings.with_url(url) if url else run.settings)
    info = fetched.certificate
    run.out.info(
        f"CA of {fetched.url}\n  subject:     {info.subject}\n  expires:     {info.not_after}\n"
        f"  SHA-256:     {info.sha256_fingerprint}"
    )
    # Decided before asking: a profile of another DTR is refused without a question.
    target = profile_for_ca(fetched.url, _named_profile(ctx))
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "not saved: confirm the fingerprint", hint="Compare it out of band, then add --yes"
            )
        if not typer.confirm("Trust and save this certificate?", err=True):
            raise typer.Exit(1)
    saved = save_ca(fetched, Path(save) if save else None, target)
    run.out.emit(
        {
            "url": fetched.url,
            "sha256_fingerprint": info.sha256_fingerprint,
            "subject": info.subject,
            "saved_to": str(saved.path),
            "profile": saved.profile,
            "profile_created": saved.created,
            "profile_active": saved.active,
        },
        lambda out: out.line(_saved_line(saved)),
    )
    if not saved.active:
        run.out.info(
            f"The active profile is another DTR's: use this one with --profile {saved.profile} "
            f"(or DTRCTL_PROFILE={saved.profile}), or pass --ca-file {saved.path}"
        )


def _named_profile(ctx: typer.Context) -> str | None:
    """--profile or DTRCTL_PROFILE, as given (not the config file's default)."""
    from dtrctl.cli.common import CliState

    state = ctx.find_root().obj
    return state.settings.profile if isinstance(state, CliState) else None


def _saved_line(saved: Any) -> str:
    what = "new profile" if saved.created else "profile"
    return f"Saved to {saved.path} and recorded as ca_file of {what} {saved.profile}"
