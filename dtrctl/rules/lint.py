"""`dtrctl rules lint`: findings on Harbor projects' immutability rules, online or from a file.

The checks are `backends.harbor.lint` (pure); here the rules, the server's doublestar version
and the projects' repositories are read through the run's backend, and the report is built.
DTR has no rules: its immutability is checked by `repo audit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dtrctl.backends.harbor.lint import LintFinding, lint_rules
from dtrctl.errors import UsageError

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.backends.harbor.backend import HarborBackend
    from dtrctl.backends.harbor.doublestar import GlobVersion
    from dtrctl.backends.harbor.rules import ImmutableRule

SUITE_NAME = "dtrctl rules lint"


@dataclass(frozen=True)
class LintReport:
    projects: tuple[str, ...]
    findings: tuple[LintFinding, ...]

    @property
    def ok(self) -> bool:
        return not any(finding.severity == "error" for finding in self.findings)


def lint_offline(rules: list[ImmutableRule], glob: GlobVersion | None, project: str) -> LintReport:
    """The rules of a file, as those of `project` (no repositories known: no matches-nothing)."""
    return LintReport((project,), tuple(lint_rules(project, rules, glob)))


def _harbor(backend: Backend) -> HarborBackend:
    from dtrctl.backends.harbor.backend import HarborBackend

    backend.check_credentials()  # under `auto`, this call tells DTR from Harbor
    concrete = getattr(backend, "current", backend)
    if not isinstance(concrete, HarborBackend):
        raise UsageError(
            f"rules lint reads MSR 4 / Harbor immutability rules; this registry is "
            f"{'a DTR' if backend.kind == 'dtr' else 'not Harbor'}, which has none",
            hint="On DTR, check immutability with `dtrctl repo audit` "
            "(e.g. --require-immutable 'NAMESPACE/*')",
        )
    return concrete


def lint_online(backend: Backend, projects: Sequence[str]) -> LintReport:
    """Each project (default: every project the caller sees), its rules and repositories."""
    harbor = _harbor(backend)
    names = list(dict.fromkeys(projects)) or [p.name for p in harbor.api.list_projects()]
    glob = harbor.glob_version()
    findings: list[LintFinding] = []
    for project in names:
        rules = harbor.api.list_rules(project)
        paths = [found.path for found in harbor.api.list_repositories(project)]
        findings += lint_rules(project, rules, glob, paths)
    return LintReport(tuple(names), tuple(findings))


def junit_xml(report: LintReport) -> str:
    """One test case per finding (`<failure>` for an error) and per project without any."""
    from xml.etree import ElementTree

    from dtrctl.text import xml_text

    clean = [p for p in report.projects if all(f.project != p for f in report.findings)]
    failures = sum(finding.severity == "error" for finding in report.findings)
    counts = {
        "tests": str(len(report.findings) + len(clean)),
        "failures": str(failures),
        "errors": "0",
    }
    suites = ElementTree.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ElementTree.SubElement(suites, "testsuite", {"name": SUITE_NAME, **counts})
    for finding in report.findings:
        where = f"rule {finding.rule_id}" if finding.rule_id is not None else "project"
        case = ElementTree.SubElement(
            suite,
            "testcase",
            {"name": f"{finding.project} {where}: {finding.code}", "classname": finding.project},
        )
        if finding.severity == "error":
            attributes = {"type": finding.code, "message": finding.message}
            ElementTree.SubElement(case, "failure", attributes).text = finding.message
        else:
            ElementTree.SubElement(case, "system-out").text = f"warning: {finding.message}"
    for project in clean:
        case = ElementTree.SubElement(
            suite, "testcase", {"name": f"{project}: rules", "classname": project}
        )
        ElementTree.SubElement(case, "system-out").text = "no findings"
    ElementTree.indent(suites)
    # Rule patterns and project names come from the server: XML 1.0 characters only.
    body = xml_text(ElementTree.tostring(suites, encoding="unicode"))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
