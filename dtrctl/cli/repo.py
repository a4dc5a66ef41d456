"""`dtrctl repo`: create repositories, toggle immutability (one or a fleet), list and audit."""

import sys
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dtrctl.cli.common import ListOutputOption, OutputOption, Run, dtrctl_command
from dtrctl.cli.completers import complete_namespace, complete_repository
from dtrctl.errors import ExitCode, NotFound, UsageError

if TYPE_CHECKING:
    from rich.progress import Progress

    from dtrctl.cli.output import Output, Segment
    from dtrctl.models import Repository
    from dtrctl.repos.bulk import BulkOutcome, RepositoryLister
    from dtrctl.repos.policy import AuditReport
    from dtrctl.repos.selection import Resolution, Selection
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
# Below this many repositories a run is quick: no progress lines off a terminal.
PLAIN_PROGRESS_MINIMUM = 50


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
    verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
    run.out.emit(
        {
            "repository": outcome.repository.to_json(),
            "created": outcome.created,
            "changed": outcome.changed,
        },
        lambda out: _print_repository(out, outcome.repository, heading=verb),
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

    selection = _read_selection(repositories, namespace, from_file, exclude)
    if selection.is_empty:
        raise UsageError(
            "name the repositories to change",
            hint="Give NAMESPACE/NAME, a quoted pattern such as 'engineering/*', "
            "--namespace NS or --from-file FILE",
        )
    run = Run(ctx, output)
    with run.session(write=True) as session:
        resolution = _resolve(run.out, session.backend, selection)
        names = resolution.names
        if not names:
            raise NotFound(
                "no repository matches the selection: nothing was changed",
                hint="Check the patterns, and that the user may see the repositories",
            )
        if not on and not dry_run and len(names) > 1:
            confirm(
                f"turn tag immutability off for {len(names)} repositories",
                yes=yes,
                consequence="Their existing tags can then be overwritten",
            )
        verb = "would change" if dry_run else "changed"
        with BulkProgress(run.out, len(names), verb) as progress:
            outcome = set_immutability_bulk(
                session.backend,
                names,
                on,
                listed=resolution.listed,
                dry_run=dry_run,
                concurrency=concurrency,
                on_result=lambda result: progress.advance(result.changed, result.error is not None),
            )
    _report_immutability(run.out, outcome, on=on, dry_run=dry_run)
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
    run.out.emit({"repository": found.to_json()}, lambda out: _print_repository(out, found))


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

    selection = _read_selection(repositories, namespace, from_file, exclude, bare_is_namespace=True)
    run = Run(ctx, output)
    with run.session(write=False) as session:
        resolution = _resolve(run.out, session.backend, _or_every_repository(selection))
        found = [
            repository
            for repository in load_repositories(session.backend, resolution)
            if mutable is None or repository.immutable != mutable
        ]
    if run.out.format == "csv":
        _print_csv(found)
        return
    run.out.emit(
        {"repositories": [repository.to_json() for repository in found]},
        lambda out: _print_table(out, found),
    )
    if not run.out.is_json:
        mutable_count = sum(not repository.immutable for repository in found)
        run.out.info(f"{len(found)} repositories, {mutable_count} mutable")


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
    from dtrctl.repos.bulk import fix_drift, load_repositories
    from dtrctl.repos.policy import audit_immutability
    from dtrctl.repos.selection import parse_pattern, parse_selection

    if dry_run and not fix:
        raise UsageError("--dry-run goes with --fix", hint="An audit alone changes nothing")
    rules = [parse_pattern(text) for text in require_immutable or []]
    selection = _read_selection(repositories, namespace, from_file, exclude)
    if selection.is_empty and rules:
        selection = parse_selection([rule.text for rule in rules], excludes=exclude or [])
    run = Run(ctx, output)
    outcome = None
    with run.session(write=fix) as session:
        resolution = _resolve(run.out, session.backend, _or_every_repository(selection))
        if not resolution.names:
            raise NotFound(
                "no repository matches the selection: there is nothing to audit",
                hint="Check the patterns, and that the user may see the repositories",
            )
        report = audit_immutability(
            load_repositories(session.backend, resolution, concurrency=concurrency), rules
        )
        if fix and report.drift:
            if not run.out.is_json:
                _print_drift(run.out, report)
            count = len(report.drift)
            if not dry_run and count > 1 and not yes and stdin_is_terminal():
                confirm(f"turn tag immutability on for {count} repositories", yes=False)
            with BulkProgress(run.out, count, "would change" if dry_run else "changed") as progress:
                outcome = fix_drift(
                    session.backend,
                    [item.repository for item in report.drift],
                    dry_run=dry_run,
                    concurrency=concurrency,
                    on_result=lambda result: progress.advance(
                        result.changed, result.error is not None
                    ),
                )
    fixed = (
        {result.repository for result in outcome.results if result.error is None}
        if outcome is not None and not dry_run
        else set()
    )
    if junit:
        _write_junit(junit, report, fixed)
    document: dict[str, object] = {
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
        "fix": _bulk_json(outcome, dry_run=dry_run) if outcome is not None else None,
    }
    if run.out.is_json:
        run.out.print_json(document)
    elif outcome is not None:
        _report_immutability(run.out, outcome, on=True, dry_run=dry_run)
    elif report.drift:
        _print_drift(run.out, report)
    else:
        run.out.line(
            f"OK: {len(report.checked)} repositories checked; every one that must be immutable is."
        )
    if outcome is not None and (outcome.interrupted or any(r.error for r in outcome.results)):
        raise typer.Exit(bulk_exit_code(outcome))
    raise typer.Exit(int(ExitCode.FAILED) if report.unfixed(fixed) else 0)


# Selection, confirmation and progress, shared with `dtrctl apply`.


def _read_selection(
    arguments: Sequence[str] | None,
    namespaces: Sequence[str] | None,
    from_file: str | None,
    excludes: Sequence[str] | None,
    *,
    bare_is_namespace: bool = False,
) -> "Selection":
    from dtrctl.repos.selection import parse_name_list, parse_selection

    file_names = []
    if from_file is not None:
        file_names = parse_name_list(read_text(from_file), source_label(from_file))
    return parse_selection(
        arguments or [],
        namespaces=namespaces or [],
        file_names=file_names,
        excludes=excludes or [],
        bare_is_namespace=bare_is_namespace,
    )


def source_label(path: str) -> str:
    return "<stdin>" if path == "-" else path


def read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None


def _or_every_repository(selection: "Selection") -> "Selection":
    """No selection means every visible repository (exclusions still apply)."""
    if not selection.is_empty:
        return selection
    from dtrctl.repos.selection import EVERY_REPOSITORY, parse_pattern

    return selection.with_patterns(parse_pattern(EVERY_REPOSITORY))


def _resolve(out: "Output", api: "RepositoryLister", selection: "Selection") -> "Resolution":
    from dtrctl.repos.bulk import resolve_selection

    resolution = resolve_selection(api, selection)
    for warning in resolution.warnings():
        out.warn(warning)
    return resolution


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


class BulkProgress:
    """A Rich bar on stderr when it is a terminal; otherwise, for long runs only, a plain line
    every tenth of the way, so logs show progress without animation."""

    def __init__(self, out: "Output", total: int, verb: str) -> None:
        self.out = out
        self.total = total
        self.verb = verb
        self.done = 0
        self.changed = 0
        self.failed = 0
        self._step = max(1, total // 10)
        self._plain = total >= PLAIN_PROGRESS_MINIMUM
        self._bar: Progress | None = None

    def __enter__(self) -> "BulkProgress":
        if self.out.stderr_is_terminal and self.total > 1:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=self.out.err_console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self._description(), total=self.total)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _description(self) -> str:
        return f"{self.changed} {self.verb}, {self.failed} failed"

    def advance(self, changed: bool, failed: bool) -> None:
        self.done += 1
        self.changed += changed
        self.failed += failed
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=self._description())
        elif self._plain and self.done % self._step == 0 and self.done < self.total:
            self.out.info(f"progress: {self.done}/{self.total} repositories, {self._description()}")


