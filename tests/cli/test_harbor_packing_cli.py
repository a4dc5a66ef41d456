"""dtrctl's packed Harbor rules through the CLI against respx: the exact requests that edit a
packed rule, a write whose answer was lost, and the packing shown by `apply --dry-run`."""

from __future__ import annotations

import json

import httpx
import pytest

from dtrctl.backends.harbor.packing import packed_rule
from tests.cli.test_harbor_cli import RULES, on_harbor, rule  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("dtr_env")


def packed(rule_id: int, *names: str) -> dict[str, object]:
    return packed_rule(names, rule_id).to_api()


def test_on_puts_the_name_into_dtrctl_s_packed_rule(on_harbor, cli):  # noqa: F811
    listing = on_harbor.get(RULES)
    listing.side_effect = [
        httpx.Response(200, json=[rule(2, "team/**", "v*"), packed(5, "b", "c")]),
        httpx.Response(200, json=[rule(2, "team/**", "v*"), packed(5, "app", "b", "c")]),
    ]
    put = on_harbor.put(f"{RULES}/5").respond(200)
    post = on_harbor.post(RULES)
    result = cli("repo", "set-immutable", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["results"][0]["changed"] is True
    request = put.calls.last.request
    assert request.headers["X-Is-Resource-Name"] == "true"
    assert json.loads(request.content) == packed(5, "app", "b", "c")
    assert put.call_count == 1 and not post.called


def test_off_of_the_last_name_deletes_the_packed_rule(on_harbor, cli):  # noqa: F811
    listing = on_harbor.get(RULES)
    listing.side_effect = [
        httpx.Response(200, json=[packed(5, "app")]),
        httpx.Response(200, json=[]),
    ]
    delete = on_harbor.delete(f"{RULES}/5").respond(200)
    put = on_harbor.put(f"{RULES}/5")
    result = cli("repo", "set-immutable", "library/app", "--off", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert delete.call_count == 1 and not put.called


def test_off_takes_one_name_out_by_a_put(on_harbor, cli):  # noqa: F811
    listing = on_harbor.get(RULES)
    listing.side_effect = [
        httpx.Response(200, json=[packed(5, "app", "b")]),
        httpx.Response(200, json=[packed(5, "b")]),
    ]
    put = on_harbor.put(f"{RULES}/5").respond(200)
    result = cli("repo", "set-immutable", "library/app", "--off", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(put.calls.last.request.content) == packed(5, "b")


def test_a_put_whose_answer_was_lost_is_judged_by_the_rules_read_after(on_harbor, cli):  # noqa: F811
    listing = on_harbor.get(RULES)
    before = [packed(5, "b")]
    listing.side_effect = [httpx.Response(200, json=before), httpx.Response(200, json=before)]
    on_harbor.put(f"{RULES}/5").mock(side_effect=httpx.ReadTimeout("lost"))
    result = cli("repo", "set-immutable", "library/app", "-o", "json")
    assert result.exit_code == 5
    error = result.json()["results"][0]["error"]
    assert "may not have applied" in error["message"]


def test_a_lost_put_that_was_applied_is_a_success(on_harbor, cli):  # noqa: F811
    listing = on_harbor.get(RULES)
    listing.side_effect = [
        httpx.Response(200, json=[packed(5, "b")]),
        httpx.Response(200, json=[packed(5, "app", "b")]),
    ]
    on_harbor.put(f"{RULES}/5").mock(side_effect=httpx.ReadTimeout("lost"))
    result = cli("repo", "set-immutable", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["results"][0]["changed"] is True


def test_a_foreign_rule_of_the_packed_shape_but_unsorted_is_never_edited(on_harbor, cli):  # noqa: F811
    listing = on_harbor.get(RULES)
    foreign = rule(5, "{c,b}")
    listing.side_effect = [
        httpx.Response(200, json=[foreign]),
        httpx.Response(200, json=[foreign, {"id": 6, **packed_rule(["app"]).to_api()}]),
    ]
    post = on_harbor.post(RULES).respond(201, headers={"Location": f"{RULES}/6"})
    put = on_harbor.put(f"{RULES}/5")
    result = cli("repo", "set-immutable", "library/app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert not put.called
    # A lone name: the canonical rule.
    assert json.loads(post.calls.last.request.content)["scope_selectors"]["repository"] == [
        {"kind": "doublestar", "decoration": "repoMatches", "pattern": "app"}
    ]


def test_apply_dry_run_shows_the_packing_and_writes_nothing(on_harbor, cli, tmp_path):  # noqa: F811
    for name in ("b", "c"):
        on_harbor.get(f"/api/v2.0/projects/library/repositories/{name}").respond(
            200, json={"name": f"library/{name}"}
        )
    on_harbor.get(RULES).respond(200, json=[rule(3, "app")])
    post, put, delete = (
        on_harbor.post(RULES),
        on_harbor.put(f"{RULES}/3"),
        on_harbor.delete(f"{RULES}/3"),
    )
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "[defaults]\nimmutable = true\n"
        + "".join(f'[[repository]]\nname = "library/{n}"\n' for n in ("app", "b", "c"))
    )
    result = cli("apply", "-f", str(policy), "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["rules"] == [
        {
            "project": "library",
            "key": "new rule 1",
            "rule_id": None,
            "action": "create",
            "repositories": ["app", "b", "c"],
            "added": ["app", "b", "c"],
            "removed": [],
            "disabled_twin": False,
        },
        {
            "project": "library",
            "key": "rule 3",
            "rule_id": 3,
            "action": "delete",
            "repositories": [],
            "added": [],
            "removed": ["app"],
            "disabled_twin": False,
        },
    ]
    assert not (post.called or put.called or delete.called)
    text = cli("apply", "-f", str(policy), "--dry-run")
    assert "rules library: new rule 1 create, 3 repositories (+3): app, b, c\n" in text.stdout
    assert "rules library: rule 3 delete (-1: app)\n" in text.stdout


def disabled_packed(rule_id: int, *names: str) -> dict[str, object]:
    return {**packed(rule_id, *names), "disabled": True}


def test_a_disabled_identical_packed_rule_is_enabled_by_one_put_not_created(
    on_harbor,  # noqa: F811
    cli,
    tmp_path,
):
    for name in ("app", "b"):
        on_harbor.get(f"/api/v2.0/projects/library/repositories/{name}").respond(
            200, json={"name": f"library/{name}"}
        )
    put = on_harbor.put(f"{RULES}/5").respond(200)
    on_harbor.get(RULES).mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=[
                rule(2, "team/**", "v*"),
                packed(5, "app", "b") if put.called else disabled_packed(5, "app", "b"),
            ],
        )
    )
    post = on_harbor.post(RULES)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "[defaults]\nimmutable = true\n"
        + "".join(f'[[repository]]\nname = "library/{n}"\n' for n in ("app", "b"))
    )
    preview = cli("apply", "-f", str(policy), "--dry-run")
    assert preview.exit_code == 0, preview.stderr
    assert (
        "rules library: rule 5 enable (disabled, identical), 2 repositories (+2): app, b\n"
        in preview.stdout
    )
    planned = cli("apply", "-f", str(policy), "--dry-run", "-o", "json").json()["rules"]
    assert [(i["key"], i["action"], i["disabled_twin"]) for i in planned] == [
        ("rule 5", "enable", True)
    ]
    assert not (put.called or post.called)
    result = cli("apply", "-f", str(policy), "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert not post.called and put.call_count == 1
    # A toggle: only `disabled` differs from the stored rule, so Harbor enables it.
    assert json.loads(put.calls.last.request.content) == packed(5, "app", "b")
