"""Fleet commands through the CLI: selections, safety, bulk results, audit and apply.

A small stateful fake of the DTR API (on respx) keeps repositories and records every request,
so tests can assert both what the user sees and what was (not) sent.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import respx

from dtrctl.cli import bulk_report, prompts
from dtrctl.repos import bulk
from tests.cli.conftest import repository_body

pytestmark = pytest.mark.usefixtures("dtr_env")

REPOSITORY_PATH = re.compile(r"^/api/v0/repositories/([^/]+)/([^/]+)$")
NAMESPACE_PATH = re.compile(r"^/api/v0/repositories/([^/]+)$")


def error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": code.lower()}]})


@dataclass
class FakeDtr:
    """Repositories by full name (API bodies), answering GET, list, POST and PATCH."""

    repositories: dict[str, dict[str, Any]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, full_name: str, **changes: Any) -> None:
        namespace, name = full_name.split("/")
        self.repositories[full_name] = repository_body(namespace, name, **changes)

    def sent(self, method: str) -> list[str]:
        return [path for sent_method, path in self.requests if sent_method == method]

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self.lock:
            self.requests.append((request.method, path))
            if path == "/api/v0/repositories":
                return self._page(request, list(self.repositories.values()))
            namespace_match = NAMESPACE_PATH.match(path)
            if namespace_match and request.method == "GET":
                namespace = namespace_match.group(1)
                bodies = [b for b in self.repositories.values() if b["namespace"] == namespace]
                return self._page(request, bodies)
            if namespace_match and request.method == "POST":
                body = json.loads(request.content)
                full_name = f"{namespace_match.group(1)}/{body['name']}"
                if full_name in self.repositories:
                    return error(400, "REPOSITORY_EXISTS")
                self.add(full_name, **{k: v for k, v in body.items() if k != "name"})
                return httpx.Response(201, json=self.repositories[full_name])
            matched = REPOSITORY_PATH.match(path)
            assert matched is not None
            full_name = "/".join(matched.groups())
            if full_name not in self.repositories:
                return error(404, "NO_SUCH_REPOSITORY")
            if request.method == "PATCH":
                if full_name in self.forbidden:
                    return error(403, "NOT_AUTHORIZED")
                self.repositories[full_name].update(json.loads(request.content))
            return httpx.Response(200, json=self.repositories[full_name])

    @staticmethod
    def _page(request: httpx.Request, bodies: list[dict[str, Any]]) -> httpx.Response:
        """Pages of pageSize, cursor = index, like DTR's X-Next-Page-Start."""
        size = int(request.url.params.get("pageSize", "10"))
        start = int(request.url.params.get("pageStart", "0"))
        headers = {"X-Next-Page-Start": str(start + size)} if start + size < len(bodies) else {}
        return httpx.Response(
            200, json={"repositories": bodies[start : start + size]}, headers=headers
        )


@pytest.fixture
def fake(dtr: respx.MockRouter) -> FakeDtr:
    registry = FakeDtr()
    dtr.route(path__startswith="/api/v0/repositories").mock(side_effect=registry.handle)
    return registry


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompts, "stdin_is_terminal", lambda: True)


# Selection


