"""The installed `dtrctl` against a sandbox DTR that fails the way networks and proxies do.

Every fault kind of the sandbox meets `repo show`, `repo set-immutable`, `repo create` and
`push-check`. A command either recovers (and `-v` shows the retry) or exits 5 with a one-line
reason and no traceback. A write DTR acted on is never sent again (a PATCH that timed out is
repeated with the same full settings, which changes nothing more), a bulk run reports exactly
what changed, a create whose answer is lost is looked up, not repeated, and `push-check` never
calls an existing tag "free".
Retry-After 0 and short timeouts keep each run to a fraction of a second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dtrctl.backends.dtr.api import DtrClient
from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.errors import ServerError
from dtrctl.reference import RepositoryName
from dtrctl.sandbox.faults import Fault
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import Run, run_dtrctl

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
# Short enough that a "slow" fault times out at once, long enough for a loaded CI machine.
TIMEOUT = "0.5"
SLOW_SECONDS = 2.0
# Polling bound for what the sandbox finishes after dtrctl gave up (a slow create).
SETTLE_SECONDS = 10.0

# Faults that leave a safe request worth repeating, and so are retried.
RECOVERABLE = {
    "503+retry-after": ("status", {"status": 503, "retry_after": 0}),
    "429+retry-after": ("status", {"status": 429, "retry_after": 0}),
    "504": ("status", {"status": 504}),
    "drop-start": ("drop", {"at": "start"}),
    "drop-headers": ("drop", {"at": "headers"}),
    "drop-body": ("drop", {"at": "body"}),
    "slow": ("slow", {"seconds": SLOW_SECONDS}),
    "html-502": ("html", {"status": 502}),
}
# Answers that arrived whole and are wrong: repeating would not help, the run says why.
GARBLED = {
    "truncated-json": ("truncated_json", {}),
    "wrong-json": ("wrong_json", {}),
    "empty": ("empty", {}),
    "html-500": ("html", {"status": 500}),
}


def environment(server: SandboxServer, user: tuple[str, str] = ADMIN) -> dict[str, str]:
    return {"DTRCTL_URL": server.url, "DTRCTL_USERNAME": user[0], "DTRCTL_PASSWORD": user[1]}


def dtrctl(server: SandboxServer, *args: str, **variables: str) -> Run:
    return run_dtrctl("-v", "--timeout", TIMEOUT, *args, env={**environment(server), **variables})


def inject(server: SandboxServer, fault: tuple[str, dict[str, Any]], **where: Any) -> Fault:
    kind, options = fault
    return server.state.inject_fault(kind, **where, **options)


def recovered(run: Run, code: int = 0) -> None:
    assert run.code == code, run.stderr
    assert "Traceback" not in run.stderr
    assert "(retry 1)" in run.stderr


def failed_cleanly(run: Run, code: int = 5) -> str:
    """Exit `code` with exactly one `Error:` line (a hint may follow), no traceback."""
    assert run.code == code, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, run.stderr
    assert len(errors[0]) > len("Error: ")
    return errors[0]


def sent(server: SandboxServer, method: str, path: str | None = None) -> int:
    return sum(
        1
        for request in server.state.requests
        if request.method == method and (path is None or request.path == path)
    )


# Reading a repository

API_PATH = "/api/v0/repositories/engineering/api"


@pytest.mark.parametrize("fault", RECOVERABLE.values(), ids=RECOVERABLE.keys())
def test_repo_show_recovers_from_what_a_retry_cures(sandbox, fault):
    inject(sandbox, fault, path_prefix=API_PATH)
    run = dtrctl(sandbox, "repo", "show", "engineering/api", "-o", "json")
    recovered(run)
    assert json.loads(run.stdout)["repository"]["repository"] == "engineering/api"
    assert sent(sandbox, "GET", API_PATH) == 2


@pytest.mark.parametrize("fault", GARBLED.values(), ids=GARBLED.keys())
def test_repo_show_fails_with_a_reason_on_a_garbled_answer(sandbox, fault):
    inject(sandbox, fault, path_prefix=API_PATH)
    run = dtrctl(sandbox, "repo", "show", "engineering/api")
    failed_cleanly(run)
    assert run.stdout == ""
    assert sent(sandbox, "GET", API_PATH) == 1


def test_a_burst_of_503_with_retry_after_is_waited_out(sandbox):
    sandbox.state.inject_fault("status", path_prefix=API_PATH, count=2, status=503, retry_after=0)
    run = dtrctl(sandbox, "repo", "show", "engineering/api")
    assert run.code == 0, run.stderr
    assert "(retry 1)" in run.stderr and "(retry 2)" in run.stderr
    assert sent(sandbox, "GET", API_PATH) == 3


def test_a_registry_that_stays_down_ends_after_the_retries_with_a_reason(sandbox):
    sandbox.state.inject_fault("status", path_prefix="/", count=50, status=503, retry_after=0)
    run = dtrctl(sandbox, "--retries", "2", "repo", "show", "engineering/api")
    assert "HTTP 503" in failed_cleanly(run)
    # One line per attempt under -v: the first try and two retries.
    assert run.stderr.count(f"> GET {sandbox.url}{API_PATH}") == 3
    assert "(retry 2)" in run.stderr and "(retry 3)" not in run.stderr
    assert sent(sandbox, "GET", API_PATH) == 3


@pytest.mark.parametrize("how", ["option", "environment"])
def test_retries_0_fails_fast(sandbox, how):
    sandbox.state.inject_fault("status", path_prefix="/", count=50, status=503, retry_after=0)
    if how == "option":
        run = dtrctl(sandbox, "--retries", "0", "repo", "show", "engineering/api")
    else:
        run = dtrctl(sandbox, "repo", "show", "engineering/api", DTRCTL_RETRIES="0")
    failed_cleanly(run)
    assert "(retry" not in run.stderr
    assert sent(sandbox, "GET") == 1


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between retries, recorded instead of slept."""
    from dtrctl.client import retry

    recorded: list[float] = []
    monkeypatch.setattr(retry, "sleep", recorded.append)
    return recorded


