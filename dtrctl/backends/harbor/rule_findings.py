"""What is wrong with a project's immutability rules as Harbor reads them: `repo audit`'s findings.

Pure logic on `rules.ImmutableRule`; `glob` is the server's doublestar version (None: unknown).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dtrctl.backends.harbor.doublestar import (
    GLOB_VERSIONS,
    GlobVersion,
    PatternError,
    check_pattern,
    version_dependent,
)
from dtrctl.backends.harbor.rules import (
    MAX_UI_RULES,
    NAMESPACE_DECORATIONS,
    REPOSITORY_DECORATIONS,
    TAG_DECORATIONS,
    ImmutableRule,
    Selector,
    Severity,
    in_harbor_order,
    rule_label,
    selector_problem,
)

# Harbor releases by the doublestar they link (FACTS.md).
RELEASES = {"1.1.1": "Harbor 2.0-2.9.4 and 2.10.0-2.10.2", "1.3.4": "Harbor 2.9.5+, 2.10.3+, 2.11+"}


@dataclass(frozen=True)
class Finding:
    """A problem of a project's rules; `error` when it switches immutability off."""

    rule_id: int | None  # None: about the whole project
    severity: Severity
    code: str
    message: str


_STOPS = (
    "Harbor stops evaluating the project's rules here, "
    "so neither this rule nor any later one makes a tag immutable"
)


def _pattern_findings(
    pattern: str, slot: str, glob: GlobVersion | None
) -> list[tuple[str, str, bool]]:
    """bad-pattern where the server's doublestar (both when unknown) rejects it; version-dependent
    where the two versions read it differently: an error where it breaks or the version is unknown.
    """
    failing: dict[GlobVersion, str] = {}
    for version in GLOB_VERSIONS:
        try:
            check_pattern(pattern, version)
        except PatternError as error:
            failing[version] = str(error)
    if len(failing) == len(GLOB_VERSIONS):
        text = failing[glob or GLOB_VERSIONS[-1]]
        return [("bad-pattern", f"its {slot} {text}: where it fails, {_STOPS}", True)]
    if glob in failing:
        text = (
            f"its {slot} {failing[glob]} under this server's doublestar v{glob} "
            f"({RELEASES[glob]}), though not under the other: where it fails, {_STOPS}"
        )
        return [("version-dependent", text, True)]
    if not version_dependent(pattern):
        return []
    broken = ", ".join(f"with doublestar v{v} ({RELEASES[v]})" for v in failing) or "nowhere"
    if glob is None:
        text = (
            f"its {slot} pattern {pattern!r} means different things under doublestar v1.1.1 "
            f"({RELEASES['1.1.1']}) and v1.3.4 ({RELEASES['1.3.4']}); the server's version is "
            f"unknown, so dtrctl cannot say what it selects (it is malformed {broken})"
        )
        return [("version-dependent", text, True)]
    other = next(v for v in GLOB_VERSIONS if v != glob)
    text = (
        f"its {slot} pattern {pattern!r} means something else under doublestar v{other} "
        f"({RELEASES[other]}) than under this server's v{glob} (it is malformed {broken})"
    )
    return [("version-dependent", text, False)]


def _selector_findings(
    selector: Selector, slot: str, glob: GlobVersion | None
) -> list[tuple[str, str, bool]]:
    """(code, text, switches immutability off) for the selector Harbor uses in `slot`."""
    problem = selector_problem(selector)
    if problem:
        return [(problem[0], f"its {slot} {problem[1]}: {_STOPS}", True)]
    decoration = selector.decoration
    if decoration in NAMESPACE_DECORATIONS:
        text = f"its {slot} selector uses {decoration!r}, which never matches in immutability rules"
        return [("namespace-decoration", f"{text}, so this rule makes no tag immutable", True)]
    found: list[tuple[str, str, bool]] = []
    if decoration not in (REPOSITORY_DECORATIONS if slot == "repository" else TAG_DECORATIONS):
        target = "tag" if decoration in TAG_DECORATIONS else "repository"
        text = f"its {slot} selector uses {decoration!r}, so Harbor matches it against the {target}"
        found.append(("misplaced-decoration", text, False))
    return found + _pattern_findings(selector.pattern, slot, glob)


def _rule_findings(rule: ImmutableRule, glob: GlobVersion | None) -> list[Finding]:
    problems: list[tuple[str, str, bool]] = []
    for slot, selectors in (("repository", rule.repository_selectors), ("tag", rule.tag_selectors)):
        if not selectors:
            text = f"it has no {slot} selector, so Harbor skips it and it makes no tag immutable"
            problems.append(("no-selector", text, True))
            continue
        if len(selectors) > 1:
            text = (
                f"it has {len(selectors)} {slot} selectors; Harbor uses only the first "
                f"({selectors[0].describe()}) and ignores the others"
            )
            problems.append(("extra-selectors", text, False))
        problems += _selector_findings(selectors[0], slot, glob)
    label = f"disabled {rule_label(rule)}" if rule.disabled else rule_label(rule).capitalize()
    later = " (once it is enabled again)" if rule.disabled else ""
    return [
        Finding(
            rule.id,
            "error" if severe and not rule.disabled else "warning",
            code,
            f"{label}: {text}{later if severe else ''}",
        )
        for code, text, severe in problems
    ]


def malformed_rule_findings(
    rules: Iterable[ImmutableRule], glob: GlobVersion | None = "1.3.4"
) -> list[Finding]:
    """Every rule Harbor cannot evaluate as written, in id order, then project-level findings."""
    ordered = in_harbor_order(rules)
    findings = [finding for rule in ordered for finding in _rule_findings(rule, glob)]
    if len(ordered) > MAX_UI_RULES:
        findings.append(
            Finding(
                None,
                "warning",
                "too-many-rules",
                (
                    f"The project has {len(ordered)} immutability rules: Harbor's UI shows only "
                    f"{MAX_UI_RULES} and cannot add more (the API has no limit)"
                ),
            )
        )
    return findings
