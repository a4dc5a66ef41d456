"""`dtrctl login`, `logout` and `whoami`."""

import sys
from typing import Annotated, Any

import typer

from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.completers import complete_profile
from dtrctl.cli.options import OutputOption, UrlArgument
from dtrctl.errors import AuthenticationFailed, ExitCode, MissingSetting

LOGIN_REFUSED_HINT = (
    "Nothing was saved. Check the user name (a UCP/MKE user; on MSR 4 / Harbor a Harbor user "
    "or robot account), that the password or access token is current (tokens expire or are "
    "revoked), and that the account is one this registry knows: a UCP user for DTR, not a "
    "user of another UCP or a local docker account"
)


def _read_secret(password_stdin: bool, username: str) -> str:
    if password_stdin:
        from dtrctl.files import SECRET_LIMIT, read_text_bounded

        return read_text_bounded("-", SECRET_LIMIT, "the password on").rstrip("\r\n")
    if sys.stdin.isatty():
        return typer.prompt(f"Password or access token for {username}", hide_input=True, err=True)
    raise MissingSetting(
        "no password given", hint="Pipe it in with --password-stdin; it is never taken from argv"
    )


@dtrctl_command
def login(
    ctx: typer.Context,
    url: UrlArgument = None,
    username: Annotated[
        str | None,
        typer.Option(
            "--username",
            "-u",
            metavar="USER",
            help="UCP/MKE user name (default: the global --username / DTRCTL_USERNAME; asked "
            "for on a terminal).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password or DTR access token from stdin (default: ask on a terminal; "
            "never taken from the command line).",
        ),
    ] = False,
    profile: Annotated[
        str,
        typer.Option(metavar="NAME", help="Profile to save the URL, user and TLS settings in."),
    ] = "default",
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage",
            help="Keep the secret in a 0600 file in the config directory instead of the keyring "
            "(for hosts without one).",
        ),
    ] = False,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Check a credential with DTR and save it for later runs.

    Nothing is saved unless DTR accepts the credential. The secret (a UCP password or, better, a
    DTR access token) goes to the system keyring; URL, user and TLS settings go to the profile,
    which later commands use when no option or environment variable says otherwise.

    Examples:

    \b
      dtrctl login https://dtr.example.com -u alice
      echo "$DTR_TOKEN" | dtrctl login dtr.example.com -u ci-bot --password-stdin
      dtrctl login https://dtr-staging.example.com -u alice --profile staging
    """
    from dtrctl.login import log_in

    run = Run(ctx, output, profile=profile, allow_new_profile=True)
    user = username or run.settings.username
    if not user and sys.stdin.isatty() and not password_stdin:
        user = typer.prompt("Username", err=True)
    if not user:
        raise MissingSetting("no username given", hint="Pass -u USER or set DTRCTL_USERNAME")
    secret = _read_secret(password_stdin, user)
    run.settings = run.settings.with_username(user)
    with run.session(write=True, secret=secret, url=url) as session:
        try:
            result = log_in(session, profile_name=profile, insecure_storage=insecure_storage)
        except AuthenticationFailed as error:
            # The generic hint says to supply credentials: here they were just supplied.
            error.message = f"{session.url} refused the user name and password of {user}"
            error.hint = LOGIN_REFUSED_HINT
            raise
    if result.secret_stored_in != "keyring":
        run.out.warn(f"the secret is stored unencrypted in {result.secret_stored_in}")
    run.out.emit(
        {
            "url": result.url,
            "username": result.username,
            "profile": result.profile,
            "secret_stored_in": result.secret_stored_in,
            "config_file": result.config_file,
        },
        lambda out: out.line(
            f"Logged in to {result.url} as {result.username} (profile {result.profile}; "
            f"secret in {result.secret_stored_in})"
        ),
    )


@dtrctl_command
def logout(
    ctx: typer.Context,
    profile: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="Profile whose stored secret to remove.",
            autocompletion=complete_profile,
        ),
    ] = "default",
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Remove a profile's stored secret; its settings stay.

    The secret is deleted from the keyring or the 0600 file, wherever `dtrctl login` put it;
    URL, user and TLS settings stay in the profile for the next login.

    Examples:

    \b
      dtrctl logout
      dtrctl logout --profile staging
      dtrctl logout --profile ci -o json
    """
    from dtrctl.login import log_out

    run = Run(ctx, output)
    result = log_out(profile)
    removed = ", ".join(result.removed_from) or "nothing (no stored secret)"
    run.out.emit(
        {
            "profile": result.profile,
            "url": result.url,
            "username": result.username,
            "removed_from": result.removed_from,
            "also_logged_out": result.also_logged_out,
        },
        lambda out: out.line(f"Profile {result.profile}: removed {removed}"),
    )
    if result.also_logged_out:
        others = ", ".join(result.also_logged_out)
        run.out.warn(
            f"profile(s) {others} used the same secret ({result.username} at {result.url}): "
            "logged out too; `dtrctl login --profile NAME` stores it again"
        )


