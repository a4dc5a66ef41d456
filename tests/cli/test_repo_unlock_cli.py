"""`dtrctl repo unlock` through the CLI: the requests a DTR window sends, usage errors before
any request, `--recover` with nothing to do, and the warning other commands give."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from dtrctl.records.unlock import WindowChange
from dtrctl.repos import journal
from tests.cli.conftest import DTR_URL, repository_body

pytestmark = pytest.mark.usefixtures("dtr_env")
REPOSITORY_PATH = "/api/v0/repositories/engineering/api"


def stateful_repository(dtr, **settings):
    """GET and PATCH of engineering/api on a DTR that keeps what it is sent."""
    stored = repository_body(**settings)

    def patch(request: httpx.Request) -> httpx.Response:
        stored.update(json.loads(request.content))
        return httpx.Response(200, json=stored)

    dtr.get(REPOSITORY_PATH).mock(side_effect=lambda request: httpx.Response(200, json=stored))
    return dtr.patch(REPOSITORY_PATH).mock(side_effect=patch)


@pytest.mark.processes  # COMMAND is a Python process
def test_a_dtr_window_turns_the_flag_off_then_on_keeping_every_other_setting(dtr, cli):
    patch = stateful_repository(dtr, immutableTags=True, shortDescription="API", tagLimit=0)
    command = [sys.executable, "-c", "import sys; sys.exit(4)"]
    result = cli(
        "repo", "unlock", "engineering/api", "--reason", "INC-7", "-o", "json", "--", *command
    )
    assert result.exit_code == 4, result.stderr
    sent = [json.loads(call.request.content) for call in patch.calls]
    assert [(body["immutableTags"], body["shortDescription"]) for body in sent] == [
        (False, "API"),
        (True, "API"),
    ]
    assert result.json() == {
        "schema": "dtrctl/v1",
        "repository": "engineering/api",
        "reason": "INC-7",
        "changed": [
            {
                "kind": "repository_flag",
                "repository": "engineering/api",
                "rule_id": None,
                "description": "immutableTags of engineering/api (on before and after)",
                "also_covers": [],
                "action": "flag_off",
                "narrowed_to": None,
                "summary": "immutableTags of engineering/api (on before and after)",
            }
        ],
        "restored": True,
        "command_exit": 4,
        "error": None,
    }
    assert journal.journal_files() == []


@pytest.mark.parametrize(
    "args",
    [
        ("repo", "unlock", "engineering/api", "--", "true"),  # no --reason
        ("repo", "unlock", "engineering/api", "--reason", " ", "--", "true"),
        ("repo", "unlock", "engineering/api", "--reason", "r"),  # no command
        ("repo", "unlock", "--recover", "engineering/api"),
        ("repo", "unlock", "engineering/api", "--reason", "r", "--", "no-such-command-x"),
    ],
)
def test_bad_input_exits_2_before_any_request(dtr, cli, args):
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    assert not dtr.calls
    assert journal.journal_files() == []


def test_recover_without_windows_says_so(dtr, cli):
    result = cli("repo", "unlock", "--recover", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"schema": "dtrctl/v1", "recovered": [], "running": []}
    assert not dtr.calls


def test_other_commands_warn_while_a_window_is_open(dtr, cli):
    dtr.get(REPOSITORY_PATH).respond(200, json=repository_body())
    change = WindowChange("repository_flag", "engineering/web", "immutableTags of engineering/web")
    opened = journal.open_window(
        journal.Window(
            DTR_URL, "dtr", "engineering/web", "INC-9", "2026-12-07T10:00:00+00:00", 1, (change,)
        )
    )
    try:
        result = cli("repo", "show", "engineering/api")
        assert result.exit_code == 0, result.stderr
        assert (
            "Warning: a `dtrctl repo unlock` window is open on this registry: engineering/web"
            in result.stderr
        )
    finally:
        opened.close(remove=True)
    assert "window is open" not in cli("repo", "show", "engineering/api").stderr
