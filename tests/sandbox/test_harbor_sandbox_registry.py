"""The Harbor flavor's token service and /v2 registry: Harbor's challenge, Basic on /v2,
repositories created by the first push, and the 412 refusals of immutable tags."""

from __future__ import annotations

import httpx
import pytest

from dtrctl.sandbox.accounts import ADMIN, BOB
from dtrctl.sandbox.harbor.seed import canonical_rule
from dtrctl.sandbox.images import OCI_MANIFEST, PushError, build_image, push_image
from dtrctl.sandbox.server import SandboxServer

ADMIN_AUTH = (ADMIN.username, ADMIN.password)
BOB_AUTH = (BOB.username, BOB.password)
CI_ROBOT_AUTH = ("robot$engineering+ci", "sandbox-robot-ci-secret")
API = "/api/v2.0"


def push(server: SandboxServer, reference: str, artifact, auth=ADMIN_AUTH) -> str:
    repository, _, tag = reference.rpartition(":")
    return push_image(server.url, repository, tag, artifact, *auth)


def immutable_refusal(path_and_tag: str) -> dict:
    message = f"Failed to process request due to '{path_and_tag}' configured as immutable."
    return {"errors": [{"code": "PRECONDITION", "message": message}]}


class TestAuthentication:
    def test_v2_without_credentials_challenges_with_harbors_token_service(self, harbor, harbor_for):
        answer = harbor_for(None).get("/v2/")
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == (
            f'Bearer realm="{harbor.url}/service/token",service="harbor-registry"'
        )

    def test_dtrs_token_path_is_harbors_web_portal_not_a_token(self, harbor_for):
        # Harbor's nginx sends every path but its API, registry and services to the portal.
        answer = harbor_for(ADMIN_AUTH).get("/auth/token", params={"scope": "repository:a/b:pull"})
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "text/html"
        assert answer.text.startswith("<!doctype html>")
        assert harbor_for(ADMIN_AUTH).get("/api/v0/repositories/library/app").status_code == 404

    def test_v2_accepts_basic_credentials(self, harbor_for):
        answer = harbor_for(ADMIN_AUTH).get("/v2/")
        assert (answer.status_code, answer.json()) == (200, {})

    def test_the_token_service_answers_harbors_fields(self, harbor_for):
        answer = harbor_for(ADMIN_AUTH).get(
            "/service/token",
            params={"service": "harbor-registry", "scope": "repository:engineering/api:pull"},
        )
        body = answer.json()
        assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
        assert body["token"] == body["access_token"]

    def test_a_token_reads_a_manifest(self, harbor_for):
        token = (
            harbor_for(ADMIN_AUTH)
            .get("/service/token", params={"scope": "repository:engineering/team/app:pull"})
            .json()["token"]
        )
        registry = harbor_for(None, headers={"Authorization": f"Bearer {token}"})
        answer = registry.get("/v2/engineering/team/app/manifests/v1.0")
        assert answer.status_code == 200
        assert answer.headers["Docker-Content-Digest"].startswith("sha256:")

    def test_a_guest_cannot_push(self, harbor):
        with pytest.raises(PushError) as refused:
            push(harbor, "engineering/api:2.0.0", build_image("guest"), BOB_AUTH)
        assert refused.value.status == 401