@dtrctl_command
def whoami(ctx: typer.Context, output: OutputOption = "text") -> None:  # type: ignore[assignment]
    """Show the URL, user and credential in use, and if DTR accepts it.

    The credential is the first found of: DTRCTL_PASSWORD or DTRCTL_TOKEN (with
    DTRCTL_USERNAME), the secret `dtrctl login` stored, docker's or podman's credentials for
    the host.
    Exit code 3 when none is found or DTR refuses it.

    Examples:

    \b
      dtrctl whoami
      DTRCTL_PROFILE=prod dtrctl whoami -o json
      dtrctl --url https://dtr.example.com -u alice whoami
    """
    run = Run(ctx, output)
    active, active_config = _active_profile(ctx)
    # Its report says when no credential is found: no separate notice of an anonymous run.
    with run.session(write=False, announce_anonymous=False) as session:
        credential = session.credential
        accepted: bool | None = None
        if credential is not None:
            try:
                session.backend.check_credentials()
                accepted = True
            except AuthenticationFailed:
                accepted = False
    user = f"{credential.username} (from {credential.source})" if credential else "none found"
    profile_why = active.because(str(active_config.path)) + (
        "" if active.exists else "; not in the config file"
    )
    verdict = {True: "accepted", False: "REFUSED by DTR", None: "-"}[accepted]
    run.out.emit(
        {
            "url": session.url,
            "username": credential.username if credential else None,
            "source": credential.source if credential else None,
            "profile": session.settings.profile,
            "profile_reason": active.reason,
            "profile_exists": active.exists,
            "accepted": accepted,
        },
        lambda out: _lines(
            out,
            f"Profile:    {active.name} ({profile_why})",
            f"URL:        {session.url}",
            f"User:       {user}",
            f"Credential: {verdict}",
        ),
    )
    if not accepted:
        if credential is None:
            from dtrctl.auth.anonymous import CREDENTIALS_HINT

            run.out.info(f"No credential found. {CREDENTIALS_HINT}")
        raise typer.Exit(int(ExitCode.AUTH))


def _lines(out: Any, *lines: str) -> None:
    """Each on its own line: `out.line` escapes a line break inside a line (it may be data)."""
    for line in lines:
        out.line(line)


def _active_profile(ctx: typer.Context) -> Any:
    """Which profile is active and why (dtrctl.profiles.ActiveProfile), and the config."""
    from dtrctl.cli.common import CliState
    from dtrctl.profiles import find_active_profile

    root = ctx.find_root()
    chosen = root.obj.settings.profile if isinstance(root.obj, CliState) else None
    # Click records whether --profile came from the command line or DTRCTL_PROFILE.
    source = root.get_parameter_source("profile")
    return find_active_profile(chosen, getattr(source, "name", "") == "ENVIRONMENT")
