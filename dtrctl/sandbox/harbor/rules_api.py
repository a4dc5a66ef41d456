"""Immutable tag rules: `/api/v2.0/projects/{project_name_or_id}/immutabletagrules[/{id}]`.

As Harbor: the list is sorted by id and paged; a created rule is always enabled and its id is
only in the `Location` header (the body is empty); an identical rule is 409 CONFLICT; PUT either
toggles `disabled` (when it differs, ignoring everything else) or replaces the content, and its
body `id` must be the path's; the stored (unique) form of a rule holds the id its request
carried, so a PUT's content may equal another rule's (and collides, a 500, only with a rule
POSTed with that id in its body); kinds, decorations and patterns are stored unchecked.
Permissions (the sandbox's pick): maintainers, project admins and system admins may list rules;
only project admins and system admins may create, update or delete them.
"""

from __future__ import annotations

from typing import Any

from dtrctl.sandbox.exchange import Request, Response, json_response
from dtrctl.sandbox.harbor.conventions import (
    HarborError,
    denied,
    json_body,
    not_found,
    omit_empty,
    paged,
)
from dtrctl.sandbox.harbor.rule_records import RuleConflict, StoredRule
from dtrctl.sandbox.harbor.state import Caller, HarborState, Project

RESOURCE = "immutable-tag"


def rule_body(rule: StoredRule) -> dict[str, Any]:
    """A rule as Harbor answers it: `disabled` omitted when false, `priority` when 0."""

    def selectors(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        return [omit_empty(item) if isinstance(item, dict) else item for item in items]

    body = omit_empty(rule.as_dict())
    if "tag_selectors" in body:
        body["tag_selectors"] = selectors(body["tag_selectors"])
    if isinstance(body.get("scope_selectors"), dict):
        body["scope_selectors"] = {
            scope: selectors(items) for scope, items in body["scope_selectors"].items()
        }
    return body


def handle(
    state: HarborState, request: Request, caller: Caller | None, project: Project, rest: list[str]
) -> Response:
    method = request.method
    if not rest:
        if method == "GET":
            _require(state, caller, project, "list")
            page, headers = paged(request, state.rules(project))
            return json_response(200, [rule_body(rule) for rule in page], headers)
        if method == "POST":
            _require(state, caller, project, "create")
            return _create(state, request, project)
    elif len(rest) == 1:
        if method == "PUT":
            _require(state, caller, project, "update")
            return _update(state, request, project, _rule(state, project, rest[0]))
        if method == "DELETE":
            _require(state, caller, project, "delete")
            state.delete_rule(_rule(state, project, rest[0]))
            return Response(200)
    raise HarborError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {request.path}")


def _require(state: HarborState, caller: Caller | None, project: Project, action: str) -> None:
    if not state.can(caller, project, RESOURCE, action):
        raise denied(caller)


def _rule(state: HarborState, project: Project, value: str) -> StoredRule:
    rule = state.rule(project, int(value)) if value.isdigit() else None
    if rule is None:
        raise not_found(f"immutable rule {value} not found")
    return rule


def _conflict() -> HarborError:
    return HarborError(409, "CONFLICT", "immutable rule already exists")


def _create(state: HarborState, request: Request, project: Project) -> Response:
    try:
        rule = state.create_rule(project, json_body(request))
    except RuleConflict:
        raise _conflict() from None
    return Response(201, headers=[("Location", f"{request.path.rstrip('/')}/{rule.id}")])


def _update(state: HarborState, request: Request, project: Project, rule: StoredRule) -> Response:
    body = json_body(request)
    if body.get("id") != rule.id:
        raise HarborError(400, "BAD_REQUEST", "the rule id in the body must be the path's id")
    try:
        state.update_rule(project, rule, body)
    except RuleConflict:
        # Harbor's update turns no unique violation into a conflict (immutable/dao/dao.go), so
        # the database error is a 500, its text withheld (lib/http/error.go).
        raise HarborError(500, "UNKNOWN", "internal server error") from None
    return Response(200)
