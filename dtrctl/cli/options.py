"""The option and argument types the commands share (Typer `Annotated` declarations)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dtrctl.cli.completers import complete_namespace, complete_repository
from dtrctl.cli.output import ListFormat, OutputFormat

OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output", "-o", envvar="DTRCTL_OUTPUT", help="Output format: text or json (dtrctl/v1)."
    ),
]
ListOutputOption = Annotated[
    ListFormat,
    typer.Option(
        "--output",
        "-o",
        envvar="DTRCTL_OUTPUT",
        help="Output format: text, json (dtrctl/v1) or csv.",
    ),
]

UrlArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="URL",
        help="DTR URL, e.g. https://dtr.example.com (default: --url / DTRCTL_URL, else the "
        "profile's).",
        show_default=False,
    ),
]

RepositoryArgument = Annotated[
    str,
    typer.Argument(help="Repository as NAMESPACE/NAME.", autocompletion=complete_repository),
]


def selection_argument(help_text: str) -> Any:
    """The SELECTION argument of the commands that take many repositories."""
    return typer.Argument(
        help=help_text,
        show_default=False,
        metavar="SELECTION",
        autocompletion=complete_repository,
    )


SelectionArgument = Annotated[
    list[str] | None,
    selection_argument(
        "Repositories as NAMESPACE/NAME, or quoted patterns: 'ns/*', 'ns/app-*', '*/*'."
    ),
]
NamespaceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--namespace",
        help="Every repository of namespace NS (repeatable).",
        metavar="NS",
        autocompletion=complete_namespace,
    ),
]
FromFileOption = Annotated[
    str | None,
    typer.Option(
        "--from-file",
        help="Read NAMESPACE/NAME lines from FILE ('-' for stdin; # starts a comment).",
        metavar="FILE",
    ),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude", help="Leave out repositories matching PATTERN (repeatable).", metavar="PATTERN"
    ),
]
ConcurrencyOption = Annotated[
    int, typer.Option(min=1, max=64, help="Repositories worked on at once.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print what would change, and change nothing.")
]
JunitOption = Annotated[
    str | None,
    typer.Option("--junit", help="Also write a JUnit XML report to FILE.", metavar="FILE"),
]
