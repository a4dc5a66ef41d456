"""`dtrctl repo`: create repositories, toggle immutability (one or a fleet), list and audit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dtrctl.cli.bulk_report import BulkProgress, bulk_exit_code, report_immutability
from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.completers import complete_visibility
from dtrctl.cli.options import (
    ConcurrencyOption,
    DryRunOption,
    ExcludeOption,
    FromFileOption,
    ListOutputOption,
    NamespaceOption,
    OutputOption,
    RepositoryArgument,
    SelectionArgument,
    selection_argument,
)
from dtrctl.cli.prompts import confirm_turning_off
from dtrctl.cli.repo_audit import audit as audit_command
from dtrctl.cli.repo_render import (
    known_immutable,
    print_csv,
    print_repository,
    print_table,
    unknown_notes,
)
from dtrctl.cli.repo_tags import tags as tags_command
from dtrctl.cli.repo_unlock import unlock as unlock_command
from dtrctl.cli.selecting import or_every_repository, read_selection, resolve
from dtrctl.errors import NotFound, UsageError

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help=(
        "Create, show, list and audit repositories; turn tag immutability on or off.\n\n"
        "Examples:\n\n\b\n"
        "  dtrctl repo create engineering/api --immutable\n"
        "  dtrctl repo set-immutable 'engineering/*' --dry-run\n"
        "  dtrctl repo list --mutable"
    ),
    short_help="Create, show, list and audit repositories; set immutability.",
    no_args_is_help=True,
    # Plain help keeps `--help` and shell completion from importing Rich.
    rich_markup_mode=None,
)


@app.command("create")
@dtrctl_command
def create(
    ctx: typer.Context,
    repository: RepositoryArgument,
    immutable: Annotated[
        bool, typer.Option("--immutable", help="Turn tag immutability on.")
    ] = False,
    visibility: Annotated[
        str | None,
        typer.Option(
            metavar="private|public",
            help="private (the default) or public.",
            autocompletion=complete_visibility,
        ),
    ] = None,
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
    create_project: Annotated[
        bool,
        typer.Option("--create-project", help="Harbor (MSR 4): create a missing project."),
    ] = False,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Create a repository, with tag immutability on when --immutable is given.

    On Harbor (MSR 4) the project must exist (or --create-project); --immutable adds one rule
    for exactly this repository, which Harbor creates at its first push.

    Examples:

    \b
      dtrctl repo create engineering/api --immutable
      dtrctl repo create library/tools --visibility public --description "Build tools"
      dtrctl repo create ci/cache --immutable --exist-ok -o json
    """
    from dtrctl.records.changes import RepositorySettings

    run = Run(ctx, output)  # first: it says whether names may nest (Harbor)
    name = run.repository_name(repository)
    settings = RepositorySettings(
        immutable=True if immutable else None,
        visibility=visibility,
        short_description=description,
        long_description=long_description,
        scan_on_push=scan_on_push,
        tag_limit=tag_limit,
    )
    settings.validate()
    with run.session(write=True) as session:
        outcome = session.backend.create_repository(
            name, settings, exist_ok=exist_ok, create_project=create_project
        )
    if outcome.created:
        from dtrctl.repos.name_cache import forget_repository_names

        forget_repository_names(run.settings, name.namespace)
    verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
    document: dict[str, object] = {
        "repository": outcome.repository.to_json(),
        "created": outcome.created,
        "changed": outcome.changed,
    }
    if outcome.notes:
        document["notes"] = list(outcome.notes)
    run.out.emit(document, lambda out: print_repository(out, outcome.repository, heading=verb))
    for note in outcome.notes if not run.out.is_json else ():
        run.out.info(f"Note: {note}")


