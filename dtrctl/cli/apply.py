"""`dtrctl apply -f POLICY.toml`: make the registry's repositories match a declarative file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from dtrctl.cli.bulk_report import BulkProgress, bulk_exit_code
from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.options import OutputOption
from dtrctl.cli.prompts import confirm
from dtrctl.cli.selecting import read_text, source_label

if TYPE_CHECKING:
    from dtrctl.cli.output import Output
    from dtrctl.records.changes import SettingsResult
    from dtrctl.repos.bulk import BulkOutcome
    from dtrctl.repos.policy import FieldChange, Plan


@dtrctl_command
def apply(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Option(
            "--file", "-f", help="The policy file (TOML; '-' for stdin).", metavar="POLICY.toml"
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan only; change nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Apply without asking (default: ask on a terminal; off a terminal a plan with "
            "changes is refused without --yes, like terraform's -auto-approve).",
        ),
    ] = False,
    report_unmanaged: Annotated[
        bool,
        typer.Option(
            "--report-unmanaged",
            help="Also list the repositories no entry of the file covers (lists every "
            "repository the user can see).",
        ),
    ] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Repositories worked on at once.")
    ] = 8,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Create and update repositories to match a policy file; the plan is printed first.

    The file lists the repositories that must exist and their settings (immutable,
    visibility, description, long_description, scan_on_push, tag_limit); a setting it does not
    give is left as it is. `match` entries give settings to the existing repositories a pattern
    matches (the first matching one; an exact name wins). Applying twice changes nothing the
    second time. Updates read each repository first and send all its settings back.

    Policy file:

    \b
      [defaults]
      immutable = true
      [[repository]]
      name = "engineering/api"
      description = "API service images"
      [[repository]]
      match = "*/release-*"
      tag_limit = 0
      [[repository]]
      name = "engineering/scratch"
      immutable = false
      tag_limit = 20

    Examples:

      dtrctl apply -f repositories.toml --dry-run

      dtrctl apply -f repositories.toml --yes -o json
    """
    from dtrctl.files import POLICY_FILE_LIMIT
    from dtrctl.repos.bulk import apply_settings_changes, current_repositories
    from dtrctl.repos.policy import parse_policy, plan_policy
    from dtrctl.repos.policy_patterns import cover

    text = read_text(file, POLICY_FILE_LIMIT, "the policy file")
    policy = parse_policy(text, source_label(file))
    run = Run(ctx, output)
    with run.session(write=True) as session:
        coverage = cover(session.backend, policy, report_unmanaged=report_unmanaged)
        for warning in coverage.warnings:
            run.out.warn(warning)
        names = [entry.name for entry in policy.entries]
        current = current_repositories(session.backend, names, concurrency=concurrency)
        _refuse_unsupported(session.backend.kind, text, source_label(file))
        plan = plan_policy(coverage.policy, {**coverage.listed, **current})
        unmanaged = list(coverage.unmanaged) if report_unmanaged else None
        if not run.out.is_json:
            _print_plan(run.out, plan)
            _print_unmanaged(run.out, unmanaged)
        if dry_run or not plan.has_changes:
            if run.out.is_json:
                run.out.print_json(_document(plan, None, dry_run=dry_run, unmanaged=unmanaged))
            return
        _confirm(plan, yes=yes)
        changes = plan.to_apply()
        with BulkProgress(run.out, len(changes), "changed") as progress:
            outcome = apply_settings_changes(
                session.backend,
                changes,
                concurrency=concurrency,
                on_result=lambda result: progress.advance(result.changed, result.error is not None),
            )
    _report(run.out, plan, outcome, unmanaged)
    raise typer.Exit(bulk_exit_code(outcome))


def _refuse_unsupported(kind: str, text: str, source: str) -> None:
    """Keys the registry has no setting for are refused before any change (exit 2), so that a
    plan, and --dry-run, shows only what applying can do. The kind is known by now: the reads
    above decided it."""
    if kind == "harbor":
        from dtrctl.backends.harbor.writes import UNSUPPORTED_SETTINGS
        from dtrctl.repos.policy_keys import refuse_unsupported

        refuse_unsupported(text, source, UNSUPPORTED_SETTINGS, "Harbor (MSR 4)")


