"""The `dtrctl` application: global options and the command groups."""

import math
import os
from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any

import typer

from dtrctl import __version__
from dtrctl.cli.common import CliState
from dtrctl.cli.completers import complete_profile
from dtrctl.cli.loader import CommandSpec, LazyCommandGroup
from dtrctl.settings import DEFAULT_RETRIES, DEFAULT_TIMEOUT, ConnectionSettings

# Each command: its module in dtrctl.cli, the function (or Typer group) there, and a short help
# where the docstring's first line is not the one wanted; in `dtrctl --help` order.
COMMANDS: dict[str, CommandSpec] = {
    "repo": CommandSpec("repo", "app", None),
    "ca": CommandSpec("ca", "app", None),
    "login": CommandSpec("auth", "login", None),
    "logout": CommandSpec("auth", "logout", None),
    "profile": CommandSpec("profile", "app", None),
    "whoami": CommandSpec(
        "auth",
        "whoami",
        "Show the URL, user and credential in use, and if DTR accepts it.",
    ),
    "push-check": CommandSpec(
        "push_check",
        "push_check",
        "Before a push: would DTR accept, skip or refuse each tag?",
    ),
    "explain": CommandSpec(
        "explain", "explain", "Why is each tag immutable, or not: DTR's flag or Harbor's rules."
    ),
    "rules": CommandSpec("rules", "app", "Harbor's immutability rules: lint them."),
    "sandbox": CommandSpec("sandbox", "sandbox", None),
    "completion": CommandSpec("completion", "completion", None),
    "apply": CommandSpec(
        "apply", "apply", "Make repositories match a policy file (plan, then apply)."
    ),
    "migrate": CommandSpec(
        "migrate", "app", "Carry immutability from DTR over to MSR 4 / Harbor (plan, then apply)."
    ),
}
HELP_OPTIONS = ("-h", "--help")


class DtrctlGroup(LazyCommandGroup):
    commands_table = COMMANDS

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Global options anywhere (dtrctl.cli.global_options); the command named is loaded
        # here only when it would be loaded anyway, to run it.
        from dtrctl.cli.global_options import (
            OptionNames,
            command_path,
            output_fallback,
            rearrange,
        )

        def command_at(path: Sequence[str]) -> Any:
            command: Any = self
            for name in path:
                lookup = getattr(command, "get_command", None)
                command = lookup(ctx, name) if lookup else None
                if command is None:
                    return None
            return command

        def leaf_options(path: Sequence[str]) -> OptionNames | None:
            command = command_at(path)
            return OptionNames.of(command.params) if command is not None else None

        def is_group(path: Sequence[str]) -> bool:
            return hasattr(command_at(path), "list_commands")

        global_options = OptionNames.of(self.params)
        arranged = rearrange(args, global_options, COMMANDS, leaf_options, is_group)
        if not ctx.resilient_parsing:
            path = command_path(arranged, global_options, COMMANDS, is_group)
            leaf = command_at(path) if path else None
            if leaf is not None:
                both = OptionNames.of(leaf.params).contradiction(arranged)
                if both:
                    # Click lets the last one win silently; a script that says both has a bug.
                    ctx.fail(f"{both[0]} and {both[1]} contradict each other: give one of them")
                fallback = output_fallback(leaf.params, arranged, os.environ)
                arranged = _before_end_of_options(arranged, fallback)
        return super().parse_args(ctx, arranged)


def _before_end_of_options(args: list[str], extra: list[str]) -> list[str]:
    if not extra:
        return args
    at = args.index("--") if "--" in args else len(args)
    return [*args[:at], *extra, *args[at:]]


def build_app() -> typer.Typer:
    """The `dtrctl` application: the global options; commands are loaded when looked up."""
    app = typer.Typer(
        name="dtrctl",
        cls=DtrctlGroup,
        help=(
            "Administer tag immutability on Docker Trusted Registry / Mirantis Secure Registry "
            "2.x-3.x and on MSR 4 / Harbor (--backend), and check pushes before CI makes "
            "them.\n\n"
            "The DTR comes from --url (DTRCTL_URL) or the profile `dtrctl login` saved. The "
            "credential is the first found of: DTRCTL_USERNAME with DTRCTL_PASSWORD or "
            "DTRCTL_TOKEN, the secret `dtrctl login` stored, docker's or podman's credentials "
            "for the host. "
            "Global options go before or after the command. Run `dtrctl COMMAND --help` for a "
            "command's options and examples."
        ),
        epilog=(
            "Examples:\n\n"
            "\b\n"
            "  dtrctl login https://dtr.example.com -u alice\n"
            "  dtrctl repo create engineering/api --immutable\n"
            "  dtrctl push-check dtr.example.com/engineering/api:1.4.2 --digest sha256:..."
        ),
        # Plain help keeps `--help` and shell completion from importing Rich.
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": list(HELP_OPTIONS)},
        add_completion=False,
    )
    app.callback(invoke_without_command=True)(main_options)
    return app


