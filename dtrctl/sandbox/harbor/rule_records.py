"""Immutable tag rules as Harbor stores them: the content it keeps (`params` and `extras`
dropped, nothing validated) and the `tag_filter` column it keeps unique per project."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Stored with a rule; `params` and `extras` are dropped.
_RULE_FIELDS = ("priority", "action", "template", "tag_selectors", "scope_selectors")
_SELECTOR_FIELDS = ("kind", "decoration", "pattern")


@dataclass
class StoredRule:
    id: int
    project_id: int
    disabled: bool
    content: dict[str, Any]
    # Harbor's `tag_filter` column, unique per project (see `tag_filter`).
    tag_filter: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "disabled": self.disabled, **self.content}


def rule_content(body: dict[str, Any]) -> dict[str, Any]:
    """The part of a rule Harbor stores, whatever its types: it validates almost nothing."""
    content = {name: body[name] for name in _RULE_FIELDS if body.get(name) is not None}

    def selector(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {name: value[name] for name in _SELECTOR_FIELDS if name in value}

    if isinstance(content.get("tag_selectors"), list):
        content["tag_selectors"] = [selector(item) for item in content["tag_selectors"]]
    if isinstance(content.get("scope_selectors"), dict):
        content["scope_selectors"] = {
            scope: [selector(item) for item in items] if isinstance(items, list) else items
            for scope, items in content["scope_selectors"].items()
        }
    return content


def tag_filter(project_id: int, rule_id: int, disabled: bool, content: dict[str, Any]) -> str:
    """What Harbor stores and keeps unique per project (`UNIQUE (project_id, tag_filter)`): the
    rule re-serialized as its model.Metadata, so a missing field is its Go zero value (`priority`
    0, `action` ""), and the `id` and `disabled` the request carried count too."""

    def selector(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {name: value.get(name, "") for name in _SELECTOR_FIELDS}

    scopes = content.get("scope_selectors")
    if isinstance(scopes, dict):
        scopes = {
            scope: [selector(item) for item in items] if isinstance(items, list) else items
            for scope, items in scopes.items()
        }
    tags = content.get("tag_selectors")
    metadata = {
        "id": rule_id,
        "project_id": project_id,
        "disabled": disabled,
        "priority": content.get("priority") or 0,
        "action": content.get("action") or "",
        "template": content.get("template") or "",
        "tag_selectors": [selector(item) for item in tags] if isinstance(tags, list) else tags,
        "scope_selectors": scopes,
    }
    return json.dumps(metadata, sort_keys=True)


def body_id(body: dict[str, Any]) -> int:
    value = body.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class RuleConflict(Exception):
    """An identical rule exists in the project."""
