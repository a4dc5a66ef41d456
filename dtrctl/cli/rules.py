"""`dtrctl rules lint`: what is wrong with MSR 4 / Harbor projects' immutability rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.explain import HarborVersionOption, RulesFileOption, offline_glob
from dtrctl.cli.options import JunitOption, OutputOption
from dtrctl.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from dtrctl.backends.harbor.doublestar import GlobVersion
    from dtrctl.cli.output import Output
    from dtrctl.rules.lint import LintReport

app = typer.Typer(
    name="rules",
    help=(
        "MSR 4 / Harbor immutability rules: find what is wrong with them.\n\n"
        "Examples:\n\n\b\n"
        "  dtrctl rules lint engineering -o json\n"
        "  dtrctl rules lint team --rules rules.json --harbor-version 2.10.2"
    ),
    short_help="Harbor's immutability rules: lint them.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.command("lint")
@dtrctl_command
def lint(
    ctx: typer.Context,
    projects: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PROJECT",
            help="Harbor projects to check (default: every project you can see; with --rules, "
            "the name to report the file's rules under).",
            show_default=False,
        ),
    ] = None,
    rules_file: RulesFileOption = None,
    harbor_version: HarborVersionOption = None,
    junit: JunitOption = None,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Find what is wrong with Harbor projects' immutability rules (exit 1 on an error).

    Codes: malformed (unknown kind or decoration, a pattern Harbor cannot parse: an error, as
    Harbor stops evaluating there), never-matches (nsMatches/nsExcludes: an error), disabled,
    duplicate (the same selectors as an earlier rule), shadowed (an earlier enabled rule
    provably selects every tag it selects), version-dependent (doublestar v1.1.1 and v1.3.4 read
    it differently: an error where the server's version breaks it or is unknown),
    over-ui-limit (more than 15 rules: Harbor's UI cannot show them), and online matches-nothing
    (no repository of the project is selected). The rest are warnings.

    DTR has no rules: there, use `dtrctl repo audit` (this exits 2).

    Exit codes: 0 no error (warnings allowed), 1 an error finding, 2 usage or a bad rules file,
    3 authentication or permission, 4 a missing project, 5 registry unreachable or garbled.

    Examples:

    \b
      dtrctl rules lint engineering library -o json
      dtrctl rules lint --junit rules.xml
      dtrctl rules lint team --rules rules.json --harbor-version 2.10.2
    """
    run = Run(ctx, output)
    glob = offline_glob(rules_file, harbor_version)
    report = _report(run, projects or [], rules_file, glob)
    if junit:
        _write_junit(junit, report)
    run.out.emit(
        {
            "ok": report.ok,
            "projects": list(report.projects),
            "findings": [finding.to_json() for finding in report.findings],
        },
        lambda out: _print(out, report),
    )
    raise typer.Exit(int(ExitCode.OK) if report.ok else int(ExitCode.FAILED))


def _report(
    run: Run, projects: list[str], rules_file: str | None, glob: GlobVersion | None
) -> LintReport:
    from dtrctl.rules.lint import lint_offline, lint_online

    if rules_file is not None:
        from dtrctl.rules.rules_file import read_rules_file

        if len(projects) > 1:
            raise UsageError(
                "--rules holds the rules of one project: name at most one PROJECT",
                hint="Lint each project's file on its own",
            )
        rules = read_rules_file(rules_file)
        return lint_offline(rules, glob, projects[0] if projects else rules_file)
    with run.session(write=False, gate=True) as session:
        return lint_online(session.backend, projects)


def _write_junit(path: str, report: LintReport) -> None:
    from dtrctl.rules.lint import junit_xml

    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(junit_xml(report))
    except OSError as error:
        raise UsageError(f"cannot write the JUnit report {path}: {error}") from None


_SEVERITY_STYLES = {"error": "bold red", "warning": "yellow"}


def _print(out: Output, report: LintReport) -> None:
    for finding in report.findings:
        where = f"rule {finding.rule_id}" if finding.rule_id is not None else "project"
        out.line(
            (finding.severity, _SEVERITY_STYLES[finding.severity]),
            f" {finding.project} {where} [{finding.code}]: {finding.message}",
        )
    errors = sum(finding.severity == "error" for finding in report.findings)
    warnings = len(report.findings) - errors
    out.info(
        f"{len(report.projects)} project(s) checked: {errors} error(s), {warnings} warning(s)."
    )
