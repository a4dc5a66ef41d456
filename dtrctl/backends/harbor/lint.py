"""`rules lint`: what is wrong with a project's Harbor immutability rules, rule by rule.

Pure logic. The findings of `rule_findings` (what Harbor cannot evaluate) under the lint codes,
and rules that do nothing: disabled, duplicate (the same selectors as an earlier rule), shadowed
(an earlier enabled rule provably selects every tag this one selects), matching no repository
of the project. `shadowed` is claimed only where it is certain: the earlier rule is enabled, has
well-formed doublestar selectors in their own slots, and selects either every repository
(`repoMatches` `**` or empty) or the same repository selector, and either every tag (`matches`
`**`, `*` or empty) or the same tag selector.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dtrctl.backends.harbor.doublestar import GLOB_VERSIONS, GlobVersion, PatternError
from dtrctl.backends.harbor.rule_findings import Finding, malformed_rule_findings
from dtrctl.backends.harbor.rules import (
    KIND_DOUBLESTAR,
    REPO_MATCHES,
    REPOSITORY_DECORATIONS,
    TAG_DECORATIONS,
    TAG_MATCHES,
    ImmutableRule,
    Selector,
    Severity,
    doublestar_match,
    in_harbor_order,
)

# repo audit's codes, under the names of `rules lint` (issue #21); others keep their own.
LINT_CODES = {
    "unknown-kind": "malformed",
    "unknown-decoration": "malformed",
    "bad-pattern": "malformed",
    "no-selector": "malformed",
    "namespace-decoration": "never-matches",
    "too-many-rules": "over-ui-limit",
}


@dataclass(frozen=True)
class LintFinding:
    project: str
    rule_id: int | None
    code: str
    severity: Severity
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "project": self.project,
            "rule_id": self.rule_id,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }


def _selectors(rule: ImmutableRule) -> tuple[Selector, Selector] | None:
    """The repository and tag selector Harbor uses, when both are well-formed in their slots."""
    if not rule.repository_selectors or not rule.tag_selectors:
        return None
    repository, tag = rule.repository_selectors[0], rule.tag_selectors[0]
    if repository.kind != KIND_DOUBLESTAR or tag.kind != KIND_DOUBLESTAR:
        return None
    if repository.decoration not in REPOSITORY_DECORATIONS or tag.decoration not in TAG_DECORATIONS:
        return None
    return repository, tag


def _selects_all(selector: Selector, decoration: str) -> bool:
    # `**` and `*` mean the same in both doublestar versions; an empty pattern matches all.
    stars = ("", "**") if decoration == REPO_MATCHES else ("", "*", "**")
    return selector.decoration == decoration and selector.pattern in stars


def _shadows(earlier: ImmutableRule, later: ImmutableRule) -> bool:
    """Whether `earlier` selects every (repository, tag) `later` selects: then Harbor decides
    (or stops) at `earlier` for each of them, and `later` never decides anything."""
    first, second = _selectors(earlier), _selectors(later)
    if earlier.disabled or first is None or not later.repository_selectors:
        return False
    repositories = _selects_all(first[0], REPO_MATCHES) or (
        first[0] == later.repository_selectors[0]
    )
    tags = _selects_all(first[1], TAG_MATCHES) or (
        second is not None and later.tag_selectors[:1] == (first[1],)
    )
    return repositories and tags


def _redundancy(rules: list[ImmutableRule], project: str) -> list[LintFinding]:
    found: list[LintFinding] = []
    for index, rule in enumerate(rules):
        if rule.disabled:
            text = f"Rule {rule.id} is disabled: it makes no tag immutable until enabled again"
            found.append(LintFinding(project, rule.id, "disabled", "warning", text))
            continue
        earlier = rules[:index]
        same = next(
            (
                other
                for other in earlier
                if (other.repository_selectors, other.tag_selectors)
                == (rule.repository_selectors, rule.tag_selectors)
            ),
            None,
        )
        if same is not None:
            text = f"Rule {rule.id} has the same selectors as rule {same.id}"
            found.append(LintFinding(project, rule.id, "duplicate", "warning", text))
            continue
        shadow = next((other for other in earlier if _shadows(other, rule)), None)
        if shadow is not None:
            text = (
                f"Rule {rule.id} never decides anything: every tag it selects is already "
                f"selected by the earlier {shadow.describe()}"
            )
            found.append(LintFinding(project, rule.id, "shadowed", "warning", text))
    return found


def _selects_a_repository(
    selector: Selector, paths: Iterable[str], glob: GlobVersion | None
) -> bool:
    """Whether `selector` selects some path (or cannot be told: a pattern error, a tag slot)."""
    if selector.decoration not in REPOSITORY_DECORATIONS or not selector.pattern:
        return True
    versions = (glob,) if glob is not None else GLOB_VERSIONS
    for path in paths:
        for version in versions:
            try:
                matched = doublestar_match(selector.pattern, path, version)
            except PatternError:
                return True  # reported as malformed; not "nothing"
            if matched != (selector.decoration != REPO_MATCHES):
                return True
    return False


def _matches_nothing(
    rules: list[ImmutableRule], project: str, paths: list[str], glob: GlobVersion | None
) -> list[LintFinding]:
    return [
        LintFinding(
            project,
            rule.id,
            "matches-nothing",
            "warning",
            f"Rule {rule.id} selects none of the {len(paths)} repositories of project "
            f"{project} (it waits for a repository pushed later, or names one that is gone)",
        )
        for rule in rules
        if not rule.disabled
        and rule.repository_selectors
        and not _selects_a_repository(rule.repository_selectors[0], paths, glob)
    ]


def lint_rules(
    project: str,
    rules: Iterable[ImmutableRule],
    glob: GlobVersion | None,
    repository_paths: list[str] | None = None,
) -> list[LintFinding]:
    """Every finding on the project's rules, in rule id order, project-wide ones last.
    `repository_paths` (online: the project's repositories, without the project) adds
    `matches-nothing`."""
    ordered = in_harbor_order(rules)
    findings = [_lint(project, finding) for finding in malformed_rule_findings(ordered, glob)]
    findings += _redundancy(ordered, project)
    if repository_paths is not None:
        findings += _matches_nothing(ordered, project, repository_paths, glob)
    return sorted(findings, key=lambda f: (f.rule_id is None, f.rule_id or 0))


def _lint(project: str, finding: Finding) -> LintFinding:
    code = LINT_CODES.get(finding.code, finding.code)
    return LintFinding(project, finding.rule_id, code, finding.severity, finding.message)
