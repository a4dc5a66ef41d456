"""`dtrctl repo`: create repositories, toggle immutability (one or a fleet), list and audit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dtrctl.cli.bulk_report import BulkProgress, bulk_exit_code, bulk_json, report_immutability
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
from dtrctl.cli.prompts import confirm_on_terminal, confirm_turning_off
from dtrctl.cli.repo_render import (
    print_csv,
    print_drift,
    print_repository,
    print_table,
    write_junit,
)
from dtrctl.cli.repo_tags import tags as tags_command
from dtrctl.cli.selecting import or_every_repository, read_selection, resolve
from dtrctl.errors import ExitCode, NotFound, UsageError

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.cli.output import Output
    from dtrctl.repos.bulk import BulkOutcome
    from dtrctl.repos.policy import AuditReport
    from dtrctl.repos.settings import ImmutabilityResult

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
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Create a repository, with tag immutability on when --immutable is given.

    Examples:

    \b
      dtrctl repo create engineering/api --immutable
      dtrctl repo create library/tools --visibility public --description "Build tools"
      dtrctl repo create ci/cache --immutable --exist-ok -o json
    """
    from dtrctl.reference import parse_repository_name
    from dtrctl.repos.settings import RepositorySettings

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
        outcome = session.backend.create_repository(name, settings, exist_ok=exist_ok)
    if outcome.created:
        from dtrctl.repos.name_cache import forget_repository_names

        forget_repository_names(run.settings, name.namespace)
    verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
    run.out.emit(
        {
            "repository": outcome.repository.to_json(),
            "created": outcome.created,
            "changed": outcome.changed,
        },
        lambda out: print_repository(out, outcome.repository, heading=verb),
    )


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

    selection = read_selection(repositories, namespace, from_file, exclude)
    if selection.is_empty:
        raise UsageError(
            "name the repositories to change",
            hint="Give NAMESPACE/NAME, a quoted pattern such as 'engineering/*', "
            "--namespace NS or --from-file FILE",
        )
    run = Run(ctx, output)
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
    from dtrctl.reference import parse_repository_name

    name = parse_repository_name(repository)
    run = Run(ctx, output)
    with run.session(write=False) as session:
        found = session.backend.get_repository(name)
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
            if mutable is None or repository.immutable != mutable
        ]
    if run.out.format == "csv":
        print_csv(found)
        return
    run.out.emit(
        {"repositories": [repository.to_json() for repository in found]},
        lambda out: print_table(out, found),
    )
    if not run.out.is_json:
        mutable_count = sum(not repository.immutable for repository in found)
        run.out.info(f"{len(found)} repositories, {mutable_count} mutable")


app.command("tags")(tags_command)


@app.command("audit")
@dtrctl_command
def audit(
    ctx: typer.Context,
    repositories: Annotated[
        list[str] | None,
        selection_argument(
            "What to check: NAMESPACE/NAME or quoted patterns (default: what "
            "--require-immutable names, else every visible repository)."
        ),
    ] = None,
    namespace: NamespaceOption = None,
    from_file: FromFileOption = None,
    exclude: ExcludeOption = None,
    require_immutable: Annotated[
        list[str] | None,
        typer.Option(
            "--require-immutable",
            help="Repositories matching PATTERN must be immutable (repeatable; "
            "default: every checked one).",
            metavar="PATTERN",
        ),
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Turn immutability on where it is missing.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --fix: print what would change, change nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --fix: do not ask on a terminal.")
    ] = False,
    concurrency: ConcurrencyOption = 8,
    junit: Annotated[
        str | None,
        typer.Option("--junit", help="Also write a JUnit XML report to FILE.", metavar="FILE"),
    ] = None,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Check that repositories that must be immutable are (exit 1 on drift, listing them).

    Drift is a checked repository that matches a --require-immutable pattern (every checked one
    when none is given) and has immutability off. --fix turns it on, with the safety of
    set-immutable (read-modify-write, --dry-run, Ctrl-C stops cleanly); on a terminal it asks
    first when more than one repository would change.

    Examples:

    \b
      dtrctl repo audit --require-immutable 'engineering/release-*' --junit audit.xml
      dtrctl repo audit 'engineering/*' --exclude 'engineering/scratch' -o json
      dtrctl repo audit --namespace ci --fix --dry-run
    """
    from dtrctl.repos.bulk import load_repositories
    from dtrctl.repos.policy import audit_immutability
    from dtrctl.repos.selection import parse_pattern, parse_selection

    if dry_run and not fix:
        raise UsageError("--dry-run goes with --fix", hint="An audit alone changes nothing")
    rules = [parse_pattern(text) for text in require_immutable or []]
    selection = read_selection(repositories, namespace, from_file, exclude)
    if selection.is_empty and rules:
        selection = parse_selection([rule.text for rule in rules], excludes=exclude or [])
    run = Run(ctx, output)
    outcome = None
    with run.session(write=fix, gate=True) as session:
        resolution = resolve(run.out, session.backend, or_every_repository(selection))
        if not resolution.names:
            raise NotFound(
                "no repository matches the selection: there is nothing to audit",
                hint="Check the patterns, and that the user may see the repositories",
            )
        report = audit_immutability(
            load_repositories(session.backend, resolution, concurrency=concurrency), rules
        )
        if fix and report.drift:
            outcome = _fix(run.out, session.backend, report, dry_run, yes, concurrency)
    fixed = (
        {result.repository for result in outcome.results if result.error is None}
        if outcome is not None and not dry_run
        else set()
    )
    if junit:
        write_junit(junit, report, fixed)
    _report_audit(run.out, report, fixed, outcome, dry_run=dry_run)
    if outcome is not None and (outcome.interrupted or any(r.error for r in outcome.results)):
        raise typer.Exit(bulk_exit_code(outcome))
    raise typer.Exit(int(ExitCode.FAILED) if report.unfixed(fixed) else 0)


def _fix(
    out: Output,
    backend: Backend,
    report: AuditReport,
    dry_run: bool,
    yes: bool,
    concurrency: int,
) -> BulkOutcome[ImmutabilityResult]:
    """`audit --fix`: turn immutability on for the drift, with progress."""
    from dtrctl.repos.bulk import fix_drift

    if not out.is_json:
        print_drift(out, report)
    count = len(report.drift)
    if not dry_run and count > 1 and not yes:
        confirm_on_terminal(f"turn tag immutability on for {count} repositories")
    with BulkProgress(out, count, "would change" if dry_run else "changed") as progress:
        return fix_drift(
            backend,
            [item.repository for item in report.drift],
            dry_run=dry_run,
            concurrency=concurrency,
            on_result=lambda result: progress.advance(result.changed, result.error is not None),
        )


def _report_audit(
    out: Output,
    report: AuditReport,
    fixed: set[str],
    outcome: BulkOutcome[ImmutabilityResult] | None,
    *,
    dry_run: bool,
) -> None:
    if out.is_json:
        out.print_json(
            {
                "ok": not report.unfixed(fixed),
                "checked": len(report.checked),
                "drift": [
                    {
                        "repository": item.repository.full_name,
                        "immutable": item.repository.immutable,
                        "rule": item.rule,
                        "fixed": item.repository.full_name in fixed,
                    }
                    for item in report.drift
                ],
                "fix": bulk_json(outcome, dry_run=dry_run) if outcome is not None else None,
            }
        )
    elif outcome is not None:
        report_immutability(out, outcome, on=True, dry_run=dry_run)
    elif report.drift:
        print_drift(out, report)
    else:
        out.line(
            f"OK: {len(report.checked)} repositories checked; every one that must be immutable is."
        )
