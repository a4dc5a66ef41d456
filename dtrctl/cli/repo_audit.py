"""`dtrctl repo audit`: drift against --require-immutable, the registry's own findings (Harbor:
rules it cannot evaluate), and --fix."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from dtrctl.cli.bulk_report import BulkProgress, bulk_exit_code, bulk_json, report_immutability
from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.options import (
    ConcurrencyOption,
    ExcludeOption,
    FromFileOption,
    JunitOption,
    NamespaceOption,
    OutputOption,
    selection_argument,
)
from dtrctl.cli.prompts import confirm_on_terminal
from dtrctl.cli.repo_render import print_drift, print_findings, write_junit
from dtrctl.cli.selecting import or_every_repository, read_selection, resolve
from dtrctl.errors import ExitCode, NotFound, UsageError

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.cli.output import Output
    from dtrctl.records.changes import ImmutabilityResult
    from dtrctl.repos.bulk import BulkOutcome
    from dtrctl.repos.policy import AuditReport
    from dtrctl.repos.selection import Pattern, Selection


@dtrctl_command
def audit(
    ctx: typer.Context,
    repositories: Annotated[
        list[str] | None,
        selection_argument(
            "What to check: namespaces, NAMESPACE/NAME or quoted patterns (default: what "
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
    junit: JunitOption = None,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Check that repositories that must be immutable are (exit 1 on drift, listing them).

    Drift is a checked repository that matches a --require-immutable pattern (every checked one
    when none is given) and has immutability off. --fix turns it on, with the safety of
    set-immutable (read-modify-write, --dry-run, Ctrl-C stops cleanly); on a terminal it asks
    first when more than one repository would change. On Harbor (MSR 4) a rule Harbor cannot
    evaluate is an error too (exit 1).

    Examples:

    \b
      dtrctl repo audit --require-immutable 'engineering/release-*' --junit audit.xml
      dtrctl repo audit 'engineering/*' --exclude 'engineering/scratch' -o json
      dtrctl repo audit --namespace ci --fix --dry-run
    """
    from dtrctl.repos.selection import parse_pattern, parse_selection

    if dry_run and not fix:
        raise UsageError("--dry-run goes with --fix", hint="An audit alone changes nothing")
    rules = [parse_pattern(text) for text in require_immutable or []]
    run = Run(ctx, output)  # first: it says whether names may nest (Harbor)
    nested = run.nested_names
    # A bare namespace is `NS/*` for a check; --fix changes repositories: there it is refused.
    selection = read_selection(
        repositories, namespace, from_file, exclude, nested=nested, bare_is_namespace=not fix
    )
    if selection.is_empty and rules:
        texts = [rule.text for rule in rules]
        selection = parse_selection(texts, excludes=exclude or [], nested=nested)
    outcome = None
    with run.session(write=fix, gate=True) as session:
        report = _audit_report(run.out, session.backend, selection, rules, concurrency)
        harbor = session.backend.kind == "harbor"  # known once a call has been made (auto)
        if fix and report.drift:
            outcome = _fix(run.out, session.backend, report, dry_run, yes, concurrency)
    fixed = (
        {result.repository for result in outcome.results if result.error is None}
        if outcome is not None and not dry_run
        else set()
    )
    if junit:
        write_junit(junit, report, fixed)
    _report_audit(run.out, report, fixed, outcome, dry_run=dry_run, findings=harbor)
    if outcome is not None and (outcome.interrupted or any(r.error for r in outcome.results)):
        raise typer.Exit(bulk_exit_code(outcome))
    failed = report.unfixed(fixed) or report.has_errors
    raise typer.Exit(int(ExitCode.FAILED) if failed else 0)


def _audit_report(
    out: Output,
    backend: Backend,
    selection: Selection,
    rules: list[Pattern],
    concurrency: int,
) -> AuditReport:
    """The drift of the selected repositories, with the backend's findings on their namespaces."""
    from dtrctl.repos.bulk import load_repositories
    from dtrctl.repos.policy import audit_immutability

    resolution = resolve(out, backend, or_every_repository(selection))
    if not resolution.names:
        raise NotFound(
            "no repository matches the selection: there is nothing to audit",
            hint="Check the patterns, and that the user may see the repositories",
        )
    report = audit_immutability(
        load_repositories(backend, resolution, concurrency=concurrency), rules
    )
    findings = backend.audit_findings(r.namespace for r in report.checked)
    return replace(report, findings=tuple(findings))


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
    findings: bool,
) -> None:
    """`findings`: the JSON document has the list (Harbor's; DTR has none to report)."""
    if out.is_json:
        document: dict[str, object] = {
            "ok": not report.unfixed(fixed) and not report.has_errors,
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
        if findings:
            document["findings"] = [finding.to_json() for finding in report.findings]
        out.print_json(document)
        return
    print_findings(out, report)
    if outcome is not None:
        report_immutability(out, outcome, on=True, dry_run=dry_run)
    elif report.drift:
        print_drift(out, report)
    elif not report.has_errors:
        out.line(
            f"OK: {len(report.checked)} repositories checked; every one that must be immutable is."
        )
