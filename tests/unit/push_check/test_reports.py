"""JUnit XML and GitHub Actions annotations of a push-check."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from dtrctl.errors import MissingCredentials, NetworkError, ServerError
from dtrctl.push_check.reports import (
    failure_annotation,
    failure_junit_xml,
    failure_step_summary,
    github_annotations,
    junit_xml,
    step_summary,
)
from dtrctl.push_check.verdicts import CheckResult, PushVerdict

DIGEST = "sha256:" + "e" * 64


def result(tag: str, verdict: PushVerdict, **fields: object) -> CheckResult:
    return CheckResult(
        reference=f"dtr.example.com/ns/app:{tag}",
        host="dtr.example.com",
        repository="ns/app",
        tag=tag,
        verdict=verdict,
        **fields,  # type: ignore[arg-type]
    )


RESULTS = [
    result("free", PushVerdict.FREE, exists=False),
    result("present", PushVerdict.PRESENT, exists=True, remote_digest=DIGEST),
    result("overwrite", PushVerdict.OVERWRITE, exists=True, remote_digest=DIGEST),
    result(
        "collision",
        PushVerdict.COLLISION,
        exists=True,
        remote_digest=DIGEST,
        write_once_by="repository",
        author="alice",
        pushed_at="2024-05-01T10:00:00Z",
    ),
    result("no-repo", PushVerdict.NO_REPO, exists=False),
    result("error", PushVerdict.ERROR, error=ServerError("the registry failed (HTTP 503)")),
]


def cases(xml: str) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(xml)
    return {case.get("name", ""): case for case in root.iter("testcase")}


def test_junit_has_one_case_per_tag_named_by_reference() -> None:
    xml = junit_xml(RESULTS, strict=False)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    found = cases(xml)
    assert list(found) == [item.reference for item in RESULTS]
    assert {case.get("classname") for case in found.values()} == {"ns/app"}
    suite = ElementTree.fromstring(xml).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "2", "1")


def test_junit_failures_and_errors() -> None:
    found = cases(junit_xml(RESULTS, strict=False))

    def outcome(tag: str) -> str | None:
        case = found[f"dtr.example.com/ns/app:{tag}"]
        return next((child.tag for child in case if child.tag in ("failure", "error")), None)

    assert outcome("free") is None
    assert outcome("present") is None
    assert outcome("overwrite") is None
    assert outcome("collision") == "failure"
    assert outcome("no-repo") == "failure"
    assert outcome("error") == "error"
    collision = found["dtr.example.com/ns/app:collision"].find("failure")
    assert collision is not None
    assert "is an immutable repository" in (collision.get("message") or "")
    assert "by alice" in (collision.text or "")


def test_junit_strict_makes_overwrite_a_failure() -> None:
    found = cases(junit_xml(RESULTS, strict=True))
    assert found["dtr.example.com/ns/app:overwrite"].find("failure") is not None


def test_github_annotations_error_for_every_failing_verdict_warning_for_overwrite() -> None:
    lines = github_annotations(RESULTS, strict=False)
    levels = {line.split("::")[2].split(": ")[0]: line.split(" ")[0] for line in lines}
    assert levels == {
        "dtr.example.com/ns/app:overwrite": "::warning",
        "dtr.example.com/ns/app:collision": "::error",
        "dtr.example.com/ns/app:no-repo": "::error",
        "dtr.example.com/ns/app:error": "::error",
    }
    collision = next(line for line in lines if "collision%3A" in line)
    assert collision.startswith("::error title=push-check collision%3A dtr.example.com/ns/app")
    assert "::dtr.example.com/ns/app:collision: push would be refused: tag=collision" in collision
    strict = github_annotations(RESULTS, strict=True)
    assert [line.split(" ")[0] for line in strict] == ["::error"] * 4


def test_github_annotation_keeps_hostile_server_text_in_one_command() -> None:
    hostile = result(
        "x",
        PushVerdict.ERROR,
        error=ServerError("boom\n::add-mask::secret\r\n::stop-commands::x\x1b]52;c;eA==\x07"),
    )
    (line,) = github_annotations([hostile], strict=False)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "boom\\n::add-mask::secret\\r\\n::stop-commands::x\\x1b]52;c;eA==\\x07" in line


HOSTILE_TEXT = (
    "[click](https://evil.example/x) ![pixel](https://evil.example/p.png) "
    "<img src=https://evil.example/i.png> <a href=x>a</a> https://evil.example/bare "
    "www.evil.example eve@evil.example **bold** | `code` ``"
)


def rendered_rows(summary: str) -> list[str]:
    """The summary as a markdown renderer shows it: its table rows, as HTML."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(summary)
    return html.split("<tr>")[1:]


