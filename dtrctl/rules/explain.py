"""`dtrctl explain`: for each tag reference, whether it is immutable and what decides it.

DTR: the repository's flag. Harbor: the project's rules as Harbor evaluates them for that tag
(`backends.harbor.explain`), each rule with its part. Then the `--protect` globs push-check
honours. Online through the run's backend, or offline from a file of Harbor rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dtrctl.backends.harbor.explain import RulePart, TagExplanation, explain_tag
from dtrctl.errors import DtrctlError

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.backends.harbor.doublestar import GlobVersion
    from dtrctl.backends.harbor.rules import ImmutableRule
    from dtrctl.reference import ImageReference

DecidedBy = Literal["repository", "rule", "protect"]


@dataclass(frozen=True)
class Explanation:
    """One reference explained; `error` when it could not be (then `immutable` is None)."""

    reference: str
    repository: str
    tag: str
    immutable: bool | None = None
    decided_by: DecidedBy | None = None
    rule_id: int | None = None
    protect_pattern: str | None = None
    stopped_at: int | None = None
    parts: tuple[RulePart, ...] = ()
    error: DtrctlError | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "repository": self.repository,
            "tag": self.tag,
            "immutable": self.immutable,
            "decided_by": {
                "kind": self.decided_by,
                "rule_id": self.rule_id,
                "pattern": self.protect_pattern,
            },
            "stopped_at": self.stopped_at,
            "rules": [
                {
                    "id": part.rule.id,
                    "disabled": part.rule.disabled,
                    "matched": part.matched,
                    "reason": part.reason,
                    "message": part.message,
                    "description": part.rule.describe(),
                }
                for part in self.parts
            ],
            "error": self.error.to_dict() if self.error else None,
        }


def _with_protect(
    found: Explanation, protect: Sequence[str], matching: Callable[[str], str | None]
) -> Explanation:
    """`--protect` makes a tag write-once for push-check where the registry does not."""
    from dataclasses import replace

    pattern = matching(found.tag) if protect else None
    if found.immutable or pattern is None:
        return found
    return replace(
        found, immutable=True, decided_by="protect", rule_id=None, protect_pattern=pattern
    )


def _from_rules(reference: ImageReference, verdict: TagExplanation) -> Explanation:
    decided = verdict.decided_by
    return Explanation(
        reference=str(reference),
        repository=str(reference.repository),
        tag=reference.tag,
        immutable=verdict.immutable,
        decided_by="rule" if decided is not None else None,
        rule_id=decided.id if decided is not None else None,
        stopped_at=verdict.stopped_at.id if verdict.stopped_at is not None else None,
        parts=verdict.parts,
    )


def explain_offline(
    references: Iterable[ImageReference],
    rules: list[ImmutableRule],
    glob: GlobVersion | None,
    protect: Sequence[str] = (),
) -> list[Explanation]:
    """Each reference under `rules` (its project's, whatever project it names)."""
    matching = _protect_matcher(protect)
    return [
        _with_protect(
            _from_rules(ref, explain_tag(rules, ref.repository.name, ref.tag, glob)),
            protect,
            matching,
        )
        for ref in references
    ]


def _protect_matcher(protect: Sequence[str]) -> Callable[[str], str | None]:
    from dtrctl.push_check.verdicts import matching_protect_pattern

    return lambda tag: matching_protect_pattern(tag, protect)


def _online(
    backend: Backend, reference: ImageReference, rules: dict[str, list[ImmutableRule]]
) -> Explanation:
    """One reference; `rules` keeps each Harbor project's rules for the run's other ones."""
    from dtrctl.backends.harbor.backend import HarborBackend

    concrete = getattr(backend, "current", backend)  # what `auto` detected so far
    project, path = reference.repository.namespace, reference.repository.name
    if isinstance(concrete, HarborBackend):
        concrete.api.get_repository(project, path)  # a missing one is not found, as on DTR
    else:
        repository = backend.get_repository(reference.repository)  # detects Harbor under auto
        concrete = getattr(backend, "current", backend)
        if not isinstance(concrete, HarborBackend):
            return Explanation(
                reference=str(reference),
                repository=str(reference.repository),
                tag=reference.tag,
                immutable=repository.immutable,
                decided_by="repository" if repository.immutable else None,
            )
    if project not in rules:
        rules[project] = concrete.api.list_rules(project)
    verdict = explain_tag(rules[project], path, reference.tag, concrete.glob_version())
    return _from_rules(reference, verdict)


def explain_online(
    backend: Backend, references: Iterable[ImageReference], protect: Sequence[str] = ()
) -> list[Explanation]:
    """Each reference on the run's registry; a failure is that reference's `error`."""
    matching = _protect_matcher(protect)
    explained: list[Explanation] = []
    rules: dict[str, list[ImmutableRule]] = {}
    for reference in references:
        try:
            found = _online(backend, reference, rules)
        except DtrctlError as error:
            found = Explanation(
                str(reference), str(reference.repository), reference.tag, error=error
            )
            explained.append(found)
            continue
        explained.append(_with_protect(found, protect, matching))
    return explained
