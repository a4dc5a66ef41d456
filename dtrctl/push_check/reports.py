"""CI reports of a push-check: a JUnit XML file and GitHub Actions workflow commands.

Pure: builds text; the CLI decides where it goes.
"""

from __future__ import annotations

from collections.abc import Sequence

from dtrctl.push_check.verdicts import CheckResult, PushVerdict, short_digest

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
    body = ElementTree.tostring(suites, encoding="unicode")
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


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(results: Sequence[CheckResult], *, strict: bool) -> list[str]:
    """`::error::` workflow commands for each push that would be refused (or overwrite, strict)."""
    lines = []
    for result in results:
        if result.verdict is PushVerdict.COLLISION or (
            strict and result.verdict is PushVerdict.OVERWRITE
        ):
            title = _escape_property(f"push-check {result.verdict.value}: {result.reference}")
            remote = short_digest(result.remote_digest)
            message = _escape_data(f"{result.reference}: {result.reason} (remote {remote})")
            lines.append(f"::error title={title}::{message}")
    return lines
