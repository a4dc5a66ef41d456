"""`repo unlock` on Harbor through the CLI against a respx Harbor: a rule packing several
repositories is narrowed for the window (the exact PUT bodies, in order) and put back, with no
--yes needed; the plan says which rules are narrowed and which disabled."""

from __future__ import annotations

import json
import sys
from typing import Any

import httpx
import pytest

from dtrctl.backends.harbor.rules import canonical_rule
from dtrctl.repos import journal

pytestmark = pytest.mark.usefixtures("dtr_env")
PROJECT = "/api/v2.0/projects/engineering"
RULES = f"{PROJECT}/immutabletagrules"


def rule(rule_id: int, pattern: str) -> dict[str, Any]:
    body = {"id": rule_id, **canonical_rule("x").to_api()}
    body["scope_selectors"]["repository"][0]["pattern"] = pattern
    del body["disabled"]  # Harbor omits it when false
    return body


@pytest.fixture
def harbor(dtr, monkeypatch: pytest.MonkeyPatch):
    """Project `engineering` with repositories api, db, web and the rules given; PUTs update
    them as Harbor does (a differing `disabled` toggles, else the content is replaced)."""
    monkeypatch.setenv("DTRCTL_BACKEND", "harbor")
    rules: dict[int, dict[str, Any]] = {}
    dtr.get("/api/v2.0/systeminfo").respond(
        200, json={"auth_mode": "db_auth", "harbor_version": "v2.13.0-db1569ae"}
    )
    dtr.get(f"{PROJECT}/repositories/api").respond(200, json={"name": "engineering/api"})
    dtr.get(f"{PROJECT}/repositories").respond(
        200, json=[{"name": f"engineering/{name}"} for name in ("api", "db", "web")]
    )
    dtr.get(RULES).mock(side_effect=lambda request: httpx.Response(200, json=list(rules.values())))

    def put(request: httpx.Request, rule_id: str) -> httpx.Response:
        body, stored = json.loads(request.content), rules[int(rule_id)]
        if body.get("disabled", False) != stored.get("disabled", False):
            stored["disabled"] = body["disabled"]
        else:
            rules[int(rule_id)] = {**body, "disabled": stored.get("disabled", False)}
        return httpx.Response(200)

    dtr.route(name="put", method="PUT", path__regex=rf"{RULES}/(?P<rule_id>\d+)").mock(
        side_effect=put
    )
    return rules


def test_a_packed_rule_is_narrowed_for_the_window_and_put_back(dtr, cli, harbor) -> None:
    harbor[3] = rule(3, "{api,db,web}")
    command = [sys.executable, "-c", "import sys; sys.exit(0)"]
    result = cli("repo", "unlock", "engineering/api", "--reason", "r", "-o", "json", "--", *command)
    assert result.exit_code == 0, result.stderr  # no --yes: nothing else is opened
    sent = [json.loads(call.request.content) for call in dtr.routes["put"].calls]
    narrowed = {**rule(3, "{db,web}"), "disabled": False}
    assert sent == [narrowed, {**rule(3, "{api,db,web}"), "disabled": False}]
    assert [call.request.url.path for call in dtr.routes["put"].calls] == [f"{RULES}/3"] * 2
    assert harbor[3]["scope_selectors"]["repository"][0]["pattern"] == "{api,db,web}"
    [changed] = result.json()["changed"]
    assert changed["action"] == "narrow" and changed["narrowed_to"] == "{db,web}"
    assert changed["also_covers"] == [] and changed["rule_id"] == 3
    assert "narrowed rule 3 of project engineering: {api,db,web} without api" in result.stderr
    assert journal.journal_files() == []


def test_a_glob_rule_is_disabled_and_the_plan_says_which(dtr, cli, harbor) -> None:
    harbor[3] = rule(3, "{api,db}")
    harbor[4] = rule(4, "*")
    result = cli("repo", "unlock", "engineering/api", "--reason", "r", "--yes", "--", "true")
    assert result.exit_code == 0, result.stderr
    assert "narrowed rule 3 of project engineering: {api,db} without api" in result.stderr
    assert "disabled rule 4 (repository repoMatches '*', tag matches '**')" in result.stderr
    assert "also cover engineering/db, engineering/web" in result.stderr
    sent = [json.loads(call.request.content) for call in dtr.routes["put"].calls]
    assert [
        (body["id"], body["disabled"], body["scope_selectors"]["repository"][0]["pattern"])
        for body in sent
    ] == [
        (3, False, "{db}"),
        (4, True, "*"),
        (4, False, "*"),  # restored last lifted first
        (3, False, "{api,db}"),
    ]
