"""`dtrctl push-check`: before CI pushes, say for each tag what the push would do."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.completers import complete_reference
from dtrctl.cli.options import OutputOption

if TYPE_CHECKING:
    from dtrctl.cli.output import Output
    from dtrctl.errors import DtrctlError
    from dtrctl.push_check.verdicts import CheckResult
    from dtrctl.reference import ImageReference

VERDICT_STYLES = {
    "free": "green",
    "present": "cyan",
    "overwrite": "yellow",
    "collision": "bold red",
    "no-repo": "red",
    "error": "bold red",
}
VERDICT_WIDTH = max(len(verdict) for verdict in VERDICT_STYLES)


@dtrctl_command
def push_check(
    ctx: typer.Context,
    references: Annotated[
        list[str],
        typer.Argument(
            metavar="REF",
            help="Tags to check: [HOST[:PORT]/]NAMESPACE/NAME[:TAG] (no tag means latest).",
            show_default=False,
            autocompletion=complete_reference,
        ),
    ],
    digest: Annotated[
        str | None,
        typer.Option(metavar="DIGEST", help="The manifest or index digest the pipeline will push."),
    ] = None,
    config_digest: Annotated[
        str | None,
        typer.Option(
            metavar="DIGEST",
            help="The image ID (docker image inspect -f {{.Id}}), compared with the remote "
            "config digest; single-platform images only.",
        ),
    ] = None,
    oci_layout: Annotated[
        str | None,
        typer.Option(
            metavar="DIR[:REF]",
            help="Read the expected digest from an OCI image layout's index.json.",
        ),
    ] = None,
    metadata_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Read containerimage.digest from `docker buildx build --metadata-file` output.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) when a push would overwrite a tag.")
    ] = False,
    protect: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PATTERN",
            help="Treat tags matching this glob (e.g. 'v*') as immutable; repeatable.",
        ),
    ] = None,
    assume_immutable: Annotated[
        bool,
        typer.Option(
            "--assume-immutable",
            help="Where the registry cannot tell (no DTR API), treat existing tags as immutable.",
        ),
    ] = False,
    junit: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write a JUnit XML report to FILE.")
    ] = None,
    output: OutputOption = "text",  # type: ignore[assignment]
) -> None:
    """Predict, for each tag, whether pushing it will succeed, is unnecessary, or is refused.

    Verdicts: free (push), present (already has the expected digest: skip the push),
    overwrite (a mutable tag will be replaced), collision (DTR would refuse: immutable
    repository or --protect), no-repo (the repository is absent or not visible).

    Exit codes: 0 push is fine, 1 collision (or overwrite with --strict), 4 no-repo,
    3 authentication or permission, 5 registry unreachable or garbled answer, 2 usage.

    Examples:

    \b
      dtrctl push-check dtr.example.com/engineering/api:1.4.2 --digest sha256:...
      dtrctl push-check engineering/api:1.4.2 engineering/api:1.4 --protect 'v*' -o json
      dtrctl push-check engineering/api:1.4.2 --oci-layout build/oci:1.4.2 --junit report.xml
    """
    from dtrctl.errors import DtrctlError

    try:
        run, results = _check(
            ctx,
            output,
            references,
            (digest, config_digest, oci_layout, metadata_file),
            protect,
            assume_immutable,
        )
    except DtrctlError as error:
        # Nothing was checked: CI still shows why (an annotation, the summary, the report).
        _report_unchecked(error, references, junit)
        raise
    _report(run, results, strict=strict, junit=junit)


def _check(
    ctx: typer.Context,
    output: str,
    references: list[str],
    content: "tuple[str | None, str | None, str | None, Path | None]",
    protect: list[str] | None,
    assume_immutable: bool,
) -> "tuple[Run, list[CheckResult]]":
    from dtrctl.push_check.expected import read_expected_content
    from dtrctl.push_check.gather import CheckOptions, check_references
    from dtrctl.push_check.verdicts import select_registry_url

    run = Run(ctx, output)  # first: it says whether names may nest (Harbor)
    digest, config_digest, oci_layout, metadata_file = content
    expected = read_expected_content(
        digest=digest,
        config_digest=config_digest,
        oci_layout=oci_layout,
        metadata_file=metadata_file,
    )
    parsed = _parse_references(references, run)
    chosen = _run_for_registry(ctx, output, run, parsed)
    if chosen is not run:  # another profile: another backend may nest names
        run = chosen
        parsed = _parse_references(references, run)
    url = select_registry_url(parsed, run.settings.url)
    # The profile's `protect` list adds to --protect: a team's write-once tags stay protected.
    protected = tuple(
        dict.fromkeys([*(protect or ()), *(run.profile.protect if run.profile else ())])
    )
    options = CheckOptions(expected, protected, assume_immutable)
    # Without a configured URL, the host comes from the references: it may be a plain registry.
    from_reference = not run.settings.url
    with run.session(write=False, url=url, gate=True, url_from_reference=from_reference) as session:
        return run, check_references(session, parsed, options)


def _parse_references(references: list[str], run: Run) -> "list[ImageReference]":
    from dtrctl.reference import parse_image_reference

    return [
        parse_image_reference(text, allow_digest=False, nested=run.nested_names)
        for text in references
    ]


def _run_for_registry(
    ctx: typer.Context, output: str, run: Run, parsed: "list[ImageReference]"
) -> Run:
    """The run, with the profile whose URL is the references' registry when neither --url nor
    a profile was chosen and the active profile's URL is another registry's."""
    import logging

    from dtrctl.cli.common import CliState
    from dtrctl.config import load_config
    from dtrctl.errors import UsageError
    from dtrctl.push_check.verdicts import select_registry_url

    state = ctx.find_root().obj
    given = state.settings if isinstance(state, CliState) else None
    hosts = {reference.registry for reference in parsed}
    if given is None or given.url or given.profile or None in hosts or len(hosts) != 1:
        return run

    def serves(url: str | None) -> bool:
        try:
            return bool(url) and bool(select_registry_url(parsed, url))
        except UsageError:
            return False

    if serves(run.settings.url):
        return run
    matching = [name for name, profile in load_config().profiles.items() if serves(profile.url)]
    if len(matching) != 1:
        return run
    active = f"has {run.settings.url}" if run.settings.url else "has no URL"
    logging.getLogger(__name__).info(
        "using profile %s: its URL is the references' registry %s (the active profile, %s, %s)",
        matching[0],
        next(iter(hosts)),
        run.settings.profile,
        active,
    )
    return Run(ctx, output, profile=matching[0])


def _report(run: Run, results: "list[CheckResult]", *, strict: bool, junit: Path | None) -> None:
    from dtrctl.push_check.verdicts import exit_code_for

    exit_code = exit_code_for(results, strict=strict)
    if junit is not None:
        _write_junit_report(junit, results, strict=strict)
    run.out.emit(
        {"ok": exit_code == 0, "results": [result.to_json() for result in results]},
        lambda out: _print_results(out, results),
    )
    if not run.out.is_json:
        _print_details(run, results)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # Under -o json on stderr: stdout stays one JSON document, the runner reads both.
        _print_github_annotations(results, strict=strict, to_stderr=run.out.is_json)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        _append_step_summary(os.environ["GITHUB_STEP_SUMMARY"], results, strict=strict)
    if exit_code:
        raise typer.Exit(int(exit_code))


def _report_unchecked(error: "DtrctlError", references: list[str], junit: Path | None) -> None:
    """What CI shows of a run that checked no tag; a report that cannot be written is left
    out (the run's own error is the one to report)."""
    import contextlib
    import sys

    from dtrctl.push_check import reports

    if junit is not None:
        with contextlib.suppress(OSError):
            junit.write_text(reports.failure_junit_xml(error, references), encoding="utf-8")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(reports.failure_annotation(error), file=sys.stderr, flush=True)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with (
            contextlib.suppress(OSError),
            open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as file,
        ):
            file.write(reports.failure_step_summary(error, references))


def configure_command(command: Any) -> None:
    """A command line Click refuses (an unknown option, no REF) is a run that checks no tag
    too: CI gets the same annotation, summary section and report as for any usage error."""
    make_context = command.make_context

    def checked(name: str, args: list[str], *rest: Any, **options: Any) -> Any:
        given = list(args)  # Click's parser consumes `args`
        try:
            return make_context(name, args, *rest, **options)
        except Exception as error:  # Click's UsageError, not importable here (Typer's API)
            format_message = getattr(error, "format_message", None)
            if getattr(error, "exit_code", None) == 2 and format_message is not None:
                from dtrctl.errors import UsageError

                _report_unchecked(UsageError(format_message()), [], _junit_path(given))
            raise

    command.make_context = checked


def _junit_path(args: list[str]) -> Path | None:
    """--junit's FILE in a command line Click could not parse, where it can be told."""
    for index, arg in enumerate(args):
        if arg.startswith("--junit="):
            return Path(arg.removeprefix("--junit="))
        if arg == "--junit" and index + 1 < len(args):
            return Path(args[index + 1])
    return None


def _write_junit_report(path: Path, results: "list[CheckResult]", *, strict: bool) -> None:
    from dtrctl.errors import UsageError
    from dtrctl.push_check.reports import junit_xml

    try:
        path.write_text(junit_xml(results, strict=strict), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write the JUnit report {path}: {error.strerror}") from None


def _print_github_annotations(
    results: "list[CheckResult]", *, strict: bool, to_stderr: bool
) -> None:
    import sys

    from dtrctl.push_check.reports import github_annotations

    for annotation in github_annotations(results, strict=strict):
        print(annotation, file=sys.stderr if to_stderr else sys.stdout, flush=True)


def _append_step_summary(path: str, results: "list[CheckResult]", *, strict: bool) -> None:
    from dtrctl.errors import UsageError
    from dtrctl.push_check.reports import step_summary

    try:
        with open(path, "a", encoding="utf-8") as file:
            file.write(step_summary(results, strict=strict))
    except OSError as error:
        raise UsageError(f"cannot write the step summary {path}: {error.strerror}") from None


def _line(result: "CheckResult") -> str:
    from dtrctl.push_check.verdicts import PushVerdict, short_digest

    parts = [result.reference]
    if result.exists:
        parts.append(short_digest(result.remote_digest))
        if result.pushed_at or result.author:
            when = f" {result.pushed_at}" if result.pushed_at else ""
            who = f" by {result.author}" if result.author else ""
            parts.append(f"pushed{when}{who}")
    if result.verdict is not PushVerdict.FREE:
        parts.append(f"- {result.reason}")
    return "  ".join(parts)


def _print_results(out: "Output", results: "list[CheckResult]") -> None:
    for result in results:
        verdict = result.verdict.value
        out.line((f"{verdict:<{VERDICT_WIDTH}}", VERDICT_STYLES[verdict]), "  ", _line(result))


def _print_details(run: Run, results: "list[CheckResult]") -> None:
    """Hints and notes once each (naming the tags unless they concern all), then a summary."""
    from collections import Counter

    hints = [result.error.hint for result in results if result.error and result.error.hint]
    for hint in dict.fromkeys(hints):
        run.out.info(hint)
    noted: dict[str, list[str]] = {}
    for result in results:
        for note in result.notes:
            noted.setdefault(note, []).append(result.reference)
    for note, references in noted.items():
        where = "" if len(references) == len(results) else f"{', '.join(references)}: "
        run.out.info(f"note: {where}{note}")
    counts = Counter(result.verdict.value for result in results)
    summary = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    run.out.info(f"{len(results)} tag{'s' if len(results) != 1 else ''}: {summary}")