def test_step_summary_is_a_markdown_table_with_server_text_inert() -> None:
    hostile = result(
        "h|`x`",
        PushVerdict.COLLISION,
        exists=True,
        write_once_by="repository",
        remote_digest=DIGEST,
        author="eve|<img src=x>\n::error::x",
        pushed_at="2024\x1b[2J",
    )
    summary = step_summary([*RESULTS, hostile], strict=False)
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Verdict | Tag | Remote digest | Pushed | Reason |"
    assert len(rows) == 1 + len(RESULTS) + 1
    assert "4 of 7 would fail" in summary
    assert "\x1b" not in summary
    assert not any(line.lstrip().startswith("::") for line in summary.splitlines())
    for row in rendered_rows(summary)[1:]:
        assert row.count("<td>") == 5  # the hostile pipes are escaped, not columns
    # The renderer shows the data as it was, escapes visible, in a code span.
    assert "<code>2024\\x1b[2J by eve|&lt;img src=x&gt;\\n::error::x</code>" in summary_html(
        summary
    )


def summary_html(summary: str) -> str:
    return "<tr>".join(["", *rendered_rows(summary)])


def test_step_summary_shows_server_text_as_text_never_links_images_or_html() -> None:
    hostile = result(
        "x",
        PushVerdict.ERROR,
        author=HOSTILE_TEXT,
        pushed_at=HOSTILE_TEXT,
        error=ServerError(HOSTILE_TEXT),
    )
    summary = step_summary([hostile], strict=False)
    html = summary_html(summary)
    assert not re.search(r"<(a|img|strong|em|code><a)\b", html), html
    (row,) = rendered_rows(summary)[1:]
    assert row.count("<td>") == 5
    # Everything the server said is in code spans, which GitHub never links or renders.
    for cell in row.split("<td>")[2:]:
        text = cell.split("</td>")[0]
        assert text == "-" or (text.startswith("<code>") and text.endswith("</code>")), text


def test_github_annotation_escapes_percent_signs() -> None:
    # GitHub decodes %XX in workflow commands: a literal % must arrive as %25.
    odd = result(
        "x", PushVerdict.COLLISION, exists=True, write_once_by="protect", protected_by="%v*"
    )
    (line,) = github_annotations([odd], strict=False)
    assert "--protect '%25v*'" in line


def test_junit_with_hostile_server_text_is_well_formed_xml() -> None:
    hostile = result(
        "x",
        PushVerdict.COLLISION,
        exists=True,
        write_once_by="repository",
        author="\ud800eve\x1b]52;c;eA==\x07\ufffe",
        notes=("note\x00\x0b",),
    )
    xml = junit_xml([hostile], strict=False)
    xml.encode("utf-8")  # no lone surrogate left
    (case,) = cases(xml).values()
    failure = case.find("failure")
    assert failure is not None
    assert "by \\ud800eve\\x1b]52;c;eA==\\x07\\ufffe" in (failure.text or "")


def test_step_summary_marks_an_overwrite_as_a_warning_unless_strict() -> None:
    marks = {
        line.split(" | ")[0].removeprefix("| ")
        for line in step_summary(RESULTS, strict=False).splitlines()
        if "overwrite |" in line
    }
    assert marks == {"⚠️ overwrite"}
    strict = [
        line for line in step_summary(RESULTS, strict=True).splitlines() if "overwrite |" in line
    ]
    assert strict[0].startswith("| ❌ overwrite")


def test_one_cause_of_unchecked_tags_is_one_annotation() -> None:
    unreachable = NetworkError("cannot reach dtr.example.com")
    results = [result(tag, PushVerdict.ERROR, error=unreachable) for tag in ("1", "2")]
    results.append(result("3", PushVerdict.FREE, exists=False))
    (annotation,) = github_annotations(results, strict=False)
    assert annotation == (
        "::error title=push-check error%3A 2 tags not checked::cannot reach dtr.example.com "
        "(dtr.example.com/ns/app:1, dtr.example.com/ns/app:2)"
    )


def test_a_run_that_checks_no_tag_has_one_failing_case_an_error_and_a_summary() -> None:
    error = MissingCredentials("no credentials for https://dtr.example.com", hint="Set them")
    document = ElementTree.fromstring(failure_junit_xml(error, ["ns/app:1", "ns/<b>:2"]).encode())
    (case,) = document.iter("testcase")
    assert case.get("name") == "push-check"
    failed = case.find("error")
    assert failed is not None
    assert failed.get("type") == "auth"
    assert "not checked: ns/<b>:2" in (failed.text or "")
    assert failure_annotation(error) == (
        "::error title=push-check failed (exit 3)::no credentials for "
        "https://dtr.example.com. Set them"
    )
    summary = failure_step_summary(error, ["ns/app:1", "ns/<b>:2"])
    assert summary.startswith("### dtrctl push-check: ❌ no tag checked (exit 3)\n")
    # Server text is inert there: code spans, as in the verdicts' table.
    assert "Not checked: ` ns/app:1 `, ` ns/<b>:2 `" in summary
