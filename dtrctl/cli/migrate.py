"""`dtrctl migrate immutability`: make on MSR 4 / Harbor immutable what is immutable on DTR."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dtrctl.cli.common import CliState, Run, dtrctl_command, warn_if_window_open
from dtrctl.cli.options import OutputOption
from dtrctl.errors import ExitCode, UsageError
from dtrctl.settings import ConnectionSettings

if TYPE_CHECKING:
    from dtrctl.backends.harbor.backend import HarborBackend
    from dtrctl.cli.output import Output
    from dtrctl.repos.bulk import BulkOutcome
    from dtrctl.repos.migrate import MigrationItem, NameMap
    from dtrctl.repos.migrate_run import MigrationResult, Mismatch
    from dtrctl.session import Session

app = typer.Typer(
    help=(
        "Carry settings from one registry to another (DTR to MSR 4 / Harbor).\n\n"
        "Examples:\n\n\b\n"
        "  dtrctl migrate immutability --from dtr --to msr4 --dry-run\n"
        "  dtrctl migrate immutability --from dtr --to msr4 --yes --verify"
    ),
    short_help="Carry immutability from DTR over to MSR 4 / Harbor.",
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
)
SHARED_SECRET_VARIABLES = ("DTRCTL_PASSWORD", "DTRCTL_TOKEN")
_SIGNS = {
    "make-immutable": ("+", "green"),
    "already-immutable": ("=", "dim"),
    "missing-project": ("!", "yellow"),
    "blocked": ("!", "red"),
    "skip": ("-", "dim"),
}


def _settings_of(ctx: typer.Context, profile: str, side: str) -> ConnectionSettings:
    """A profile's settings alone: URL, user and kind never leak from one side to the other."""
    state = ctx.find_root().obj
    given = state.settings if isinstance(state, CliState) else ConnectionSettings()
    if given.url or any(os.environ.get(name) for name in SHARED_SECRET_VARIABLES):
        raise UsageError(
            "migrate takes the URL and credentials of each side from its profile",
            hint="Unset --url/DTRCTL_URL and DTRCTL_PASSWORD/DTRCTL_TOKEN; save each side with "
            "`dtrctl login URL --profile NAME`",
        )
    settings = replace(given, url=None, username=None, backend=None, profile=profile)
    if not settings.profile:
        raise UsageError(f"name the {side} profile")
    return settings


def _open(run: Run, settings: ConnectionSettings) -> Session:
    from dtrctl.session import load_profile, open_session

    merged, profile = load_profile(settings)
    if profile is None or not merged.url:
        raise UsageError(
            f"profile {settings.profile!r} has no URL",
            hint="Save it with `dtrctl login URL --profile NAME`",
        )
    session = open_session(merged, need_credentials=True, profile=profile, profile_loaded=True)
    if session.settings.insecure:
        run.out.warn(f"TLS certificate verification is off for {merged.url} (--insecure)")
    warn_if_window_open(run.out, session.url)
    return session


def _harbor_backend(session: Session, profile: str) -> HarborBackend:
    """The destination's backend, which must be Harbor (a profile without a kind is asked)."""
    from dtrctl.backends.harbor.backend import HarborBackend

    backend = session.backend
    backend.check_credentials()  # under `auto`, this call decides the kind
    backend = getattr(backend, "current", backend)
    if not isinstance(backend, HarborBackend):
        raise UsageError(
            f"profile {profile!r} is not an MSR 4 / Harbor registry ({backend.kind})",
            hint='Name the Harbor profile with --to (`backend = "harbor"` in its profile)',
        )
    return backend


def _read_maps(maps: list[str] | None, map_file: str | None) -> list[NameMap]:
    from dtrctl.cli.selecting import read_text, source_label
    from dtrctl.repos.migrate import parse_map, parse_map_file

    parsed = [parse_map(text) for text in maps or []]
    if map_file:
        parsed += parse_map_file(read_text(map_file), source_label(map_file))
    return parsed


