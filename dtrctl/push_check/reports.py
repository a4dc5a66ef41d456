"""CI reports of a push-check: JUnit XML, GitHub Actions workflow commands, a step summary.

Pure: builds text; the CLI decides where it goes. Server text in each is neutralised for its
medium (`dtrctl.text`): XML 1.0 characters, workflow-command escaping, markdown code spans.
"""

from __future__ import annotations

from collections.abc import Sequence

from dtrctl.errors import DtrctlError
from dtrctl.push_check.verdicts import CheckResult, PushVerdict, short_digest
from dtrctl.text import annotation_message, annotation_property, markdown_cell, xml_text

SUITE_NAME = "dtrctl push-check"


def junit_xml(results: Sequence[CheckResult], *, strict: bool) -> str:
    """One test case per tag: `<failure>` when the push would fail, `<error>` when unchecked."""
    from xml.etree import ElementTree

    failures = sum(result.is_failure(strict=strict) for result in results)
    errors = sum(result.verdict is PushVerdict.ERROR for result in results)
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": str(errors)}
    suites = ElementTree.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": SUITE_NAME, **counts})
    for result in results:
        case = ElementTree.SubElement(
            suite, "testcase", {"name": result.reference, "classname": result.repository}
        )
        if result.verdict is PushVerdict.ERROR:
            code = result.error.code if result.error else "error"
            element = ElementTree.SubElement(
                case, "error", {"type": code, "message": result.reason}
            )
            element.text = _details(result)
        elif result.is_failure(strict=strict):
            element = ElementTree.SubElement(
                case, "failure", {"type": result.verdict.value, "message": result.reason}
            )
            element.text = _details(result)
        else:
            ElementTree.SubElement(case, "system-out").text = _details(result)
    ElementTree.indent(suites)
    # Server text may hold what XML 1.0 cannot (ESC, lone surrogates): replaced, so it parses.
    body = xml_text(ElementTree.tostring(suites, encoding="unicode"))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _details(result: CheckResult) -> str:
    lines = [
        f"verdict: {result.verdict.value}",
        f"reason: {result.reason}",
        f"remote digest: {result.remote_digest or '-'}",
        f"expected digest: {result.expected_digest or '-'}",
    ]
    if result.pushed_at or result.author:
        lines.append(f"pushed: {result.pushed_at or '?'} by {result.author or '?'}")
    if result.error is not None and result.error.hint:
        lines.append(f"hint: {result.error.hint}")
    lines.extend(f"note: {note}" for note in result.notes)
    return "\n".join(lines)


def _fails(result: CheckResult, *, strict: bool) -> bool:
    """The tag fails the run: a refused push, or a check that could not complete."""
    return result.verdict is PushVerdict.ERROR or result.is_failure(strict=strict)


def github_annotations(results: Sequence[CheckResult], *, strict: bool) -> list[str]:
    """`::error` for each tag whose push would fail, `::warning` for an overwrite not strict;
    tags whose check failed for one cause (an unreachable registry) share one `::error`."""
    lines = []
    unchecked: dict[str, list[str]] = {}
    for result in results:
        if result.verdict is PushVerdict.ERROR:
            unchecked.setdefault(result.reason, []).append(result.reference)
    for reason, references in unchecked.items():
        if len(references) > 1:
            title = annotation_property(f"push-check error: {len(references)} tags not checked")
            message = annotation_message(f"{reason} ({', '.join(references)})")
            lines.append(f"::error title={title}::{message}")
    for result in results:
        if result.verdict is PushVerdict.ERROR and len(unchecked[result.reason]) > 1:
            continue
        if _fails(result, strict=strict):
            level = "error"
        elif result.verdict is PushVerdict.OVERWRITE:
            level = "warning"
        else:
            continue
        title = annotation_property(f"push-check {result.verdict.value}: {result.reference}")
        remote = short_digest(result.remote_digest)
        message = annotation_message(f"{result.reference}: {result.reason} (remote {remote})")
        lines.append(f"::{level} title={title}::{message}")
    return lines


SUMMARY_COLUMNS = ("Verdict", "Tag", "Remote digest", "Pushed", "Reason")


def step_summary(results: Sequence[CheckResult], *, strict: bool) -> str:
    """A markdown table of the verdicts, for `$GITHUB_STEP_SUMMARY`."""
    failures = sum(_fails(result, strict=strict) for result in results)
    outcome = f"{failures} of {len(results)} would fail" if failures else "all pushes are fine"
    lines = [
        f"### dtrctl push-check: {outcome}",
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|" + "---|" * len(SUMMARY_COLUMNS),
    ]
    for result in results:
        pushed = " by ".join(text for text in (result.pushed_at, result.author) if text)
        # The verdict is dtrctl's own word; the other cells may hold server text: inert.
        cells = (
            f"{_mark(result, strict=strict)} {result.verdict.value}",
            markdown_cell(result.reference),
            markdown_cell(short_digest(result.remote_digest)) if result.exists else "-",
            markdown_cell(pushed) or "-",
            markdown_cell(result.reason),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n"


def _mark(result: CheckResult, *, strict: bool) -> str:
    """❌ fails the run; ⚠️ an overwrite that does not (the log warns of it too); ✅ fine."""
    if _fails(result, strict=strict):
        return "❌"
    return "⚠️" if result.verdict is PushVerdict.OVERWRITE else "✅"


# A push-check that failed before any tag was checked (credentials, usage, unreachable): one
# report of the run itself, so CI shows why rather than nothing.
UNCHECKED_CASE = "push-check"


def _failure_text(error: DtrctlError) -> str:
    return f"{error.message}. {error.hint}" if error.hint else error.message


def failure_junit_xml(error: DtrctlError, references: Sequence[str]) -> str:
    """A report with one failing case: the run, with the error and the tags left unchecked."""
    from xml.etree import ElementTree

    counts = {"tests": "1", "failures": "0", "errors": "1"}
    suites = ElementTree.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": SUITE_NAME, **counts})
    case = ElementTree.SubElement(
        suite, "testcase", {"name": UNCHECKED_CASE, "classname": "dtrctl"}
    )
    element = ElementTree.SubElement(
        case, "error", {"type": error.code, "message": _failure_text(error)}
    )
    lines = [f"exit code: {int(error.exit_code)}", f"error: {_failure_text(error)}"]
    lines += [f"not checked: {reference}" for reference in references]
    element.text = "\n".join(lines)
    ElementTree.indent(suites)
    body = xml_text(ElementTree.tostring(suites, encoding="unicode"))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def failure_annotation(error: DtrctlError) -> str:
    """The one `::error` of a run that checked no tag."""
    title = annotation_property(f"push-check failed (exit {int(error.exit_code)})")
    return f"::error title={title}::{annotation_message(_failure_text(error))}"


def failure_step_summary(error: DtrctlError, references: Sequence[str]) -> str:
    """The step summary's section for a run that checked no tag."""
    lines = [
        f"### dtrctl push-check: ❌ no tag checked (exit {int(error.exit_code)})",
        "",
        # The message may quote the server: inert, as every cell of the verdicts' table.
        f"Error: {markdown_cell(error.message)}",
    ]
    if error.hint:
        lines += ["", markdown_cell(error.hint)]
    if references:
        lines += ["", "Not checked: " + ", ".join(markdown_cell(ref) for ref in references)]
    return "\n".join(lines) + "\n\n"
