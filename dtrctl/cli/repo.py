"""`dtrctl repo`: create repositories, toggle immutability, show and list them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dtrctl.cli.common import ListOutputOption, OutputOption, Run, dtrctl_command
from dtrctl.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from dtrctl.models import Repository
    from dtrctl.operations import ImmutabilityResult

app = typer.Typer(
    help="Create repositories, turn tag immutability on or off, show and list them.",
    no_args_is_help=True,
)

RepositoryArgument = Annotated[str, typer.Argument(help="Repository as NAMESPACE/NAME.")]


@app.command("create")
@dtrctl_command
def create(
    ctx: typer.Context,
    repository: RepositoryArgument,
    immutable: Annotated[
        bool, typer.Option("--immutable", help="Turn tag immutability on.")
    ] = False,
    visibility: Annotated[str | None, typer.Option(help="private (the default) or public.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="Short description (≤140 characters).")
    ] = None,
    long_description: Annotated[str | None, typer.Option(help="Long description.")] = None,
    scan_on_push: Annotated[
        bool | None, typer.Option("--scan-on-push", help="Scan images when pushed.")
    ] = None,
    tag_limit: Annotated[
        int | None, typer.Option(help="Keep at most N tags (0 = no limit; not with --immutable).")
    ] = None,
    exist_ok: Annotated[
        bool,
        typer.Option(
            "--exist-ok", help="If it exists, apply the settings given here instead of failing."
        ),
    ] = False,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Create a repository, with tag immutability on when --immutable is given.

    Examples:

      dtrctl repo create engineering/api --immutable

      dtrctl repo create library/tools --visibility public --description "Build tools"

      dtrctl repo create ci/cache --immutable --exist-ok -o json
    """
    from dtrctl.operations import RepositorySettings, create_repository
    from dtrctl.reference import parse_repository_name

    name = parse_repository_name(repository)
    settings = RepositorySettings(
        immutable=True if immutable else None,
        visibility=visibility,
        short_description=description,
        long_description=long_description,
        scan_on_push=scan_on_push,
        tag_limit=tag_limit,
    )
    settings.validate()
    run = Run(ctx, output)
    with run.session(write=True) as session:
        outcome = create_repository(session.dtr, name, settings, exist_ok=exist_ok)
    verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
    run.out.emit(
        {
            "repository": outcome.repository.to_json(),
            "created": outcome.created,
            "changed": outcome.changed,
        },
        lambda console: _print_repository(console, outcome.repository, heading=verb),
    )


@app.command("set-immutable")
@dtrctl_command
def set_immutable(
    ctx: typer.Context,
    repositories: Annotated[
        list[str], typer.Argument(help="One or more repositories as NAMESPACE/NAME.")
    ],
    on: Annotated[
        bool, typer.Option("--on/--off", help="Turn immutability on (default) or off.")
    ] = True,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Repositories changed at once.")
    ] = 8,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Turn tag immutability on (or --off) for existing repositories.

    Repositories already in the wanted state are not touched. Turning immutability on also
    clears a tag limit, which DTR treats as exclusive with it.

    Examples:

      dtrctl repo set-immutable engineering/api

      dtrctl repo set-immutable engineering/api engineering/web --off -o json
    """
    from dtrctl.operations import common_failure, set_immutability_many
    from dtrctl.reference import parse_repository_name

    names = list(dict.fromkeys(parse_repository_name(text) for text in repositories))
    run = Run(ctx, output)
    with run.session(write=True) as session:
        results = set_immutability_many(session.dtr, names, on, concurrency=concurrency)
    run.out.emit(
        {"results": [_result_json(result) for result in results]},
        lambda console: _print_results(console, results),
    )
    failures = [result.error for result in results if result.error is not None]
    if failures:
        for failure in failures if not run.out.is_json else []:
            run.out.info(f"Error: {failure.message}")
        common = common_failure(failures) if len(failures) == len(results) else None
        raise typer.Exit(int(common.exit_code if common else ExitCode.FAILED))


@app.command("show")
@dtrctl_command
def show(
    ctx: typer.Context,
    repository: RepositoryArgument,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Show a repository's settings, immutability first.

    Examples:

      dtrctl repo show engineering/api

      dtrctl repo show engineering/api -o json | jq .repository.immutable
    """
    from dtrctl.reference import parse_repository_name

    name = parse_repository_name(repository)
    run = Run(ctx, output)
    with run.session(write=False) as session:
        found = session.dtr.get_repository(name)
    run.out.emit({"repository": found.to_json()}, lambda console: _print_repository(console, found))


