"""Why Harbor does or does not make one tag immutable: each rule's part, in Harbor's order.

Pure logic on `rules.ImmutableRule`, for `dtrctl explain`. Harbor reads the project's rules in id
order for one tag: a disabled rule is skipped, a rule whose repository or tag selector does not
select the candidate is passed, the first rule that selects both decides (immutable), and a
selector Harbor cannot build or a pattern that fails on this name ends the evaluation (mutable)
with no later rule read. `glob` None: the server's doublestar is unknown; where v1.1.1 and v1.3.4
answer differently for this name, the rule's part and perhaps the verdict are unknown (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dtrctl.backends.harbor.doublestar import GLOB_VERSIONS, GlobVersion
from dtrctl.backends.harbor.rules import (
    REPO_EXCLUDES,
    TAG_EXCLUDES,
    ImmutableRule,
    in_harbor_order,
    rule_outcome,
)

Reason = Literal[
    "matched",
    "disabled",
    "no-selector",
    "repository-not-selected",
    "tag-not-selected",
    "excluded",
    "malformed",
    "version-dependent",
    "not-reached",
]

_MESSAGES: dict[Reason, str] = {
    "matched": "selects the repository and the tag: Harbor makes the tag immutable",
    "disabled": "disabled: Harbor skips it",
    "no-selector": "has no repository selector: Harbor skips it",
    "repository-not-selected": "does not select the repository",
    "tag-not-selected": "selects the repository but not the tag",
    "excluded": "excludes the repository or the tag",
    "malformed": "Harbor cannot evaluate it for this tag and stops here: the tag counts as "
    "mutable and no later rule is read",
    "version-dependent": "doublestar v1.1.1 (Harbor 2.0-2.9.4, 2.10.0-2.10.2) and v1.3.4 (Harbor "
    "2.9.5+, 2.10.3+, 2.11+) answer differently here, and the server's version is unknown",
    "not-reached": "not reached: Harbor decided before this rule",
}


@dataclass(frozen=True)
class RulePart:
    """One rule's part in the verdict on one tag: `matched` None when not reached or unknown."""

    rule: ImmutableRule
    matched: bool | None
    reason: Reason
    detail: str = ""  # the pattern error, for `malformed`

    @property
    def message(self) -> str:
        text = _MESSAGES[self.reason]
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class TagExplanation:
    """Harbor's verdict on `repository_path:tag` (None: unknown), and each rule's part."""

    immutable: bool | None
    decided_by: ImmutableRule | None  # the rule that matched first
    stopped_at: ImmutableRule | None  # the rule where Harbor gave up
    parts: tuple[RulePart, ...]


def _part(rule: ImmutableRule, repository_path: str, tag: str, glob: GlobVersion) -> RulePart:
    outcome, detail = rule_outcome(rule, repository_path, tag, glob)
    if outcome == "matched":
        return RulePart(rule, True, "matched")
    if outcome == "stopped":
        return RulePart(rule, False, "malformed", detail)
    if outcome in ("disabled", "no-selector"):
        return RulePart(rule, False, outcome)
    selectors = rule.repository_selectors if outcome == "repository" else rule.tag_selectors
    if selectors and selectors[0].decoration in (REPO_EXCLUDES, TAG_EXCLUDES):
        return RulePart(rule, False, "excluded")  # an `excludes` selector whose pattern matched
    if outcome == "repository":
        return RulePart(rule, False, "repository-not-selected")
    return RulePart(rule, False, "tag-not-selected")


def _explain(
    rules: list[ImmutableRule], repository_path: str, tag: str, glob: GlobVersion
) -> TagExplanation:
    parts: list[RulePart] = []
    decided: RulePart | None = None
    for rule in rules:
        if decided is not None:
            parts.append(RulePart(rule, None, "not-reached"))
            continue
        part = _part(rule, repository_path, tag, glob)
        parts.append(part)
        if part.reason in ("matched", "malformed"):
            decided = part
    matched = decided is not None and decided.reason == "matched"
    return TagExplanation(
        immutable=matched,
        decided_by=decided.rule if decided is not None and matched else None,
        stopped_at=decided.rule if decided is not None and not matched else None,
        parts=tuple(parts),
    )


def explain_tag(
    rules: Iterable[ImmutableRule], repository_path: str, tag: str, glob: GlobVersion | None
) -> TagExplanation:
    """Harbor's evaluation of one tag of the project's repository `repository_path` (no
    project), rule by rule; `glob` None: both versions, unknown where they differ."""
    ordered = in_harbor_order(rules)
    if glob is not None:
        return _explain(ordered, repository_path, tag, glob)
    old, new = (_explain(ordered, repository_path, tag, version) for version in GLOB_VERSIONS)
    if old == new:
        return new
    parts = tuple(
        a if a == b else RulePart(a.rule, None, "version-dependent")
        for a, b in zip(old.parts, new.parts, strict=True)
    )
    same = old.immutable == new.immutable
    return TagExplanation(
        immutable=new.immutable if same else None,
        decided_by=new.decided_by if same and old.decided_by == new.decided_by else None,
        stopped_at=new.stopped_at if same and old.stopped_at == new.stopped_at else None,
        parts=parts,
    )
