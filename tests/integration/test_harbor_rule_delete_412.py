"""A Harbor that answers 412 to an immutability rule delete: a conflict (exit 1), not a usage
error, through the installed dtrctl against a Harbor-speaking server on loopback."""

from __future__ import annotations

import json

import pytest

from dtrctl.backends.harbor.rules import canonical_rule
from tests.integration.conftest import run_dtrctl
from tests.integration.hostile import Connection, Request, json_answer, serving

pytestmark = pytest.mark.integration

RULES = "/api/v2.0/projects/library/immutabletagrules"


def refusing_harbor(request: Request, connection: Connection) -> None:
    """Project library holds dtrctl's rule 5 for `app`; deleting it is refused with 412."""
    if request.method == "GET" and request.path == "/api/v2.0/systeminfo":
        connection.send(json_answer({"harbor_version": "v2.11.0-a1b2c3d4"}))
    elif request.method == "GET" and request.path == RULES:
        rule = {"id": 5, **canonical_rule("app").to_api()}
        connection.send(json_answer([rule], {"X-Total-Count": "1"}))
    elif request.method == "DELETE" and request.path == f"{RULES}/5":
        error = {"code": "PRECONDITION", "message": "the rule cannot be deleted now"}
        connection.send(json_answer({"errors": [error]}, status=412))
    else:
        error = {"code": "NOT_FOUND", "message": "not found"}
        connection.send(json_answer({"errors": [error]}, status=404))


def test_a_412_on_a_rule_delete_is_a_conflict_saying_why() -> None:
    with serving(refusing_harbor) as server:
        env = {
            "DTRCTL_URL": server.url,
            "DTRCTL_BACKEND": "harbor",
            "DTRCTL_USERNAME": "admin",
            "DTRCTL_PASSWORD": "harbor-password",
        }
        run = run_dtrctl(
            "-o", "json", "repo", "set-immutable", "library/app", "--off", "--yes", env=env
        )
    assert run.code == 1, run.stderr
    document = json.loads(run.stdout)
    [result] = document["results"]
    assert result["error"]["code"] == "conflict"
    assert result["error"]["status"] == 412
    assert (
        "Harbor refused to delete immutability rule 5 of project library: a precondition "
        "failed (HTTP 412), so the rule stays: the rule cannot be deleted now"
    ) in result["error"]["message"]
