"""The installed `dtrctl` against `dtrctl sandbox --flavor harbor`: never green where Harbor
refuses, and the text says what Harbor will do (issue #20)."""

from __future__ import annotations

import httpx
import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.test_harbor_sandbox import ADMIN, as_json, dtrctl, harbor

pytestmark = pytest.mark.integration
__all__ = ["harbor"]

BOB = ("bob", "sandbox-bob-password")  # guest of library and engineering
ALICE = ("alice", "sandbox-alice-password")  # developer of engineering, guest of library
CI_ROBOT = ("robot$engineering+ci", "sandbox-robot-ci-secret")  # project robot of engineering
CAROL = ("carol", "sandbox-carol-password")  # maintainer of engineering


class TestPushRights:
    @pytest.mark.parametrize(
        ("user", "reference"),
        [
            (BOB, "engineering/web:v2"),
            (ALICE, "library/nginx:9.9"),
            (CI_ROBOT, "library/nginx:9.9"),
        ],
        ids=["guest", "developer-of-another-project", "robot-of-another-project"],
    )
    def test_a_push_harbor_refuses_is_a_permission_error(
        self, harbor: SandboxServer, user: tuple[str, str], reference: str
    ) -> None:
        run = dtrctl(harbor, "push-check", reference, "-o", "json", user=user)
        assert run.code == 3, run.stdout + run.stderr
        (result,) = as_json(run)["results"]
        assert result["verdict"] == "error"
        assert result["error"]["code"] == "permission"
        assert f"may not push to {reference.split(':')[0]}" in result["reason"]

    def test_with_the_push_right_the_verdict_stands(self, harbor: SandboxServer) -> None:
        run = dtrctl(harbor, "push-check", "engineering/web:v2", "-o", "json", user=ALICE)
        assert run.code == 0, run.stderr
        assert as_json(run)["results"][0]["verdict"] == "free"

    def test_present_stays_present_without_the_right(self, harbor: SandboxServer) -> None:
        digest = as_json(dtrctl(harbor, "repo", "tags", "library/nginx", "-o", "json", user=BOB))[
            "tags"
        ][0]["digest"]
        run = dtrctl(
            harbor, "push-check", "library/nginx:1.25", "--digest", digest, "-o", "json", user=BOB
        )
        assert run.code == 0, run.stderr
        assert as_json(run)["results"][0]["verdict"] == "present"


def without_immutable_field(server: SandboxServer, project: str, path: str, tag: str) -> None:
    """The next artifact answer for the tag lacks `tags[].immutable`, as an older Harbor or a
    proxy may send it."""
    url = f"/api/v2.0/projects/{project}/repositories/{path}/artifacts/{tag}"
    with httpx.Client(base_url=server.url, auth=ADMIN) as client:
        answer = client.get(url, params={"with_tag": "true", "with_immutable_status": "true"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    for entry in body["tags"]:
        del entry["immutable"]
    server.state.inject_fault("status", path_prefix=url, count=5, status=200, body=body)


class TestAMissingImmutableField:
    def test_the_project_s_rules_decide_never_mutable(self, harbor: SandboxServer) -> None:
        without_immutable_field(harbor, "engineering", "api", "1.0.0")
        run = dtrctl(harbor, "push-check", "engineering/api:1.0.0", "-o", "json", user=CAROL)
        assert run.code == 1, run.stdout + run.stderr
        (result,) = as_json(run)["results"]
        assert (result["verdict"], result["immutable"]) == ("collision", True)
        assert any("has no 'immutable' field" in note for note in result["notes"])

    def test_rules_that_cannot_be_read_leave_the_check_incomplete(
        self, harbor: SandboxServer
    ) -> None:
        without_immutable_field(harbor, "engineering", "api", "1.0.0")
        run = dtrctl(harbor, "push-check", "engineering/api:1.0.0", "-o", "json", user=ALICE)
        assert run.code == 5, run.stdout + run.stderr
        (result,) = as_json(run)["results"]
        assert result["verdict"] == "error"
        assert "has no 'immutable' field" in result["reason"]