@app.command("set-immutable")
@dtrctl_command
def set_immutable(
    ctx: typer.Context,
    repositories: SelectionArgument = None,
    namespace: NamespaceOption = None,
    from_file: FromFileOption = None,
    exclude: ExcludeOption = None,
    on: Annotated[
        bool, typer.Option("--on/--off", help="Turn immutability on (default) or off.")
    ] = True,
    dry_run: DryRunOption = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Turn immutability off for many without asking (needed off a terminal).",
        ),
    ] = False,
    concurrency: ConcurrencyOption = 8,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Turn tag immutability on (or --off) for existing repositories: one, a list or a pattern.

    Repositories already in the wanted state are not touched; every change reads the
    repository first and sends all of its settings back. Turning immutability on also clears
    a tag limit, which DTR treats as exclusive with it. Turning it off for more than one
    repository asks first (or needs --yes when not on a terminal). Ctrl-C stops cleanly and
    says what changed (exit 130).

    Examples:

    \b
      dtrctl repo set-immutable engineering/api
      dtrctl repo set-immutable 'engineering/*' --exclude 'engineering/sandbox-*' --dry-run
      dtrctl repo set-immutable --from-file release-repos.txt --off --yes -o json
    """
    from dtrctl.repos.bulk import set_immutability_bulk

    run = Run(ctx, output)  # first: it says whether names may nest (Harbor)
    selection = read_selection(repositories, namespace, from_file, exclude, nested=run.nested_names)
    if selection.is_empty:
        raise UsageError(
            "name the repositories to change",
            hint="Give NAMESPACE/NAME, a quoted pattern such as 'engineering/*', "
            "--namespace NS or --from-file FILE",
        )
    with run.session(write=True) as session:
        resolution = resolve(run.out, session.backend, selection)
        names = resolution.names
        if not names:
            raise NotFound(
                "no repository matches the selection: nothing was changed",
                hint="Check the patterns, and that the user may see the repositories",
            )
        listed = resolution.listed
        if not on and not dry_run and not yes and len(names) > 1:
            listed = confirm_turning_off(session.backend, names, listed, concurrency)
        verb = "would change" if dry_run else "changed"
        with BulkProgress(run.out, len(names), verb) as progress:
            outcome = set_immutability_bulk(
                session.backend,
                names,
                on,
                listed=listed,
                dry_run=dry_run,
                concurrency=concurrency,
                on_result=lambda result: progress.advance(result.changed, result.error is not None),
            )
    report_immutability(run.out, outcome, on=on, dry_run=dry_run)
    raise typer.Exit(bulk_exit_code(outcome))


@app.command("show")
@dtrctl_command
def show(
    ctx: typer.Context,
    repository: RepositoryArgument,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Show a repository's settings, immutability first.

    Examples:

    \b
      dtrctl repo show engineering/api
      dtrctl repo show engineering/api -o json | jq .repository.immutable
    """
    run = Run(ctx, output)  # first: it says whether names may nest (Harbor)
    name = run.repository_name(repository)
    with run.session(write=False) as session:
        found = session.backend.get_repository(name)
    for note in unknown_notes([found]):
        run.out.warn(f"immutability unknown: {note}")
    run.out.emit({"repository": found.to_json()}, lambda out: print_repository(out, found))


@app.command("list")
@dtrctl_command
def list_repositories(
    ctx: typer.Context,
    repositories: Annotated[
        list[str] | None,
        selection_argument(
            "Namespaces, NAMESPACE/NAME or quoted patterns such as 'ns/app-*' "
            "(all visible repositories by default)."
        ),
    ] = None,
    namespace: NamespaceOption = None,
    from_file: FromFileOption = None,
    exclude: ExcludeOption = None,
    mutable: Annotated[
        bool | None,
        typer.Option("--mutable/--immutable", help="Only mutable, or only immutable, ones."),
    ] = None,
    output: ListOutputOption = "text",  # type: ignore[assignment]
) -> None:
    """List repositories with their immutability (all pages).

    Examples:

    \b
      dtrctl repo list --mutable
      dtrctl repo list engineering -o csv > engineering.csv
      dtrctl repo list 'engineering/release-*' --exclude 'engineering/release-0*'
    """
    from dtrctl.repos.bulk import load_repositories

    selection = read_selection(repositories, namespace, from_file, exclude, bare_is_namespace=True)
    run = Run(ctx, output)
    with run.session(write=False) as session:
        resolution = resolve(run.out, session.backend, or_every_repository(selection))
        if not resolution.names and not selection.is_empty:
            # As set-immutable and audit: a selection that matches nothing is likely a typo.
            # Without a selection an empty registry is simply an empty list.
            raise NotFound(
                "no repository matches the selection",
                hint="Check the patterns, and that the user may see the repositories",
            )
        found = [
            repository
            for repository in load_repositories(session.backend, resolution)
            # An unknown immutability is neither mutable nor immutable.
            if mutable is None or known_immutable(repository) not in (mutable, None)
        ]
    for note in unknown_notes(found):
        run.out.warn(f"immutability unknown: {note}")
    if run.out.format == "csv":
        print_csv(found)
        return
    run.out.emit(
        {"repositories": [repository.to_json() for repository in found]},
        lambda out: print_table(out, found),
    )
    if not run.out.is_json:
        mutable_count = sum(known_immutable(repository) is False for repository in found)
        unknown = sum(known_immutable(repository) is None for repository in found)
        also = f", {unknown} unknown" if unknown else ""
        noun = "repository" if len(found) == 1 else "repositories"
        run.out.info(f"{len(found)} {noun}, {mutable_count} mutable{also}")


app.command("tags")(tags_command)
app.command("audit")(audit_command)
app.command("unlock")(unlock_command)