class TestPushes:
    def test_the_first_push_into_a_project_creates_the_repository(self, harbor, harbor_for):
        push(harbor, "engineering/new/app:1", build_image("new"), CI_ROBOT_AUTH)
        answer = harbor_for(ADMIN_AUTH).get(f"{API}/projects/engineering/repositories/new%252Fapp")
        assert (answer.status_code, answer.json()["artifact_count"]) == (200, 1)

    def test_a_push_into_a_missing_project_fails(self, harbor):
        with pytest.raises(PushError) as refused:
            push(harbor, "nope/app:1", build_image("nope"))
        assert (refused.value.status, refused.value.code) == (401, "UNAUTHORIZED")
        assert refused.value.message == "project nope not found"

    def test_an_identical_re_push_to_an_immutable_tag_is_412(self, harbor, harbor_for):
        client = harbor_for(ADMIN_AUTH)
        existing = client.get("/v2/engineering/api/manifests/1.0.0")
        answer = client.put(
            "/v2/engineering/api/manifests/1.0.0",
            content=existing.content,
            headers={"Content-Type": existing.headers["Content-Type"]},
        )
        assert answer.status_code == 412
        assert answer.json() == immutable_refusal("api:1.0.0")

    def test_the_refusal_names_the_path_without_the_project(self, harbor):
        with pytest.raises(PushError) as refused:
            push(harbor, "engineering/team/app:v1.0", build_image("other"))
        assert refused.value.status == 412
        assert refused.value.message == immutable_refusal("team/app:v1.0")["errors"][0]["message"]

    def test_tags_the_rules_do_not_match_can_be_overwritten(self, harbor):
        digest = push(harbor, "engineering/team/app:latest", build_image("newer"))
        assert harbor.state.get_tag("engineering", "team/app", "latest").digest == digest

    def test_a_new_tag_in_an_immutable_repository_is_accepted(self, harbor):
        digest = push(harbor, "engineering/api:2.0.0", build_image("two"))
        assert harbor.state.get_tag("engineering", "api", "2.0.0").digest == digest

    def test_disabling_the_rule_allows_the_push(self, harbor, harbor_for):
        client = harbor_for(ADMIN_AUTH)
        rules = f"{API}/projects/engineering/immutabletagrules"
        rule = client.get(rules).json()[0]
        toggled = client.put(f"{rules}/{rule['id']}", json={**rule, "disabled": True})
        assert toggled.status_code == 200
        digest = push(harbor, "engineering/api:1.0.0", build_image("replaced"))
        assert harbor.state.get_tag("engineering", "api", "1.0.0").digest == digest

    @pytest.mark.parametrize(
        ("tag", "refused"),
        [("v9", True), ("x9", False)],  # rule 1's `x[` errors only on a tag it reaches
    )
    def test_a_pattern_malformed_for_some_tags_ends_harbors_evaluation_for_those_only(
        self, harbor, harbor_for, tag, refused
    ):
        client = harbor_for(ADMIN_AUTH)
        rules = f"{API}/projects/engineering/immutabletagrules"
        broken = canonical_rule("web")
        broken["tag_selectors"] = [{"kind": "doublestar", "decoration": "matches", "pattern": "x["}]
        for rule in (broken, canonical_rule("web")):
            answer = client.post(rules, json=rule, headers={"X-Is-Resource-Name": "true"})
            assert answer.status_code == 201
        push(harbor, f"engineering/web:{tag}", build_image("first"))
        if not refused:
            push(harbor, f"engineering/web:{tag}", build_image("second"))
            return
        with pytest.raises(PushError) as refusal:
            push(harbor, f"engineering/web:{tag}", build_image("second"))
        assert refusal.value.status == 412

    def test_pushing_by_digest_is_never_checked(self, harbor, harbor_for):
        image = build_image("by-digest")
        push(harbor, "engineering/api:scratch", image)
        answer = harbor_for(ADMIN_AUTH).put(
            f"/v2/engineering/api/manifests/{image.digest}",
            content=image.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert answer.status_code == 201


class TestDeletes:
    def test_deleting_an_artifact_holding_an_immutable_tag_is_412(self, harbor, harbor_for):
        digest = harbor.state.get_tag("engineering", "api", "1.0.0").digest
        answer = harbor_for(ADMIN_AUTH).delete(f"/v2/engineering/api/manifests/{digest}")
        assert answer.status_code == 412
        assert answer.json() == {
            "errors": [
                {
                    "code": "PRECONDITION",
                    "message": "the tag 1.0.0 configured as immutable, cannot be deleted",
                }
            ]
        }

    def test_deleting_by_tag_is_unsupported(self, harbor_for):
        answer = harbor_for(ADMIN_AUTH).delete("/v2/engineering/web/manifests/v1")
        assert answer.status_code == 405

    def test_a_mutable_artifact_can_be_deleted(self, harbor, harbor_for):
        digest = harbor.state.get_tag("engineering", "web", "v1").digest
        assert (
            harbor_for(ADMIN_AUTH).delete(f"/v2/engineering/web/manifests/{digest}").status_code
            == 202
        )
        assert harbor.state.get_tag("engineering", "web", "v1") is None


def test_the_dtr_flavor_keeps_its_own_refusal(sandbox):
    with pytest.raises(PushError) as refused:
        push(sandbox, "library/nginx:1.25", build_image("dtr"))
    assert refused.value.status == 400
    assert "is an immutable repository" in refused.value.message


def test_the_dtr_flavor_still_refuses_nested_names(sandbox):
    with httpx.Client(base_url=sandbox.url) as client:
        answer = client.get("/v2/a/b/c/manifests/latest")
    assert answer.status_code == 404
