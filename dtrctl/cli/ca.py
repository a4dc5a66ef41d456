"""`dtrctl ca fetch`: download DTR's self-signed CA, show its fingerprint, save it on request."""

import sys
from pathlib import Path
from typing import Annotated

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
    one from your DTR administrator. Once saved, the active profile uses it as its --ca-file.

    Examples:

    \b
      dtrctl ca fetch https://dtr.example.com
      dtrctl ca fetch dtr.example.com --save /etc/dtr/ca.pem --yes
      dtrctl --profile prod ca fetch
    """
    from dtrctl.ca import fetch_ca, save_ca

    run = Run(ctx, output, allow_new_profile=True)
    fetched = fetch_ca(run.settings.with_url(url) if url else run.settings)
    info = fetched.certificate
    run.out.info(
        f"CA of {fetched.url}\n  subject:     {info.subject}\n  expires:     {info.not_after}\n"
        f"  SHA-256:     {info.sha256_fingerprint}"
    )
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "not saved: confirm the fingerprint", hint="Compare it out of band, then add --yes"
            )
        if not typer.confirm("Trust and save this certificate?", err=True):
            raise typer.Exit(1)
    saved = save_ca(fetched, Path(save) if save else None, profile=run.settings.profile)
    run.out.emit(
        {
            "url": fetched.url,
            "sha256_fingerprint": info.sha256_fingerprint,
            "subject": info.subject,
            "saved_to": str(saved.path),
            "profile": saved.profile,
        },
        lambda out: out.line(
            f"Saved to {saved.path}"
            + (f" and recorded as ca_file of profile {saved.profile}" if saved.profile else "")
        ),
    )