class BackendChoice(str, Enum):
    """`--backend` values (dtrctl.records.kinds.BACKEND_KINDS)."""

    auto = "auto"
    dtr = "dtr"
    harbor = "harbor"
    registry = "registry"


# A day: a longer wait is a hung run, and an infinite one overflows the socket's timer.
MAX_TIMEOUT = 86400.0


def _reject_nan(value: float) -> float:
    # NaN passes every range check: all comparisons with it are false.
    if math.isnan(value):
        raise typer.BadParameter("nan is not a number of seconds")
    return value


def _version(value: bool) -> None:
    if value:
        print(f"dtrctl {__version__}")
        raise typer.Exit()


def main_options(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            metavar="URL",
            envvar="DTRCTL_URL",
            help="DTR URL, e.g. https://dtr.example.com (default: the profile's).",
        ),
    ] = None,
    username: Annotated[
        str | None,
        typer.Option(
            "--username",
            "-u",
            metavar="USER",
            envvar="DTRCTL_USERNAME",
            help="UCP/MKE user name (default: the profile's, else docker's login for the host).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="NAME",
            envvar="DTRCTL_PROFILE",
            help="Config file profile to use (default: its default_profile, else 'default').",
            autocompletion=complete_profile,
        ),
    ] = None,
    ca_file: Annotated[
        str | None,
        typer.Option(
            "--ca-file",
            metavar="PEM",
            envvar="DTRCTL_CA_FILE",
            help="PEM file with the DTR CA to trust besides the system's (default: the profile's).",
        ),
    ] = None,
    bundle: Annotated[
        str | None,
        typer.Option(
            "--bundle",
            metavar="DIR",
            envvar="DTRCTL_BUNDLE",
            help="UCP client bundle directory: ca.pem is trusted, cert.pem/key.pem are presented.",
        ),
    ] = None,
    backend: Annotated[
        BackendChoice | None,
        typer.Option(
            "--backend",
            envvar="DTRCTL_BACKEND",
            help="The registry kind: auto (detect), dtr (DTR / MSR 2-3), harbor (MSR 4 / "
            "Harbor) or registry (a plain Docker registry: push-check only). Default: the "
            "profile's, else auto.",
            show_default=False,
        ),
    ] = None,
    anonymous: Annotated[
        bool,
        typer.Option(
            "--anonymous",
            envvar="DTRCTL_ANONYMOUS",
            help="Where no credential is found, run anonymously (public repositories only), "
            "also for push-check and repo audit, which otherwise exit 3 against a DTR.",
        ),
    ] = False,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            envvar="DTRCTL_INSECURE",
            help="Skip TLS certificate verification (prints a warning).",
        ),
    ] = False,
    allow_http: Annotated[
        bool,
        typer.Option(
            "--allow-http",
            envvar="DTRCTL_ALLOW_HTTP",
            help="Allow credentials over plain http:// to a host other than loopback.",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            envvar="DTRCTL_TIMEOUT",
            min=0.1,
            max=MAX_TIMEOUT,
            callback=_reject_nan,
            help="Seconds each request may take (connect and read).",
        ),
    ] = DEFAULT_TIMEOUT,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            metavar="N",
            envvar="DTRCTL_RETRIES",
            min=0,
            max=20,
            help="Retries after the first try for GET/HEAD and immutability changes; 0 disables.",
        ),
    ] = DEFAULT_RETRIES,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            envvar="DTRCTL_VERBOSE",
            help="Log each request and response to stderr (secrets redacted).",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            envvar="DTRCTL_QUIET",
            help="No summaries, progress or notes on stderr; errors and warnings still.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    if ctx.invoked_subcommand is None:
        # `dtrctl` alone is a request for the overview, not a usage error.
        print(ctx.get_help())
        raise typer.Exit()
    from dtrctl.cli.logs import configure_logging

    configure_logging(verbose)
    ctx.obj = CliState(
        ConnectionSettings(
            url=url,
            username=username,
            ca_file=ca_file,
            bundle=bundle,
            insecure=insecure,
            allow_http=allow_http,
            timeout=timeout,
            retries=retries,
            quiet=quiet,
            profile=profile,
            backend=backend.value if backend else None,
            anonymous=anonymous,
        )
    )


app = build_app()