@app.command("list")
@dtrctl_command
def list_repositories(
    ctx: typer.Context,
    namespace: Annotated[
        str | None, typer.Argument(help="Only this namespace (all visible ones by default).")
    ] = None,
    mutable: Annotated[
        bool | None,
        typer.Option("--mutable/--immutable", help="Only mutable, or only immutable, ones."),
    ] = None,
    output: ListOutputOption = "text",  # type: ignore[assignment]
) -> None:
    """List repositories with their immutability (all pages).

    Examples:

      dtrctl repo list --mutable

      dtrctl repo list engineering -o csv > engineering.csv
    """
    from dtrctl.reference import validate_namespace

    if namespace is not None:
        validate_namespace(namespace)
    run = Run(ctx, output)
    with run.session(write=False) as session:
        found = [
            repository
            for repository in session.dtr.list_repositories(namespace)
            if mutable is None or repository.immutable != mutable
        ]
    if run.out.format == "csv":
        _print_csv(found)
        return
    run.out.emit(
        {"repositories": [repository.to_json() for repository in found]},
        lambda console: _print_table(console, found),
    )
    if not run.out.is_json:
        mutable_count = sum(not repository.immutable for repository in found)
        run.out.info(f"{len(found)} repositories, {mutable_count} mutable")


def _result_json(result: ImmutabilityResult) -> dict[str, object]:
    return {
        "repository": result.repository,
        "immutable": result.immutable,
        "changed": result.changed,
        "tag_limit_cleared": result.tag_limit_cleared,
        "error": result.error.to_dict() if result.error else None,
    }


def _print_results(console: Console, results: list[ImmutabilityResult]) -> None:
    for result in results:
        if result.error is not None:
            console.print(f"{result.repository}: [red]failed[/red] ({result.error.code})")
            continue
        state = "immutable" if result.immutable else "mutable"
        what = "now " + state if result.changed else "already " + state
        extra = (
            " (tag limit cleared: DTR treats it as exclusive)" if result.tag_limit_cleared else ""
        )
        console.print(f"{result.repository}: {what}{extra}")


def _print_repository(console: Console, repository: Repository, heading: str = "") -> None:
    immutable = (
        "[bold green]on[/bold green] (existing tags cannot be overwritten)"
        if repository.immutable
        else "[bold yellow]off[/bold yellow] (tags can be overwritten)"
    )
    if heading:
        console.print(f"{repository.full_name}: {heading}")
    rows = [
        ("Repository", repository.full_name),
        ("Immutable tags", immutable),
        ("Visibility", repository.visibility),
        ("Tag limit", str(repository.tag_limit or "none")),
        ("Scan on push", "yes" if repository.scan_on_push else "no"),
        ("Description", repository.short_description or "-"),
        ("Namespace type", repository.namespace_type),
        ("Pulls / pushes", f"{repository.pulls} / {repository.pushes}"),
    ]
    if repository.long_description:
        rows.append(("Long description", repository.long_description))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"{label + ':':<{width + 1}} {value}")


def _print_table(console: Console, repositories: list[Repository]) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("REPOSITORY", "IMMUTABLE", "VISIBILITY", "TAG LIMIT"):
        table.add_column(column, no_wrap=True)
    for repository in repositories:
        table.add_row(
            repository.full_name,
            "yes" if repository.immutable else "[yellow]no[/yellow]",
            repository.visibility,
            str(repository.tag_limit or "-"),
        )
    console.print(table)


def _print_csv(repositories: list[Repository]) -> None:
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["repository", "immutable", "visibility", "tag_limit", "short_description"])
    for repository in repositories:
        writer.writerow(
            [
                repository.full_name,
                str(repository.immutable).lower(),
                repository.visibility,
                repository.tag_limit,
                repository.short_description,
            ]
        )