def _confirm(plan: Plan, *, yes: bool) -> None:
    """Any change needs --yes off a terminal (exit 2 before any request that changes)."""
    turning_off = [change for change in plan.changes if change.turns_immutability_off]
    if len(turning_off) > 1:
        confirm(
            f"turn tag immutability off for {len(turning_off)} repositories",
            yes=yes,
            consequence="Their existing tags can then be overwritten",
        )
    else:
        count = sum(change.action != "unchanged" for change in plan.changes)
        confirm(f"apply this plan ({count} to change)", yes=yes)


def _print_unmanaged(out: Output, unmanaged: list[str] | None) -> None:
    if unmanaged is None:
        return
    out.line(f"Unmanaged: {len(unmanaged)} repositories no entry of the file covers")
    for name in unmanaged:
        out.line(f"    {name}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _fields(changes: tuple[FieldChange, ...], *, created: bool) -> list[str]:
    if created:
        return [f"{change.field} = {_show(change.new)}" for change in changes]
    return [f"{change.field}: {_show(change.old)} → {_show(change.new)}" for change in changes]


def _print_plan(out: Output, plan: Plan) -> None:
    """Like `terraform plan`: what is created, what changes in what is updated."""
    for change in plan.changes:
        if change.action == "unchanged":
            continue
        created = change.action == "create"
        sign = (("+", "green"), " create ") if created else (("~", "yellow"), " update ")
        out.line(*sign, str(change.name))
        for line in _fields(change.fields, created=created):
            out.line(f"    {line}")
    creates = len(plan.of("create"))
    updated = len(plan.of("update"))
    unchanged = len(plan.of("unchanged"))
    out.line(f"Plan: {creates} to create, {updated} to update, {unchanged} unchanged.")


def _plan_json(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "repository": str(change.name),
            "action": change.action,
            "changes": [
                {"field": field.field, "old": field.old, "new": field.new}
                for field in change.fields
            ],
        }
        for change in plan.changes
    ]


def _document(
    plan: Plan,
    outcome: BulkOutcome[SettingsResult] | None,
    *,
    dry_run: bool,
    unmanaged: list[str] | None = None,
) -> dict[str, Any]:
    results = outcome.results if outcome is not None else []
    return {
        "plan": _plan_json(plan),
        "dry_run": dry_run,
        # null unless --report-unmanaged asked for it.
        "unmanaged": unmanaged,
        "results": [
            {
                "repository": result.repository,
                "action": result.action,
                "changed": result.changed,
                "error": result.error.to_dict() if result.error else None,
            }
            for result in results
        ],
        "interrupted": outcome.interrupted if outcome is not None else False,
        "summary": {
            "created": sum(result.action == "created" for result in results),
            "updated": sum(result.action == "updated" for result in results),
            "unchanged": len(plan.of("unchanged"))
            + sum(result.action == "unchanged" for result in results),
            "failed": sum(result.action == "failed" for result in results),
            "not_started": outcome.not_started if outcome is not None else 0,
        },
    }


def _report(
    out: Output,
    plan: Plan,
    outcome: BulkOutcome[SettingsResult],
    unmanaged: list[str] | None,
) -> None:
    document = _document(plan, outcome, dry_run=False, unmanaged=unmanaged)
    if out.is_json:
        out.print_json(document)
        return
    for result in outcome.results:
        if result.error is not None:
            out.line(f"{result.repository}: ", ("failed", "red"), f" ({result.error.code})")
        else:
            out.line(f"{result.repository}: {result.action}")
    for result in outcome.results:
        if result.error is not None:
            out.info(f"Error: {result.repository}: {result.error.message}")
    summary = document["summary"]
    counts = (
        f"{summary['created']} created, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged, {summary['failed']} failed"
    )
    if outcome.interrupted:
        out.info(f"Interrupted: {counts}; {outcome.not_started} not started.")
    else:
        out.info(f"Applied: {counts}.")
