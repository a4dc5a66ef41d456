"""`dtrctl explain`: why each tag is or is not immutable, online or from a file of rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.completers import complete_reference
from dtrctl.cli.options import OutputOption
from dtrctl.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from dtrctl.backends.harbor.doublestar import GlobVersion
    from dtrctl.cli.output import Output
    from dtrctl.reference import ImageReference
    from dtrctl.rules.explain import Explanation

RulesFileOption = Annotated[
    str | None,
    typer.Option(
        "--rules",
        metavar="FILE",
        help="Offline: Harbor's rules from FILE (the JSON array GET "
        "/projects/P/immutabletagrules lists; pages may follow one another; - for stdin). "
        "No server, no credentials.",
    ),
]
HarborVersionOption = Annotated[
    str | None,
    typer.Option(
        "--harbor-version",
        metavar="V",
        help="With --rules: the Harbor release to match as (e.g. 2.10.2; it decides the "
        "doublestar version). Default: unknown, so what the two versions read differently "
        "is unknown.",
    ),
]


def offline_glob(rules_file: str | None, harbor_version: str | None) -> GlobVersion | None:
    """The doublestar version `--harbor-version` names (None: not given)."""
    from dtrctl.backends.harbor.doublestar import glob_version_for

    if harbor_version is None:
        return None
    if rules_file is None:
        raise UsageError(
            "--harbor-version goes with --rules", hint="Online, the server says its version"
        )
    glob = glob_version_for(harbor_version)
    if glob is None:
        raise UsageError(
            f"--harbor-version {harbor_version!r} is not a Harbor release dtrctl knows",
            hint="Give the release as 2.10.2 or v2.13.0 (Harbor 2.0 and later)",
        )
    return glob


@dtrctl_command
def explain(
    ctx: typer.Context,
    references: Annotated[
        list[str],
        typer.Argument(
            metavar="REF",
            help="Tags: [HOST[:PORT]/]NAMESPACE-OR-PROJECT/REPOSITORY[:TAG] (no tag means latest).",
            show_default=False,
            autocompletion=complete_reference,
        ),
    ],
    rules_file: RulesFileOption = None,
    harbor_version: HarborVersionOption = None,
    protect: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PATTERN",
            help="As push-check: tags matching this glob (e.g. 'v*') count as immutable; "
            "repeatable.",
        ),
    ] = None,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Say whether each tag is immutable and what decides it.

    DTR: the repository's immutability flag. MSR 4 / Harbor: the project's rules, evaluated as
    Harbor evaluates them for that tag (in id order; the first rule selecting repository and tag
    decides; a rule Harbor cannot evaluate for the tag ends the evaluation, mutable), and for
    every rule why it did or did not apply. Then --protect, as push-check honours it.

    With --rules FILE it needs no server: each REF (PROJECT/REPOSITORY:TAG) is evaluated under
    the rules of FILE, as Harbor --harbor-version would, so a rule change can be tried before it
    is made.

    Exit codes: 0 every reference explained (whatever the answer), 2 usage or a bad rules file,
    3 authentication or permission, 4 not found, 5 registry unreachable or garbled answer.

    Examples:

    \b
      dtrctl explain engineering/api:1.4.2 -o json
      dtrctl explain library/team/app:v1 --rules rules.json --harbor-version 2.10.2
      dtrctl explain engineering/api:1.4.2 --protect 'v*'
    """
    from dtrctl.reference import parse_image_reference

    run = Run(ctx, output)
    glob = offline_glob(rules_file, harbor_version)
    nested = run.nested_names or rules_file is not None  # a rules file is Harbor's: paths nest
    parsed = [parse_image_reference(text, allow_digest=False, nested=nested) for text in references]
    # The profile's `protect` list adds to --protect, as for push-check.
    protected = tuple(
        dict.fromkeys([*(protect or ()), *(run.profile.protect if run.profile else ())])
    )
    results = _explained(run, parsed, rules_file, glob, protected)
    run.out.emit(
        {"results": [result.to_json() for result in results]},
        lambda out: _print(out, results),
    )
    if any(r.immutable is None and r.error is None for r in results):
        run.out.info(
            "Note: the Harbor version is unknown, and doublestar v1.1.1 and v1.3.4 read some "
            "rule differently"
            + (": pass --harbor-version" if rules_file else " (the server did not say it)")
        )
    raise typer.Exit(_exit_code(results))


def _explained(
    run: Run,
    parsed: list[ImageReference],
    rules_file: str | None,
    glob: GlobVersion | None,
    protect: tuple[str, ...],
) -> list[Explanation]:
    from dtrctl.rules.explain import explain_offline, explain_online

    if rules_file is not None:
        from dtrctl.rules.rules_file import read_rules_file

        return explain_offline(parsed, read_rules_file(rules_file), glob, protect)
    from dtrctl.push_check.verdicts import select_registry_url

    url = select_registry_url(parsed, run.settings.url)
    with run.session(write=False, url=url) as session:
        return explain_online(session.backend, parsed, protect)


def _exit_code(results: list[Explanation]) -> int:
    codes = {int(result.error.exit_code) for result in results if result.error is not None}
    if not codes:
        return int(ExitCode.OK)
    return codes.pop() if len(codes) == 1 else int(ExitCode.FAILED)


_VERDICTS = {
    True: ("immutable", "bold red"),
    False: ("mutable", "green"),
    None: ("unknown", "yellow"),
}


def _print(out: Output, results: list[Explanation]) -> None:
    for result in results:
        if result.error is not None:
            out.line(f"{result.reference}: ", ("error", "bold red"), f" ({result.error.message})")
            continue
        why = {
            "repository": "the repository is immutable",
            "rule": f"rule {result.rule_id}",
            "protect": f"--protect {result.protect_pattern!r}",
        }.get(result.decided_by or "", "")
        if not why and result.stopped_at is not None:
            why = f"Harbor stops at rule {result.stopped_at}"
        out.line(f"{result.reference}: ", _VERDICTS[result.immutable], f" ({why})" if why else "")
        for part in result.parts:
            out.line(f"  rule {part.rule.id}: {part.message}")