def _bulk_summary(outcome: "BulkOutcome[ImmutabilityResult]") -> dict[str, int]:
    results = outcome.results
    return {
        "selected": outcome.total,
        "changed": sum(result.changed for result in results),
        "unchanged": sum(not result.changed and result.error is None for result in results),
        "failed": sum(result.error is not None for result in results),
        "not_started": outcome.not_started,
    }


def _bulk_json(outcome: "BulkOutcome[ImmutabilityResult]", *, dry_run: bool) -> dict[str, object]:
    return {
        "results": [_result_json(result) for result in outcome.results],
        "dry_run": dry_run,
        "interrupted": outcome.interrupted,
        "summary": _bulk_summary(outcome),
    }


def _report_immutability(
    out: "Output", outcome: "BulkOutcome[ImmutabilityResult]", *, on: bool, dry_run: bool
) -> None:
    """Results on stdout; the summary (with every failure and its reason) on stderr."""
    if out.is_json:
        out.print_json(_bulk_json(outcome, dry_run=dry_run))
        return
    _print_results(out, outcome.results, dry_run=dry_run)
    for result in outcome.results:
        if result.error is not None:
            out.info(f"Error: {result.error.message}")
    summary = _bulk_summary(outcome)
    state = "immutable" if on else "mutable"
    changed = f"{summary['changed']} {'would change' if dry_run else 'changed'}"
    counts = f"{changed}, {summary['unchanged']} already {state}, {summary['failed']} failed"
    if outcome.interrupted:
        out.info(
            f"Interrupted: {len(outcome.results)} of {outcome.total} repositories done "
            f"({counts}); {outcome.not_started} not started."
        )
        if dry_run:
            out.info("Nothing was changed (dry run).")
        else:
            changed_names = [result.repository for result in outcome.results if result.changed]
            out.info(f"Changed before the interrupt: {', '.join(changed_names) or 'none'}")
    elif dry_run:
        out.info(f"Dry run: {counts}; nothing was changed.")
    else:
        out.info(f"{counts} (of {outcome.total}).")


