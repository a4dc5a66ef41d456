"""JUnit XML and GitHub Actions annotations of a push-check."""

from __future__ import annotations

from xml.etree import ElementTree

from dtrctl.errors import ServerError
from dtrctl.push_check.reports import github_annotations, junit_xml
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


def test_github_annotations_for_collisions_only() -> None:
    lines = github_annotations(RESULTS, strict=False)
    assert len(lines) == 1
    assert lines[0].startswith("::error title=push-check collision%3A dtr.example.com/ns/app")
    assert "::dtr.example.com/ns/app:collision: push would be refused: tag=collision" in lines[0]
    assert len(github_annotations(RESULTS, strict=True)) == 2


def test_github_annotation_escapes_percent_signs() -> None:
    # GitHub decodes %XX in workflow commands: a literal % must arrive as %25.
    odd = result(
        "x", PushVerdict.COLLISION, exists=True, write_once_by="protect", protected_by="%v*"
    )
    (line,) = github_annotations([odd], strict=False)
    assert "--protect '%25v*'" in line
