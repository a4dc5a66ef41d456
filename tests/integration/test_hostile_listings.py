"""The installed `dtrctl` lists completely or fails (exit 5), never silently short or forever:
behind a proxy that drops the paging headers, and against servers whose pages never end, repeat
themselves, are oversized or carry a malformed total."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.cli.conftest import repository_body
from tests.integration import hostile
from tests.integration.conftest import Run, run_dtrctl

pytestmark = pytest.mark.integration

ADMIN = {"DTRCTL_USERNAME": "admin", "DTRCTL_PASSWORD": "sandbox-admin-password"}
HARBOR = {**ADMIN, "DTRCTL_BACKEND": "harbor"}
# A listing of a server that never ends stops within this (on loopback).
NEVER_ENDING_SECONDS = 60
# 150 repositories: two pages of 100; the one that drifts is on the second.
FLEET = 150
DRIFTING = 140


def audit(url: str, env: dict[str, str]) -> Run:
    return run_dtrctl("--url", url, "--retries", "0", "repo", "audit", "fleet/*", env=env)


def assert_exit_5(run: Run, message: str) -> None:
    assert run.code == 5, (run.stdout, run.stderr)
    assert message in run.stderr
    assert "Traceback" not in run.stderr


@pytest.fixture
def harbor_fleet() -> Iterator[SandboxServer]:
    """Project `fleet`: 150 repositories, every one immutable by a rule but `app-140`."""
    with SandboxServer(flavor="harbor", seed="demo") as server:
        state = server.state
        state.add_project("fleet")  # type: ignore[attr-defined]
        for index in range(FLEET):
            state.add_project_repository("fleet", f"app-{index:03d}")  # type: ignore[attr-defined]
        rule = {
            "action": "immutable",
            "template": "immutable_template",
            "scope_selectors": {
                "repository": [
                    {"kind": "doublestar", "decoration": "repoExcludes", "pattern": "app-140"}
                ]
            },
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        }
        state.create_rule(state.project("fleet"), rule)  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def dtr_fleet() -> Iterator[SandboxServer]:
    """Namespace `fleet`: 150 immutable repositories but `repo-000140`."""
    server = SandboxServer().start()
    server.state.seed_repositories(FLEET, namespaces=("fleet",), immutable_every=1)
    server.state.update_repository("fleet", f"repo-{DRIFTING:06d}", immutable=False)
    yield server
    server.stop()


class TestAProxyDroppingPagingHeaders:
    def test_harbor_is_asked_page_by_page_and_the_drift_on_page_2_found(self, harbor_fleet):
        assert audit(harbor_fleet.url, HARBOR).code == 1  # directly: the drift is found
        dropping = hostile.relay(harbor_fleet.url, frozenset({"Link", "X-Total-Count"}))
        with hostile.serving(dropping) as proxy:
            run = audit(proxy.url, HARBOR)
            assert run.code == 1, (run.stdout, run.stderr)
            assert "fleet/app-140" in run.stdout
            listed = [r.target for r in proxy.requests if r.path.endswith("fleet/repositories")]
            assert [target.split("?", 1)[1] for target in listed] == [
                "page=1&page_size=100",
                "page=2&page_size=100",
            ]

    def test_dtr_without_its_cursor_is_an_error_never_the_first_page_alone(self, dtr_fleet):
        assert audit(dtr_fleet.url, ADMIN).code == 1  # directly: the drift is found
        with hostile.serving(
            hostile.relay(dtr_fleet.url, frozenset({"X-Next-Page-Start"}))
        ) as proxy:
            run = audit(proxy.url, ADMIN)
            # The total DTR counted on the first page shows what is missing.
            assert_exit_5(
                run,
                "the registry ended its pages (no X-Next-Page-Start header) after 100 of the "
                f"{FLEET} entries it counted (X-Resource-Count), so the listing is incomplete",
            )
            assert "A proxy in front of the registry may drop the X-Next-Page-Start" in run.stderr

    def test_dtr_without_its_cursor_nor_a_total_is_an_error_never_the_first_page_alone(
        self, dtr_fleet
    ):
        dropping = frozenset({"X-Next-Page-Start", "X-Resource-Count"})
        with hostile.serving(hostile.relay(dtr_fleet.url, dropping)) as proxy:
            run = audit(proxy.url, ADMIN)
            # A full page: one entry from its start would name a cursor; none comes through.
            assert_exit_5(
                run,
                "the registry sent a full page (100 entries) without an X-Next-Page-Start header",
            )
            assert "A proxy in front of the registry may drop the X-Next-Page-Start" in run.stderr

    def test_dtr_pages_ending_short_of_their_total_are_an_error(self):
        # A DTR whose first page is short (60 of 100 asked) and whose cursor a proxy dropped:
        # no full page to confirm, only the total it counted tells the listing is cut short.
        page = [repository_body("fleet", f"app-{index:03d}") for index in range(60)]
        answer = hostile.json_answer({"repositories": page}, {"X-Resource-Count": str(FLEET)})
        with hostile.serving(hostile.fixed(answer)) as server:
            run = run_dtrctl("--url", server.url, "--retries", "0", "repo", "list", env=ADMIN)
            assert_exit_5(run, f"after 60 of the {FLEET} entries it counted (X-Resource-Count)")
            assert "fleet/app-000" not in run.stdout


def harbor_projects(page: hostile.Behaviour) -> hostile.Behaviour:
    """A Harbor whose project list is `page`; every other question gets an empty object."""
    return hostile.routes({"/api/v2.0/projects": page}, hostile.fixed(hostile.json_answer({})))


class TestPagesThatNeverEnd:
    @pytest.mark.parametrize(
        ("behaviour", "env"),
        [
            (
                hostile.fresh_cursors(
                    lambda number: [repository_body(name=f"r{number}")], key="repositories"
                ),
                ADMIN,
            ),
            (
                harbor_projects(
                    hostile.numbered_pages(
                        lambda number: [{"name": f"p{number}", "project_id": number}],
                        lambda number: number + 1,
                    )
                ),
                HARBOR,
            ),
        ],
        ids=["dtr-fresh-cursors", "harbor-fresh-pages"],
    )
    def test_a_listing_that_never_ends_stops_at_the_page_bound(self, behaviour, env):
        with hostile.serving(behaviour) as server:
            started = time.monotonic()
            run = run_dtrctl("--url", server.url, "repo", "list", env=env)
            assert time.monotonic() - started < NEVER_ENDING_SECONDS
            assert_exit_5(run, "sent more than 10000 pages while trying to list")

    def test_a_repeated_harbor_page_is_refused_at_once(self):
        same = hostile.numbered_pages(
            lambda number: [{"name": "library", "project_id": 1}], lambda number: number + 1
        )
        with hostile.serving(harbor_projects(same)) as server:
            run = run_dtrctl("--url", server.url, "repo", "list", env=HARBOR)
            assert_exit_5(run, "Harbor sent the same page twice while trying to list projects")
            assert len([r for r in server.requests if r.path.endswith("/projects")]) == 2

    def test_a_next_link_back_to_a_page_read_is_refused(self):
        back = hostile.numbered_pages(
            lambda number: [{"name": f"p{number}", "project_id": number}], lambda number: 1
        )
        with hostile.serving(harbor_projects(back)) as server:
            run = run_dtrctl("--url", server.url, "repo", "list", env=HARBOR)
            assert_exit_5(run, "Harbor named page 1, already read, as the next page")


class TestMalformedPages:
    def test_an_oversized_page_of_rules_is_refused_not_read_into_memory(self):
        entries = 1_400_000  # 4 MiB of `{}`: each parses as an (empty) rule
        body = b"[" + b"{}," * (entries - 1) + b"{}]"
        link = '</api/v2.0/projects/fleet/immutabletagrules?page=2&page_size=10>; rel="next"'
        headers = {"Content-Length": str(len(body)), "Link": link}
        page = hostile.fixed(hostile.head(200, headers) + body)
        repository = hostile.fixed(hostile.json_answer({"name": "fleet/app"}))
        behaviour = hostile.routes(
            {"/immutabletagrules": page, "/repositories/app": repository},
            hostile.fixed(hostile.json_answer({"name": "fleet"})),
        )
        with hostile.serving(behaviour) as server:
            run = run_dtrctl("--url", server.url, "repo", "show", "fleet/app", env=HARBOR)
            assert_exit_5(run, f"Harbor sent {entries} entries on a page of at most 10")

    @pytest.mark.parametrize("total", ["\u00b2", "9" * 5000, "-1"])
    def test_a_malformed_total_count_is_exit_5_never_a_traceback(self, total):
        page = hostile.fixed(
            hostile.json_answer([{"name": "library", "project_id": 1}], {"X-Total-Count": total})
        )
        with hostile.serving(harbor_projects(page)) as server:
            run = run_dtrctl("--url", server.url, "repo", "list", env=HARBOR)
            assert_exit_5(run, "Harbor sent a malformed X-Total-Count header")