def bulk_exit_code(outcome: "BulkOutcome[Any]") -> int:
    """130 after Ctrl-C; 1 for a partial failure, or the common code when all failed alike."""
    from dtrctl.repos.bulk import common_failure

    if outcome.interrupted:
        return int(ExitCode.INTERRUPTED)
    failures = [result.error for result in outcome.results if result.error is not None]
    if not failures:
        return int(ExitCode.OK)
    common = common_failure(failures) if len(failures) == len(outcome.results) else None
    return int(common.exit_code if common else ExitCode.FAILED)


def _print_drift(out: "Output", report: "AuditReport") -> None:
    out.line(
        f"Drift: {len(report.drift)} of {len(report.checked)} checked repositories must be "
        "immutable but are not:"
    )
    for item in report.drift:
        out.line(f"  {item.repository.full_name} (required by {item.rule})")


def _write_junit(path: str, report: "AuditReport", fixed: set[str]) -> None:
    from dtrctl.repos.policy import audit_junit_xml

    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(audit_junit_xml(report, fixed))
    except OSError as error:
        raise UsageError(f"cannot write the JUnit report {path}: {error}") from None


def _result_json(result: "ImmutabilityResult") -> dict[str, object]:
    return {
        "repository": result.repository,
        "immutable": result.immutable,
        "changed": result.changed,
        "tag_limit_cleared": result.tag_limit_cleared,
        "error": result.error.to_dict() if result.error else None,
    }


def _print_results(
    out: "Output", results: "Sequence[ImmutabilityResult]", *, dry_run: bool = False
) -> None:
    for result in results:
        if result.error is not None:
            out.line(f"{result.repository}: ", ("failed", "red"), f" ({result.error.code})")
            continue
        state = "immutable" if result.immutable else "mutable"
        if result.changed:
            what = ("would become " if dry_run else "now ") + state
        else:
            what = "already " + state
        cleared = "would be cleared" if dry_run else "cleared"
        extra = (
            f" (tag limit {cleared}: DTR treats it as exclusive)"
            if result.tag_limit_cleared
            else ""
        )
        out.line(f"{result.repository}: {what}{extra}")


def _print_repository(out: "Output", repository: "Repository", heading: str = "") -> None:
    immutable: list[Segment] = (
        [("on", "bold green"), " (existing tags cannot be overwritten)"]
        if repository.immutable
        else [("off", "bold yellow"), " (tags can be overwritten)"]
    )
    if heading:
        out.line(f"{repository.full_name}: {heading}")
    rows: list[tuple[str, list[Segment]]] = [
        ("Repository", [repository.full_name]),
        ("Immutable tags", immutable),
        ("Visibility", [repository.visibility]),
        ("Tag limit", [str(repository.tag_limit or "none")]),
        ("Scan on push", ["yes" if repository.scan_on_push else "no"]),
        ("Description", [repository.short_description or "-"]),
        ("Namespace type", [repository.namespace_type]),
        ("Pulls / pushes", [f"{repository.pulls} / {repository.pushes}"]),
    ]
    if repository.long_description:
        rows.append(("Long description", [repository.long_description]))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.line(f"{label + ':':<{width + 1}} ", *value)


def _print_table(out: "Output", repositories: "list[Repository]") -> None:
    out.table(
        ("REPOSITORY", "IMMUTABLE", "VISIBILITY", "TAG LIMIT"),
        [
            (
                repository.full_name,
                "yes" if repository.immutable else ("no", "yellow"),
                repository.visibility,
                str(repository.tag_limit or "-"),
            )
            for repository in repositories
        ],
    )


def _print_csv(repositories: "list[Repository]") -> None:
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
