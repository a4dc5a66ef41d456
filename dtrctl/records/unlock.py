"""What `repo unlock` changes on a registry for its window, as records a journal can keep.

A `WindowChange` is one immutability setting the window lifts and must put back: DTR's
`immutableTags` flag of the repository, or one enabled Harbor rule that selects it (disabled for
the window, or narrowed: its content without the repository's name). It holds what restoring
needs and nothing secret, so it is written to the journal before anything changes and read back
by `repo unlock --recover`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dtrctl.errors import UsageError

ChangeKind = Literal["repository_flag", "rule"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("repository_flag", "rule")
ChangeAction = Literal["flag_off", "disable", "narrow"]


@dataclass(frozen=True)
class WindowChange:
    """One setting lifted for the window.

    `repository_flag`: DTR's `immutableTags` of `repository`, on before and after. `rule`:
    Harbor rule `rule_id` of project `project`, enabled before and after; `rule` is its body as
    Harbor listed it (to re-create it if it vanished meanwhile, or to put its content back);
    `narrowed` is, for a rule narrowed rather than disabled, its body for the window (the same
    rule without the repository's name); `also_covers` names the other repositories of the
    project a disabled rule selects, which are mutable for the window too. `summary` is the
    plan's line for it (`disabled rule 3 ...`, `narrowed rule 7 ...`).
    """

    kind: ChangeKind
    repository: str
    description: str
    project: str = ""
    rule_id: int | None = None
    rule: dict[str, Any] | None = None
    also_covers: tuple[str, ...] = ()
    narrowed: dict[str, Any] | None = None
    summary: str = ""

    @property
    def action(self) -> ChangeAction:
        if self.kind == "repository_flag":
            return "flag_off"
        return "narrow" if self.narrowed is not None else "disable"

    def to_json(self) -> dict[str, Any]:
        """The `changed` item of `repo unlock -o json` (the rule bodies stay in the journal)."""
        return {
            "kind": self.kind,
            "repository": self.repository,
            "rule_id": self.rule_id,
            "description": self.description,
            "also_covers": list(self.also_covers),
            "action": self.action,
            "narrowed_to": _repository_pattern(self.narrowed),
            "summary": self.summary or self.description,
        }

    def to_journal(self) -> dict[str, Any]:
        return {
            **self.to_json(),
            "project": self.project,
            "rule": self.rule,
            "narrowed": self.narrowed,
            "summary": self.summary,  # as planned: reads back the same
        }

    @classmethod
    def from_journal(cls, body: Any) -> WindowChange:
        """Parse a journal entry; `UsageError` (naming nothing secret) when it is garbled."""
        if not isinstance(body, dict) or body.get("kind") not in CHANGE_KINDS:
            raise UsageError("an entry of the unlock journal has no known kind")
        rule_id, rule, narrowed = body.get("rule_id"), body.get("rule"), body.get("narrowed")
        covers = body.get("also_covers", [])
        valid = (
            isinstance(body.get("repository"), str)
            and isinstance(body.get("description"), str)
            and isinstance(body.get("project", ""), str)
            and (rule_id is None or (isinstance(rule_id, int) and not isinstance(rule_id, bool)))
            and (rule is None or isinstance(rule, dict))
            # A narrowed rule's original content is what restoring puts back: it must be there.
            and (narrowed is None or (isinstance(narrowed, dict) and isinstance(rule, dict)))
            and isinstance(body.get("summary", ""), str)
            and isinstance(covers, list)
            and all(isinstance(item, str) for item in covers)
        )
        if not valid or (body["kind"] == "rule" and (rule_id is None or not body.get("project"))):
            raise UsageError("an entry of the unlock journal is garbled")
        return cls(
            kind=body["kind"],
            repository=body["repository"],
            description=body["description"],
            project=body.get("project", ""),
            rule_id=rule_id,
            rule=rule,
            also_covers=tuple(covers),
            narrowed=narrowed,
            summary=body.get("summary", ""),
        )


def _repository_pattern(body: dict[str, Any] | None) -> str | None:
    """The first repository pattern of a rule body (None when there is none)."""
    try:
        pattern = body["scope_selectors"]["repository"][0]["pattern"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None
    return pattern if isinstance(pattern, str) else None