def test_namespace_pattern_lists_only_that_namespace_and_patches_only_mutable(fake, cli):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web", longDescription="keep me")
    fake.add("engineering/worker")
    fake.add("ci/builder")
    result = cli("repo", "set-immutable", "engineering/*", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [(r["repository"], r["changed"]) for r in result.json()["results"]] == [
        ("engineering/api", False),
        ("engineering/web", True),
        ("engineering/worker", True),
    ]
    assert fake.sent("GET")[0] == "/api/v0/repositories/engineering"
    assert "/api/v0/repositories" not in fake.sent("GET")
    # Already immutable per the listing: neither read again nor patched.
    assert "/api/v0/repositories/engineering/api" not in fake.sent("GET")
    assert sorted(fake.sent("PATCH")) == [
        "/api/v0/repositories/engineering/web",
        "/api/v0/repositories/engineering/worker",
    ]
    assert fake.repositories["engineering/web"]["longDescription"] == "keep me"
    assert fake.repositories["ci/builder"]["immutableTags"] is False


def test_exact_names_need_no_listing(fake, cli):
    fake.add("engineering/api")
    result = cli("repo", "set-immutable", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert fake.requests == [
        ("GET", "/api/v0/repositories/engineering/api"),
        ("PATCH", "/api/v0/repositories/engineering/api"),
    ]


def test_wildcard_namespace_follows_every_page_of_the_global_listing(fake, cli):
    for index in range(250):
        fake.add(f"team{index % 5}/app-{index:03d}", immutableTags=index % 2 == 0)
    fake.add("library/app-base")
    fake.add("library/tools")
    result = cli(
        "repo", "set-immutable", "*/app-*", "--exclude", "team0/*", "--dry-run", "-o", "json"
    )
    assert result.exit_code == 0, result.stderr
    document = result.json()
    selected = {r["repository"] for r in document["results"]}
    assert len(selected) == 201
    assert "library/app-base" in selected and "library/tools" not in selected
    assert not any(name.startswith("team0/") for name in selected)
    assert document["summary"]["changed"] == 101
    assert fake.sent("GET").count("/api/v0/repositories") == 3


def test_dry_run_prints_what_would_change_and_sends_no_change(fake, cli):
    fake.add("engineering/api", tagLimit=5)
    fake.add("engineering/web", immutableTags=True)
    result = cli("repo", "set-immutable", "engineering/api", "engineering/web", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "engineering/api: would become immutable (tag limit would be cleared: DTR treats it "
        "as exclusive)",
        "engineering/web: already immutable",
    ]
    assert "nothing was changed" in result.stderr
    assert fake.sent("PATCH") == []
    assert fake.repositories["engineering/api"]["immutableTags"] is False


def test_dry_run_json_marks_the_document(fake, cli):
    fake.add("engineering/api")
    result = cli("repo", "set-immutable", "engineering/*", "--dry-run", "-o", "json")
    document = result.json()
    assert document["dry_run"] is True and document["interrupted"] is False
    assert document["results"] == [
        {
            "repository": "engineering/api",
            "immutable": True,
            "changed": True,
            "tag_limit_cleared": False,
            "error": None,
        }
    ]
    assert fake.sent("PATCH") == []


def test_a_pattern_matching_nothing_is_reported(fake, cli):
    fake.add("engineering/api")
    result = cli("repo", "set-immutable", "engineering/*", "engineering/legacy-*")
    assert result.exit_code == 0
    assert "pattern 'engineering/legacy-*' matched no repository" in result.stderr


def test_a_selection_matching_nothing_exits_4(fake, cli):
    fake.add("engineering/api")
    result = cli("repo", "set-immutable", "engineering/x-*", "-o", "json")
    assert result.exit_code == 4
    assert result.json()["error"]["code"] == "not_found"


def test_no_selection_is_a_usage_error(fake, cli):
    result = cli("repo", "set-immutable")
    assert result.exit_code == 2
    assert "--namespace" in result.stderr
    assert fake.requests == []


def test_names_from_stdin_skip_blank_lines_and_comments(fake, cli):
    fake.add("engineering/api")
    fake.add("ci/builder")
    names = "# release repositories\n\nengineering/api\nci/builder  # builder\n"
    result = cli("repo", "set-immutable", "--from-file", "-", "-o", "json", input=names)
    assert result.exit_code == 0, result.stderr
    assert [r["repository"] for r in result.json()["results"]] == ["engineering/api", "ci/builder"]


def test_an_invalid_line_in_the_file_exits_2_naming_file_and_line(fake, cli, tmp_path: Path):
    names = tmp_path / "repos.txt"
    names.write_text("engineering/api\n\nengineering/*\n")
    result = cli("repo", "set-immutable", "--from-file", str(names))
    assert result.exit_code == 2
    assert f"{names}:3:" in result.stderr
    assert fake.requests == []


def test_a_missing_file_exits_2(fake, cli, tmp_path: Path):
    result = cli("repo", "set-immutable", "--from-file", str(tmp_path / "absent.txt"))
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


# Safety


def test_turning_many_off_without_yes_exits_2_before_any_change(fake, cli):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web", immutableTags=True)
    result = cli("repo", "set-immutable", "engineering/*", "--off")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert fake.requests == [("GET", "/api/v0/repositories/engineering")]


def test_turning_many_off_with_yes(fake, cli):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web", immutableTags=True)
    result = cli("repo", "set-immutable", "engineering/*", "--off", "--yes")
    assert result.exit_code == 0, result.stderr
    assert len(fake.sent("PATCH")) == 2
    assert "2 changed" in result.stderr


def test_turning_many_off_asks_on_a_terminal(fake, cli, terminal):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web", immutableTags=True)
    declined = cli("repo", "set-immutable", "engineering/*", "--off", input="n\n")
    assert declined.exit_code == 1
    assert (
        "Turn tag immutability off for 2 repositories (engineering/api, engineering/web)?"
        in declined.stderr
    )
    assert fake.sent("PATCH") == []
    accepted = cli("repo", "set-immutable", "engineering/*", "--off", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert len(fake.sent("PATCH")) == 2


def test_a_dry_run_off_needs_no_confirmation(fake, cli):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web", immutableTags=True)
    result = cli("repo", "set-immutable", "engineering/*", "--off", "--dry-run")
    assert result.exit_code == 0
    assert fake.sent("PATCH") == []


def test_failures_do_not_stop_the_others_and_are_all_listed(fake, cli):
    fake.add("engineering/api")
    fake.add("engineering/web")
    fake.add("engineering/worker")
    fake.forbidden = {"engineering/web", "engineering/worker"}
    result = cli("repo", "set-immutable", "engineering/*")
    assert result.exit_code == 1
    assert "engineering/api: now immutable" in result.stdout
    assert result.stderr.count("may not change the settings of repository") == 2
    assert "1 changed, 0 already immutable, 2 failed" in result.stderr
    assert fake.repositories["engineering/api"]["immutableTags"] is True


def test_all_failing_alike_exits_with_their_code(fake, cli):
    fake.add("engineering/api")
    fake.add("engineering/web")
    fake.forbidden = {"engineering/api", "engineering/web"}
    result = cli("repo", "set-immutable", "--namespace", "engineering")
    assert result.exit_code == 3


def test_an_interrupt_reports_what_changed_and_exits_130(fake, cli, monkeypatch):
    for index in range(6):
        fake.add(f"engineering/app-{index}")
    advance = bulk_report.BulkProgress.advance

    def interrupted_advance(self: bulk_report.BulkProgress, changed: bool, failed: bool) -> None:
        advance(self, changed, failed)
        raise KeyboardInterrupt  # Ctrl-C arrives while the first results come in

    monkeypatch.setattr(bulk_report.BulkProgress, "advance", interrupted_advance)
    result = cli("repo", "set-immutable", "engineering/*", "--concurrency", "2", "-o", "json")
    assert result.exit_code == 130
    document = result.json()
    assert document["interrupted"] is True
    changed = {r["repository"] for r in document["results"] if r["changed"]}
    patched = {path.removeprefix("/api/v0/repositories/") for path in fake.sent("PATCH")}
    # Requests in flight finished and are reported; nothing was submitted after the interrupt.
    assert changed == patched
    assert 1 <= len(changed) < 6
    assert document["summary"]["not_started"] == 6 - len(document["results"])
    now_immutable = {n for n, body in fake.repositories.items() if body["immutableTags"]}
    assert now_immutable == changed


def test_an_interrupt_in_text_mode_names_the_changed_repositories(fake, cli, monkeypatch):
    for index in range(3):
        fake.add(f"engineering/app-{index}")

    def interrupt(self: bulk_report.BulkProgress, changed: bool, failed: bool) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk_report.BulkProgress, "advance", interrupt)
    result = cli("repo", "set-immutable", "engineering/*", "--concurrency", "1")
    assert result.exit_code == 130
    assert "Interrupted: 1 of 3 repositories done" in result.stderr
    assert "Changed before the interrupt: engineering/app-0" in result.stderr
    assert "2 not started" in result.stderr


def test_a_change_in_flight_when_ctrl_c_lands_inside_submit_is_not_reported_unstarted(
    fake, dtr, cli, monkeypatch
):
    # Ctrl-C can land while the main thread is still in `submit` (starting the pool's thread)
    # and the worker already awaits its PATCH: that change may be made, so it is never counted
    # as "not started".
    for index in range(3):
        fake.add(f"engineering/app-{index}")
    arrived, release = threading.Event(), threading.Event()

    def held(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            arrived.set()
            release.wait(timeout=30)  # until the test ends: the answer never comes in time
        return fake.handle(request)

    dtr.route(path__startswith="/api/v0/repositories").mock(side_effect=held)

    class InterruptedInSubmit(bulk.ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            future = super().submit(*args, **kwargs)
            if arrived.wait(timeout=30):
                raise KeyboardInterrupt
            return future

    monkeypatch.setattr(bulk, "ThreadPoolExecutor", InterruptedInSubmit)
    monkeypatch.setattr(bulk, "IN_FLIGHT_GRACE_SECONDS", 0.05)
    try:
        result = cli("repo", "set-immutable", "engineering/*", "--concurrency", "1", "-o", "json")
    finally:
        release.set()
    assert result.exit_code == 130
    document = result.json()
    assert document["summary"]["not_started"] == 2
    [awaited] = document["results"]
    assert awaited["repository"] == "engineering/app-0"
    assert "may or may not be made" in awaited["error"]["message"]


def test_progress_lines_off_a_terminal_only_for_long_runs(fake, cli):
    for index in range(60):
        fake.add(f"ci/repo-{index:02d}")
    result = cli("repo", "set-immutable", "ci/*", "-o", "json")
    assert result.exit_code == 0
    progress = [line for line in result.stderr.splitlines() if line.startswith("progress:")]
    assert progress[0] == "progress: 6/60 repositories, 6 changed, 0 failed"
    assert len(progress) == 9
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    json.loads(result.stdout)
    short = cli("repo", "set-immutable", "ci/repo-00", "ci/repo-01", "--off")
    assert "progress:" not in short.stderr


# repo list


def test_list_with_patterns_exclusions_and_filter(fake, cli):
    fake.add("engineering/app-web", immutableTags=True)
    fake.add("engineering/app-worker")
    fake.add("engineering/app-old", immutableTags=True)
    fake.add("engineering/scratch")
    result = cli(
        "repo", "list", "engineering/app-*", "--exclude", "*/app-old", "--immutable", "-o", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert [r["repository"] for r in result.json()["repositories"]] == ["engineering/app-web"]


def test_list_text_summarises_on_stderr(fake, cli):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web")
    fake.add("ci/builder")
    result = cli("repo", "list", "--namespace", "engineering")
    assert result.exit_code == 0
    assert "engineering/web" in result.stdout and "ci/builder" not in result.stdout
    assert result.stderr.strip().endswith("2 repositories, 1 mutable")


def test_list_exact_names_reads_them_without_a_listing(fake, cli):
    fake.add("engineering/api")
    result = cli("repo", "list", "engineering/api", "-o", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1] == "engineering/api,false,private,0,"
    assert fake.requests == [("GET", "/api/v0/repositories/engineering/api")]


def test_list_of_a_missing_exact_name_exits_4(fake, cli):
    result = cli("repo", "list", "engineering/gone")
    assert result.exit_code == 4


# repo audit


def test_audit_exits_1_listing_drift(fake, cli):
    fake.add("engineering/release-api")
    fake.add("engineering/release-web", immutableTags=True)
    fake.add("engineering/scratch")
    result = cli("repo", "audit", "--require-immutable", "engineering/release-*", "-o", "json")
    assert result.exit_code == 1
    assert result.json() == {
        "schema": "dtrctl/v1",
        "ok": False,
        "checked": 2,
        "drift": [
            {
                "repository": "engineering/release-api",
                "immutable": False,
                "rule": "engineering/release-*",
                "fixed": False,
            }
        ],
        "fix": None,
    }
    # No selection: what the rules name, listed by namespace only.
    assert fake.sent("GET") == ["/api/v0/repositories/engineering"]
    assert fake.sent("PATCH") == []


def test_audit_checks_the_selection_against_the_rules(fake, cli):
    fake.add("engineering/release-api")
    fake.add("engineering/scratch")
    result = cli("repo", "audit", "engineering/*", "--require-immutable", "*/release-*")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Drift: 1 of 2 checked repositories must be immutable but are not:",
        "  engineering/release-api (required by */release-*)",
    ]


def test_audit_without_drift_exits_0(fake, cli):
    fake.add("engineering/api", immutableTags=True)
    result = cli("repo", "audit")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: 1 repositories checked")


def test_audit_writes_junit(fake, cli, tmp_path: Path):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web")
    report = tmp_path / "audit.xml"
    result = cli("repo", "audit", "--namespace", "engineering", "--junit", str(report))
    assert result.exit_code == 1
    cases = ElementTree.parse(report).getroot().findall("testsuite/testcase")
    assert [(case.get("name"), case.find("failure") is not None) for case in cases] == [
        ("engineering/api", False),
        ("engineering/web", True),
    ]


def test_audit_fix_turns_immutability_on_for_the_drift_only(fake, cli):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web", tagLimit=3)
    fake.add("engineering/worker")
    result = cli("repo", "audit", "engineering/*", "--fix", "-o", "json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["ok"] is True
    assert [item["fixed"] for item in document["drift"]] == [True, True]
    assert document["fix"]["summary"]["changed"] == 2
    assert sorted(fake.sent("PATCH")) == [
        "/api/v0/repositories/engineering/web",
        "/api/v0/repositories/engineering/worker",
    ]
    assert fake.repositories["engineering/web"]["tagLimit"] == 0


def test_audit_fix_dry_run_changes_nothing_and_still_reports_drift(fake, cli):
    fake.add("engineering/web")
    result = cli("repo", "audit", "engineering/*", "--fix", "--dry-run")
    assert result.exit_code == 1
    assert "engineering/web: would become immutable" in result.stdout
    assert fake.sent("PATCH") == []


def test_audit_fix_asks_on_a_terminal(fake, cli, terminal):
    fake.add("engineering/web")
    fake.add("engineering/worker")
    result = cli("repo", "audit", "engineering/*", "--fix", input="n\n")
    assert result.exit_code == 1
    assert fake.sent("PATCH") == []


def test_audit_dry_run_without_fix_is_a_usage_error(fake, cli):
    assert cli("repo", "audit", "--dry-run").exit_code == 2
    assert fake.requests == []


# apply

POLICY = """\
[defaults]
immutable = true

[[repository]]
name = "engineering/api"
description = "API service"

[[repository]]
name = "engineering/web"
visibility = "public"

[[repository]]
name = "engineering/done"
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    return path


def test_apply_prints_the_plan_then_applies_it(fake, cli, policy_file):
    fake.add("engineering/web", longDescription="keep me", tagLimit=4)
    fake.add("engineering/done", immutableTags=True)
    result = cli("apply", "-f", str(policy_file), "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:9] == [
        "+ create engineering/api",
        "    immutable = true",
        '    visibility = "private"',
        '    description = "API service"',
        "~ update engineering/web",
        "    immutable: false → true",
        '    visibility: "private" → "public"',
        "    tag_limit: 4 → 0",
        "Plan: 1 to create, 1 to update, 1 unchanged.",
    ]
    assert "Applied: 1 created, 1 updated, 1 unchanged, 0 failed." in result.stderr
    assert fake.repositories["engineering/api"]["shortDescription"] == "API service"
    assert fake.repositories["engineering/api"]["immutableTags"] is True
    web = fake.repositories["engineering/web"]
    assert (web["immutableTags"], web["visibility"], web["longDescription"]) == (
        True,
        "public",
        "keep me",
    )
    assert fake.sent("POST") == ["/api/v0/repositories/engineering"]
    assert fake.sent("PATCH") == ["/api/v0/repositories/engineering/web"]


def test_apply_refuses_a_policy_over_1_mib_before_contacting_dtr(fake, cli, tmp_path):
    policy = tmp_path / "huge.toml"
    policy.write_text("# padding\n" * 120_000, encoding="utf-8")
    result = cli("apply", "-f", str(policy))
    assert result.exit_code == 2
    assert str(policy) in result.stderr
    assert not fake.sent("GET")


def test_apply_twice_changes_nothing_the_second_time(fake, cli, policy_file):
    assert cli("apply", "-f", str(policy_file), "--yes").exit_code == 0
    fake.requests.clear()
    again = cli("apply", "-f", str(policy_file), "-o", "json")
    assert again.exit_code == 0
    assert {change["action"] for change in again.json()["plan"]} == {"unchanged"}
    assert fake.sent("POST") == [] and fake.sent("PATCH") == []


def test_apply_dry_run_prints_the_plan_only(fake, cli, policy_file):
    result = cli("apply", "-f", str(policy_file), "--dry-run", "-o", "json")
    assert result.exit_code == 0
    document = result.json()
    assert document["dry_run"] is True
    assert [change["action"] for change in document["plan"]] == ["create"] * 3
    assert document["results"] == []
    assert fake.sent("POST") == [] and fake.sent("PATCH") == []


def test_an_invalid_policy_exits_2_naming_file_and_line(fake, cli, tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('[[repository]]\nname = "engineering/api"\nimmutable = "yes"\n')
    result = cli("apply", "-f", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: repository engineering/api: immutable must be true or false" in (
        result.stderr
    )
    assert fake.requests == []


def test_apply_turning_many_off_needs_yes(fake, cli, tmp_path: Path):
    fake.add("engineering/api", immutableTags=True)
    fake.add("engineering/web", immutableTags=True)
    path = tmp_path / "off.toml"
    path.write_text(
        "[defaults]\nimmutable = false\n"
        '[[repository]]\nname = "engineering/api"\n[[repository]]\nname = "engineering/web"\n'
    )
    refused = cli("apply", "-f", str(path))
    assert refused.exit_code == 2
    assert fake.sent("PATCH") == []
    accepted = cli("apply", "-f", str(path), "--yes")
    assert accepted.exit_code == 0
    assert len(fake.sent("PATCH")) == 2


def test_apply_partial_failure_exits_1(fake, cli, policy_file):
    fake.add("engineering/web")
    fake.add("engineering/done")
    fake.forbidden = {"engineering/web"}
    result = cli("apply", "-f", str(policy_file), "-o", "json", "--yes")
    assert result.exit_code == 1
    actions = {r["repository"]: r["action"] for r in result.json()["results"]}
    assert actions == {
        "engineering/api": "created",
        "engineering/web": "failed",
        "engineering/done": "updated",
    }


def test_progress_bar_on_a_terminal_keeps_stdout_clean(fake, cli, monkeypatch):
    from dtrctl.cli.output import Output

    monkeypatch.setattr(Output, "stderr_is_terminal", property(lambda self: True))
    for index in range(60):
        fake.add(f"ci/repo-{index:02d}")
    result = cli("repo", "set-immutable", "ci/*", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["changed"] == 60
    assert "progress:" not in result.stderr
