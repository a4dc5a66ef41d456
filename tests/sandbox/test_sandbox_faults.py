"""Fault injection: each kind misbehaves as documented, for `count` matching requests only."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

REPO = "/api/v0/repositories/ci/builder"


def test_status_faults_answer_the_status_then_are_consumed(sandbox, admin, error_code):
    sandbox.state.inject_fault("status", path_prefix="/api/v0/", count=2, status=503, retry_after=7)
    for _ in range(2):
        answer = admin.get(REPO)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "7"
        assert error_code(answer) == "SERVICE_UNAVAILABLE"
    assert admin.get(REPO).status_code == 200


def test_a_status_fault_can_carry_its_own_body(sandbox, admin):
    sandbox.state.inject_fault("status", status=500, body="upstream exploded")
    answer = admin.get(REPO)
    assert (answer.status_code, answer.text) == (500, "upstream exploded")


def test_faults_match_path_prefix_and_method(sandbox, admin):
    sandbox.state.inject_fault("status", path_prefix=REPO, method="patch", status=502)
    assert admin.get(REPO).status_code == 200
    assert admin.get("/api/v0/repositories/library/nginx").status_code == 200
    assert admin.patch(REPO, json={"immutableTags": True}).status_code == 502
    assert sandbox.state.get_repository("ci", "builder").immutable is False


@pytest.mark.parametrize("at", ["start", "headers"])
def test_a_dropped_connection_gets_no_usable_answer_and_changes_nothing(sandbox, admin, at):
    sandbox.state.inject_fault("drop", method="PATCH", at=at)
    with pytest.raises(httpx.RemoteProtocolError):
        admin.patch(REPO, json={"immutableTags": True})
    assert sandbox.state.get_repository("ci", "builder").immutable is False
    assert admin.get(REPO).status_code == 200


def test_a_connection_dropped_in_the_body_applied_the_request(sandbox, admin):
    sandbox.state.inject_fault("drop", method="PATCH", at="body")
    with pytest.raises(httpx.RemoteProtocolError):
        admin.patch(REPO, json={"immutableTags": True})
    assert sandbox.state.get_repository("ci", "builder").immutable is True


def test_an_html_fault_is_an_nginx_error_page(sandbox, admin):
    sandbox.state.inject_fault("html", status=504)
    answer = admin.get(REPO)
    assert answer.status_code == 504
    assert answer.headers["Content-Type"] == "text/html"
    assert "<center><h1>504 Gateway Timeout</h1></center>" in answer.text


def test_truncated_json_is_a_200_that_does_not_parse(sandbox, admin):
    sandbox.state.inject_fault("truncated_json")
    answer = admin.get(REPO)
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_wrong_json_turns_booleans_into_strings(sandbox, admin):
    sandbox.state.inject_fault("wrong_json")
    answer = admin.get(REPO)
    assert answer.status_code == 200
    assert answer.json()["immutableTags"] == "false"


def test_wrong_json_wraps_an_answer_without_booleans(sandbox, registry_for):
    client = registry_for(("admin", "sandbox-admin-password"), "repository:ci/builder:pull")
    sandbox.state.inject_fault("wrong_json", path_prefix="/v2/ci/")
    assert client.get("/v2/ci/builder/tags/list").json() == [{"name": "ci/builder", "tags": []}]


def test_wrong_json_can_carry_its_own_body(sandbox, admin):
    sandbox.state.inject_fault("wrong_json", body=[1, 2, 3])
    assert admin.get(REPO).json() == [1, 2, 3]


def test_an_empty_fault_is_a_200_without_body(sandbox, admin):
    sandbox.state.inject_fault("empty")
    answer = admin.get(REPO)
    assert (answer.status_code, answer.content) == (200, b"")


def test_a_slow_fault_still_answers_correctly(sandbox, admin):
    fault = sandbox.state.inject_fault("slow", seconds=0.01)
    assert admin.get(REPO).json()["name"] == "builder"
    assert fault.remaining == 0


def test_a_slow_fault_answers_once_its_until_event_is_set(sandbox, admin):
    # An hour at most, yet the answer comes once the event is set: the test releases it.
    released = threading.Event()
    sandbox.state.inject_fault("slow", seconds=3600, until=released)
    answers: list[httpx.Response] = []
    asking = threading.Thread(target=lambda: answers.append(admin.get(REPO)))
    asking.start()
    released.set()
    asking.join(timeout=30)
    assert answers[0].json()["name"] == "builder"


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("teapot", {}),
        ("status", {}),
        ("slow", {"seconds": 1, "status": 500}),
        ("drop", {"at": "middle"}),
    ],
)
def test_invalid_faults_are_refused(sandbox, kind, options):
    with pytest.raises(ValueError):
        sandbox.state.inject_fault(kind, **options)