@app.command("immutability")
@dtrctl_command
def immutability(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Option("--from", help="Profile of the DTR to read.", metavar="PROFILE")
    ],
    destination: Annotated[
        str, typer.Option("--to", help="Profile of the MSR 4 / Harbor to write.", metavar="PROFILE")
    ],
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Rename: SRC_GLOB=DEST_TEMPLATE, e.g. 'engineering/*=eng/{name}' "
            "('=-' skips; repeatable; first match wins).",
            metavar="MAP",
        ),
    ] = None,
    map_file: Annotated[
        str | None,
        typer.Option("--map-file", help="Read maps from FILE, one a line.", metavar="FILE"),
    ] = None,
    create_projects: Annotated[
        bool, typer.Option("--create-projects", help="Create missing Harbor projects.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Afterwards, compare both sides (exit 1 on a gap).")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests at once.")] = 8,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Make every repository immutable on DTR immutable on MSR 4 / Harbor too.

    The plan comes first (like `apply`); --yes or a confirmation on a terminal applies it.
    Names map `ns/repo` to project `ns`, repository `repo` unless a --map says otherwise:
    in SRC_GLOB `*` matches text without '/'; DEST_TEMPLATE takes {ns}, {name} and {1}, {2}...
    (what each `*` matched). Missing projects are reported, created only with --create-projects.
    Each repository gets one rule for exactly its path and every tag; running again changes
    nothing. Exit 1 if a repository is blocked (a broken rule) or --verify finds a gap, 4 if a
    project is missing.

    Examples:

    \b
      dtrctl migrate immutability --from dtr --to msr4 --dry-run
      dtrctl migrate immutability --from dtr --to msr4 --map 'eng-*/*=eng/{1}-{name}' --yes
      dtrctl migrate immutability --from dtr --to msr4 --create-projects --yes --verify -o json
    """
    from dtrctl.repos import migrate_run

    name_maps = _read_maps(maps, map_file)
    run = Run(ctx, output)
    from_settings = _settings_of(ctx, source, "--from")
    to_settings = _settings_of(ctx, destination, "--to")
    with _open(run, from_settings) as dtr, _open(run, to_settings) as msr:
        harbor = _harbor_backend(msr, destination)
        items = migrate_run.plan(
            dtr.backend, harbor, name_maps, create_projects=create_projects, concurrency=concurrency
        )
        document: dict[str, Any] = {
            "from": {"profile": source, "url": dtr.url, "backend": dtr.backend.kind},
            "to": {"profile": destination, "url": msr.url, "backend": "harbor"},
            "plan": [item.to_json() for item in items],
            "dry_run": dry_run,
        }
        if not run.out.is_json:
            _print_plan(run.out, items)
        outcome = None
        if not dry_run and any(item.action == "make-immutable" for item in items):
            _confirm(run.out, document, items, yes=yes)
            outcome = migrate_run.apply(harbor, items, concurrency=concurrency)
        mismatches = None
        if verify:
            mismatches = migrate_run.verify(dtr.backend, harbor, name_maps, concurrency=concurrency)
    _finish(run.out, document, items, outcome, mismatches)


def _confirm(
    out: Output, document: dict[str, Any], items: list[MigrationItem], *, yes: bool
) -> None:
    """Ask on a terminal; off one without --yes, stop after the plan (exit 2)."""
    from dtrctl.cli.prompts import stdin_is_terminal

    if yes:
        return
    count = sum(item.action == "make-immutable" for item in items)
    if not stdin_is_terminal():
        refusal = UsageError(
            f"refusing to make {count} repositories immutable on Harbor without confirmation",
            hint="Check the plan, then pass --yes",
        )
        if not out.is_json:
            raise refusal
        # One document: the plan, and why nothing was applied.
        out.print_json({**document, "results": None, "verify": None, "error": refusal.to_dict()})
        out.info(f"Error: {refusal.message}\n{refusal.hint}")
        raise typer.Exit(int(refusal.exit_code))
    if not typer.confirm(f"Make {count} repositories immutable on Harbor?", err=True):
        out.info("Nothing was changed.")
        raise typer.Exit(int(ExitCode.FAILED))


def _print_plan(out: Output, items: list[MigrationItem]) -> None:
    from dtrctl.repos.migrate import plan_summary

    for item in items:
        target = f" -> {item.destination}" if item.destination else ""
        detail = f" ({item.detail})" if item.detail else ""
        out.line(_SIGNS[item.action], f" {item.action} {item.source}{target}{detail}")
    counts = plan_summary(items)
    out.line(
        f"Plan: {counts['make-immutable']} to make immutable, {counts['already-immutable']} "
        f"already immutable, {counts['missing-project']} in missing projects, "
        f"{counts['blocked']} blocked, {counts['skip']} skipped."
    )


def _finish(
    out: Output,
    document: dict[str, Any],
    items: list[MigrationItem],
    outcome: BulkOutcome[MigrationResult] | None,
    verified: tuple[int, list[Mismatch]] | None,
) -> None:
    from dtrctl.cli.bulk_report import bulk_exit_code
    from dtrctl.repos.migrate import plan_summary

    results = outcome.results if outcome is not None else []
    summary = {**plan_summary(items), "changed": sum(r.changed for r in results)}
    summary["failed"] = sum(r.error is not None for r in results)
    document["results"] = [result.to_json() for result in results]
    document["summary"] = summary
    document["verify"] = (
        {"checked": verified[0], "ok": not verified[1], "gaps": [m.to_json() for m in verified[1]]}
        if verified is not None
        else None
    )
    if out.is_json:
        out.print_json(document)
    else:
        _print_results(out, results, verified)
    _say_what_was_left(out, items)
    codes = [bulk_exit_code(outcome)] if outcome is not None else []
    codes.append(1 if summary["blocked"] or (verified and verified[1]) else 0)
    codes.append(4 if summary["missing-project"] else 0)
    if int(ExitCode.INTERRUPTED) in codes:
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    raise typer.Exit(next((code for code in codes if code), 0))


def _say_what_was_left(out: Output, items: list[MigrationItem]) -> None:
    """Why the exit code is not 0 though nothing failed: what the plan could not migrate."""
    missing = [str(item.source) for item in items if item.action == "missing-project"]
    blocked = [str(item.source) for item in items if item.action == "blocked"]
    if missing:
        out.info(
            f"Error: {_count(missing)} not migrated, their Harbor project is missing "
            f"(exit 4): {', '.join(missing)}\nCreate the projects, or pass --create-projects"
        )
    if blocked:
        out.info(f"Error: {_count(blocked)} blocked (exit 1): {', '.join(blocked)}")


def _count(names: list[str]) -> str:
    return f"{len(names)} repositor{'y' if len(names) == 1 else 'ies'}"


def _print_results(
    out: Output, results: list[MigrationResult], verified: tuple[int, list[Mismatch]] | None
) -> None:
    for result in results:
        target = str(result.item.destination)
        if result.error is not None:
            out.line(f"{target}: ", ("failed", "red"), f" ({result.error.message})")
        else:
            out.line(f"{target}: {'now' if result.changed else 'already'} immutable")
        for warning in result.warnings:
            out.warn(warning)
    if results:
        changed = sum(result.changed for result in results)
        failed = sum(result.error is not None for result in results)
        out.info(f"{changed} made immutable, {failed} failed (of {len(results)}).")
    if verified is not None:
        checked, gaps = verified
        for gap in gaps:
            out.line(f"gap: {gap.source} -> {gap.destination}: ", (gap.reason, "red"))
        out.info(f"Verify: {checked} checked, {len(gaps)} immutable on DTR but not on Harbor.")