def read_repository(server: SandboxServer, options: TransportOptions) -> None:
    with build_http_client(options) as http:
        DtrClient(http, server.url, ADMIN).get_repository(RepositoryName("engineering", "api"))


def test_retry_after_is_waited_as_the_server_asks(sandbox, sleeps):
    sandbox.state.inject_fault("status", path_prefix=API_PATH, count=2, status=503, retry_after=7)
    read_repository(sandbox, TransportOptions(retries=3))
    assert sleeps == [7.0, 7.0]


def test_without_retry_after_the_waits_grow_with_jitter_and_stay_bounded(sandbox, sleeps):
    sandbox.state.inject_fault("status", path_prefix="/", count=50, status=503)
    with pytest.raises(ServerError):
        read_repository(sandbox, TransportOptions(retries=3))
    bounds = [0.5, 1.0, 2.0]
    assert len(sleeps) == 3
    assert all(0 <= wait <= bound for wait, bound in zip(sleeps, bounds, strict=True))


def test_the_retry_deadline_caps_the_total_wait(sandbox, sleeps):
    sandbox.state.inject_fault("status", path_prefix="/", count=50, status=503, retry_after=30)
    with pytest.raises(ServerError):
        read_repository(sandbox, TransportOptions(retries=10, retry_deadline=45))
    assert sleeps == [30.0, 15.0]
    assert sent(sandbox, "GET") == 3


# Changing immutability


@pytest.mark.parametrize(
    "fault",
    [RECOVERABLE[key] for key in ("503+retry-after", "drop-start", "drop-headers", "html-502")],
    ids=["503", "drop-start", "drop-headers", "html-502"],
)
def test_set_immutable_repeats_a_patch_dtr_never_got(sandbox, fault):
    inject(sandbox, fault, path_prefix=API_PATH, method="PATCH")
    run = dtrctl(sandbox, "repo", "set-immutable", "engineering/api", "-o", "json")
    recovered(run)
    assert [result["changed"] for result in json.loads(run.stdout)["results"]] == [True]
    assert sandbox.state.get_repository("engineering", "api").immutable
    assert sandbox.state.patch_count == 1


@pytest.mark.parametrize(
    "fault",
    [RECOVERABLE["drop-body"], GARBLED["truncated-json"], GARBLED["wrong-json"]],
    ids=["drop-body", "truncated-json", "wrong-json"],
)
def test_set_immutable_looks_instead_of_repeating_a_patch_dtr_acted_on(sandbox, fault):
    inject(sandbox, fault, path_prefix=API_PATH, method="PATCH")
    run = dtrctl(sandbox, "repo", "set-immutable", "engineering/api", "-o", "json")
    assert run.code == 0, run.stderr
    assert [result["changed"] for result in json.loads(run.stdout)["results"]] == [True]
    assert sandbox.state.get_repository("engineering", "api").immutable
    assert sent(sandbox, "PATCH") == sandbox.state.patch_count == 1


def test_set_immutable_reports_a_patch_dtr_did_not_apply_as_failed(sandbox):
    sandbox.state.inject_fault("empty", path_prefix=API_PATH, method="PATCH")
    run = dtrctl(sandbox, "repo", "set-immutable", "engineering/api")
    failed_cleanly(run)
    assert "engineering/api: failed" in run.stdout
    assert not sandbox.state.get_repository("engineering", "api").immutable
    assert sandbox.state.patch_count == 0


def test_a_slow_patch_is_repeated_with_the_same_full_settings(sandbox):
    sandbox.state.inject_fault("slow", path_prefix=API_PATH, method="PATCH", seconds=SLOW_SECONDS)
    run = dtrctl(sandbox, "repo", "set-immutable", "engineering/api", "-o", "json")
    recovered(run)
    assert [result["changed"] for result in json.loads(run.stdout)["results"]] == [True]
    assert sandbox.state.get_repository("engineering", "api").immutable
    first, repeated = (r.body for r in sandbox.state.requests if r.method == "PATCH")
    assert first == repeated


@pytest.fixture
def fleet() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    server.state.seed_repositories(24, namespaces=["ci"], immutable_every=4)
    yield server
    server.stop()


def immutable_names(server: SandboxServer) -> set[str]:
    return {
        f"ci/{repository.name}"
        for index in range(24)
        if (repository := server.state.get_repository("ci", f"repo-{index:06d}")) is not None
        and repository.immutable
    }


def test_a_bulk_run_under_faults_reports_exactly_what_changed(fleet):
    before = immutable_names(fleet)
    faults: list[tuple[str, dict[str, Any], int]] = [
        ("status", {"status": 503, "retry_after": 0}, 3),
        ("drop", {"at": "start"}, 2),
        ("drop", {"at": "body"}, 2),
        ("truncated_json", {}, 2),
        ("empty", {}, 2),
        ("html", {"status": 502}, 1),
    ]
    for kind, options, count in faults:
        fleet.state.inject_fault(
            kind, path_prefix="/api/v0/", method="PATCH", count=count, **options
        )
    # Six retryable faults: even one PATCH meeting them all would get through.
    run = dtrctl(
        fleet, "--retries", "6", "repo", "set-immutable", "ci/*", "--concurrency", "4", "-o", "json"
    )
    document = json.loads(run.stdout)
    changed = {r["repository"] for r in document["results"] if r["changed"]}
    failed = {r["repository"] for r in document["results"] if r["error"]}
    assert changed == immutable_names(fleet) - before
    # The two PATCHes answered with an empty 200 were not applied: they failed, and say so.
    assert len(failed) == 2
    assert not failed & immutable_names(fleet)
    assert {r["error"]["code"] for r in document["results"] if r["error"]} == {"server"}
    assert run.code == 1, run.stderr
    assert fleet.state.patch_count == len(changed) == 24 - len(before) - 2


# Creating a repository

NEW_PATH = "/api/v0/repositories/engineering"


def created_repository(server: SandboxServer) -> Any:
    return server.state.get_repository("engineering", "fresh")


