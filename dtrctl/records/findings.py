"""Problems of a registry's immutability setup beyond drift, for `dtrctl repo audit`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditFinding:
    """A problem of a namespace's immutability setup (Harbor: a rule Harbor cannot evaluate)."""

    namespace: str
    rule_id: int | None
    severity: str  # "error" fails the audit (exit 1); "warning" is reported only
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "rule_id": self.rule_id,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }
