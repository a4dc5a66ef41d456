"""What `repo unlock` changes on a registry for its window, as records a journal can keep.

A `WindowChange` is one immutability setting the window lifts and must put back: DTR's
`immutableTags` flag of the repository, or one enabled Harbor rule that selects it (disabled for
the window). It holds what restoring needs and nothing secret, so it is written to the journal
before anything changes and read back by `repo unlock --recover`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dtrctl.errors import UsageError

ChangeKind = Literal["repository_flag", "rule"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("repository_flag", "rule")


@dataclass(frozen=True)
class WindowChange:
    """One setting lifted for the window.

    `repository_flag`: DTR's `immutableTags` of `repository`, on before and after. `rule`:
    Harbor rule `rule_id` of project `project`, enabled before and after; `rule` is its body as
    Harbor listed it (to re-create it if it vanished meanwhile); `also_covers` names the other
    repositories of the project it selects, which are mutable for the window too.
    """

    kind: ChangeKind
    repository: str
    description: str
    project: str = ""
    rule_id: int | None = None
    rule: dict[str, Any] | None = None
    also_covers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The `changed` item of `repo unlock -o json` (the rule body stays in the journal)."""
        return {
            "kind": self.kind,
            "repository": self.repository,
            "rule_id": self.rule_id,
            "description": self.description,
            "also_covers": list(self.also_covers),
        }

    def to_journal(self) -> dict[str, Any]:
        return {**self.to_json(), "project": self.project, "rule": self.rule}

    @classmethod
    def from_journal(cls, body: Any) -> WindowChange:
        """Parse a journal entry; `UsageError` (naming nothing secret) when it is garbled."""
        if not isinstance(body, dict) or body.get("kind") not in CHANGE_KINDS:
            raise UsageError("an entry of the unlock journal has no known kind")
        rule_id, rule = body.get("rule_id"), body.get("rule")
        covers = body.get("also_covers", [])
        valid = (
            isinstance(body.get("repository"), str)
            and isinstance(body.get("description"), str)
            and isinstance(body.get("project", ""), str)
            and (rule_id is None or (isinstance(rule_id, int) and not isinstance(rule_id, bool)))
            and (rule is None or isinstance(rule, dict))
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
        )