@pytest.mark.parametrize(
    "fault",
    [RECOVERABLE["drop-body"], GARBLED["truncated-json"], GARBLED["wrong-json"]],
    ids=["drop-body", "truncated-json", "wrong-json"],
)
def test_a_create_whose_answer_is_lost_is_looked_up_not_repeated(sandbox, fault):
    inject(sandbox, fault, path_prefix=NEW_PATH, method="POST")
    run = dtrctl(sandbox, "repo", "create", "engineering/fresh", "--immutable", "-o", "json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["created"] is True
    assert created_repository(sandbox).immutable
    assert sent(sandbox, "POST") == 1
    assert sent(sandbox, "GET", f"{NEW_PATH}/fresh") == 1


@pytest.mark.parametrize(
    "fault",
    [
        RECOVERABLE["503+retry-after"],
        RECOVERABLE["drop-start"],
        RECOVERABLE["drop-headers"],
        GARBLED["empty"],
        GARBLED["html-500"],
    ],
    ids=["503", "drop-start", "drop-headers", "empty", "html-500"],
)
def test_a_create_that_did_not_happen_fails_and_is_not_repeated(sandbox, fault):
    inject(sandbox, fault, path_prefix=NEW_PATH, method="POST")
    run = dtrctl(sandbox, "repo", "create", "engineering/fresh", "--immutable")
    failed_cleanly(run)
    assert created_repository(sandbox) is None
    assert sent(sandbox, "POST") == 1


def test_a_create_slower_than_the_timeout_is_sent_once_and_reported_honestly(sandbox):
    sandbox.state.inject_fault("slow", path_prefix=NEW_PATH, method="POST", seconds=SLOW_SECONDS)
    run = dtrctl(sandbox, "repo", "create", "engineering/fresh", "--immutable")
    if run.code == 0:  # the look after the timeout came late enough to find it
        assert "engineering/fresh: created" in run.stdout
    else:
        assert "timed out" in failed_cleanly(run)
        assert "DTR may have created it all the same" in run.stderr
    deadline = time.monotonic() + SETTLE_SECONDS
    while created_repository(sandbox) is None and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the sandbox until its slow handler is done
    assert created_repository(sandbox).immutable
    assert sent(sandbox, "POST") == 1


# push-check: an existing tag of an immutable repository is a collision, never "free"

# Each tag meets the fault on a request of its own: its repository (with the user's access), its
# tag's details, its manifest GET. One run covers all three; the shared requests get their own.
OWN_REQUESTS = {
    "engineering/web:v1": {
        "path_prefix": "/api/v0/accounts/admin/repositoryAccess/engineering/web"
    },
    "library/nginx:1.25": {"path_prefix": "/api/v0/repositories/library/nginx/tags/"},
    "demo/hello:1.0": {"path_prefix": "/v2/demo/hello/manifests/", "method": "GET"},
}
SHARED_REQUESTS = {
    "registry-ping": {"path_prefix": "/v2/"},
    "token": {"path_prefix": "/auth/token"},
}
RETRIED_FAULTS = {
    key: RECOVERABLE[key] for key in ("503+retry-after", "drop-start", "drop-body", "slow")
}
GARBLED_FAULTS = {key: GARBLED[key] for key in ("truncated-json", "wrong-json", "empty")}


def verdicts(run: Run) -> list[str]:
    return [result["verdict"] for result in json.loads(run.stdout)["results"]]


@pytest.mark.parametrize("fault", RETRIED_FAULTS.values(), ids=RETRIED_FAULTS.keys())
def test_push_check_retries_every_request_a_fault_hits(sandbox, fault):
    sandbox.state.put_image("demo", "hello", "1.0")
    targets = (*OWN_REQUESTS.values(), *SHARED_REQUESTS.values())
    injected = [inject(sandbox, fault, **target) for target in targets]
    run = dtrctl(sandbox, "push-check", *OWN_REQUESTS, "-o", "json")
    assert [fault.remaining for fault in injected] == [0] * len(targets)
    recovered(run, code=1)
    assert verdicts(run) == ["collision"] * len(OWN_REQUESTS)


@pytest.mark.parametrize("targets", ["own", *SHARED_REQUESTS])
@pytest.mark.parametrize("fault", GARBLED_FAULTS.values(), ids=GARBLED_FAULTS.keys())
def test_push_check_facing_a_garbled_answer_never_says_free(sandbox, fault, targets):
    sandbox.state.put_image("demo", "hello", "1.0")
    hit = OWN_REQUESTS.values() if targets == "own" else [SHARED_REQUESTS[targets]]
    injected = [inject(sandbox, fault, **target) for target in hit]
    run = dtrctl(sandbox, "push-check", *OWN_REQUESTS, "-o", "json")
    assert [fault.remaining for fault in injected] == [0] * len(injected)
    assert "Traceback" not in run.stderr
    assert run.code in (1, 3, 5), run.stderr
    # Each tag is a collision, or the check says it could not complete: never "free".
    assert set(verdicts(run)) <= {"collision", "error"}
    assert ("error" in verdicts(run)) == (run.code != 1)


def test_push_check_with_the_registry_down_is_incomplete_not_free(sandbox):
    sandbox.state.inject_fault("status", path_prefix="/v2/", count=50, status=503, retry_after=0)
    run = dtrctl(
        sandbox, "--retries", "1", "push-check", "engineering/web:v1", "engineering/web:nope"
    )
    assert run.code == 5, run.stderr
    assert "Traceback" not in run.stderr
    assert [line.split()[0] for line in run.stdout.splitlines()] == ["error", "error"]


def test_an_absent_tag_is_still_free_after_a_retry(sandbox):
    sandbox.state.inject_fault("drop", path_prefix="/v2/engineering/web/manifests/", count=2)
    run = dtrctl(sandbox, "push-check", "engineering/web:v1", "engineering/web:nope", "-o", "json")
    recovered(run, code=1)
    assert verdicts(run) == ["collision", "free"]
