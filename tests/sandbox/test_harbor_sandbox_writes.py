"""The Harbor flavor's repository writes: description update, repository and artifact delete, tag
create and artifact copy, each refused on an immutable tag as Harbor refuses it.

The demo seed: engineering/api (1.0.0, 1.1.0) immutable by a `**` rule; engineering/team/app
immutable for `v*` tags (v1.0; latest stays mutable); engineering/web without a rule;
library/nginx immutable; library/alpine (a multi-platform index) under a disabled rule.
"""

from __future__ import annotations

import httpx
import pytest

from dtrctl.sandbox.accounts import ADMIN, ALICE, BOB

API = "/api/v2.0"
ENGINEERING = f"{API}/projects/engineering/repositories"
LIBRARY = f"{API}/projects/library/repositories"
ADMIN_AUTH = (ADMIN.username, ADMIN.password)
ALICE_AUTH = (ALICE.username, ALICE.password)  # developer of engineering
BOB_AUTH = (BOB.username, BOB.password)  # guest of engineering
CAROL_AUTH = ("carol", "sandbox-carol-password")  # maintainer of engineering
WITH_STATUS = {"with_tag": "true", "with_immutable_status": "true"}


@pytest.fixture
def admin(harbor_for) -> httpx.Client:
    return harbor_for(ADMIN_AUTH)


def tags_of(client: httpx.Client, repository: str) -> dict[str, tuple[str, bool]]:
    """tag -> (digest, immutable) over every artifact of the repository."""
    artifacts = client.get(f"{repository}/artifacts", params=WITH_STATUS).json()
    return {
        tag["name"]: (artifact["digest"], tag["immutable"])
        for artifact in artifacts
        for tag in artifact.get("tags", [])
    }


def refusal(tag: str, verb: str = "deleted") -> tuple[str, str]:
    return ("PRECONDITION", f"the tag {tag} configured as immutable, cannot be {verb}")


class TestArtifactDelete:
    def test_an_artifact_with_an_immutable_tag_is_412_and_stays(self, admin, harbor_error):
        answer = admin.delete(f"{ENGINEERING}/api/artifacts/1.0.0")
        assert (answer.status_code, harbor_error(answer)) == (412, refusal("1.0.0"))
        assert admin.get(f"{ENGINEERING}/api/artifacts/1.0.0").status_code == 200

    def test_an_immutable_tag_by_rule_refuses_by_digest_too(self, admin, harbor_error):
        digest = tags_of(admin, f"{ENGINEERING}/team%252Fapp")["v1.0"][0]
        answer = admin.delete(f"{ENGINEERING}/team%252Fapp/artifacts/{digest}")
        assert (answer.status_code, harbor_error(answer)) == (412, refusal("v1.0"))

    def test_an_artifact_with_only_mutable_tags_is_deleted_with_its_tags(self, admin):
        assert admin.delete(f"{ENGINEERING}/team%252Fapp/artifacts/latest").status_code == 200
        assert admin.get(f"{ENGINEERING}/team%252Fapp/artifacts/latest").status_code == 404
        assert set(tags_of(admin, f"{ENGINEERING}/team%252Fapp")) == {"v1.0"}

    def test_an_index_is_deleted_with_its_platforms(self, admin):
        index = admin.get(f"{LIBRARY}/alpine/artifacts/3.20").json()
        children = [reference["child_digest"] for reference in index["references"]]
        assert admin.delete(f"{LIBRARY}/alpine/artifacts/3.20").status_code == 200
        for child in children:
            assert admin.get(f"{LIBRARY}/alpine/artifacts/{child}").status_code == 404

    def test_a_platform_of_an_index_is_412_referenced_by_others(self, admin, harbor_error):
        index = admin.get(f"{LIBRARY}/alpine/artifacts/3.20").json()
        child = index["references"][0]["child_digest"]
        answer = admin.delete(f"{LIBRARY}/alpine/artifacts/{child}")
        assert answer.status_code == 412
        assert harbor_error(answer)[0] == "VIOLATE_FOREIGN_KEY_CONSTRAINT"

    @pytest.mark.parametrize(("auth", "status"), [(ALICE_AUTH, 403), (BOB_AUTH, 403)])
    def test_developers_and_guests_may_not_delete(self, harbor_for, auth, status):
        answer = harbor_for(auth).delete(f"{ENGINEERING}/web/artifacts/v1")
        assert answer.status_code == status

    def test_a_maintainer_may(self, harbor_for):
        assert harbor_for(CAROL_AUTH).delete(f"{ENGINEERING}/web/artifacts/v1").status_code == 200


class TestRepositoryDelete:
    def test_a_repository_holding_an_immutable_tag_is_412_and_stays(self, admin, harbor_error):
        answer = admin.delete(f"{ENGINEERING}/api")
        assert (answer.status_code, harbor_error(answer)) == (412, refusal("1.0.0"))
        assert admin.get(f"{ENGINEERING}/api").status_code == 200
        assert set(tags_of(admin, f"{ENGINEERING}/api")) == {"1.0.0", "1.1.0"}

    def test_one_immutable_tag_among_mutable_ones_refuses_the_whole_delete(
        self, admin, harbor_error
    ):
        answer = admin.delete(f"{ENGINEERING}/team%252Fapp")
        assert (answer.status_code, harbor_error(answer)) == (412, refusal("v1.0"))
        assert set(tags_of(admin, f"{ENGINEERING}/team%252Fapp")) == {"latest", "v1.0"}

    def test_a_mutable_repository_is_deleted_and_its_rules_stay(self, admin):
        assert admin.delete(f"{LIBRARY}/alpine").status_code == 200
        assert admin.get(f"{LIBRARY}/alpine").status_code == 404
        rules = admin.get(
            f"{API}/projects/library/immutabletagrules", headers={"X-Is-Resource-Name": "true"}
        )
        patterns = [rule["scope_selectors"]["repository"][0]["pattern"] for rule in rules.json()]
        assert "alpine" in patterns

    def test_a_missing_repository_is_404(self, admin, harbor_error):
        answer = admin.delete(f"{ENGINEERING}/nope")
        assert (answer.status_code, harbor_error(answer)[0]) == (404, "NOT_FOUND")

    def test_a_developer_may_not_delete(self, harbor_for):
        assert harbor_for(ALICE_AUTH).delete(f"{ENGINEERING}/web").status_code == 403


class TestTagCreate:
    def test_a_new_tag_is_201_and_immutable_when_a_rule_says_so(self, admin):
        answer = admin.post(f"{ENGINEERING}/api/artifacts/1.0.0/tags", json={"name": "stable"})
        assert (answer.status_code, answer.content) == (201, b"")
        tags = tags_of(admin, f"{ENGINEERING}/api")
        assert tags["stable"] == (tags["1.0.0"][0], True)

    @pytest.mark.parametrize(("repository", "tag"), [("api", "1.1.0"), ("web", "v1")])
    def test_an_existing_tag_is_409_immutable_or_not(self, admin, harbor_error, repository, tag):
        # Harbor's createTag inserts the tag without an immutability check: the unique index
        # on (repository, name) refuses it, whatever the rules say.
        reference = "1.0.0" if repository == "api" else "v1"
        answer = admin.post(
            f"{ENGINEERING}/{repository}/artifacts/{reference}/tags", json={"name": tag}
        )
        assert (answer.status_code, harbor_error(answer)[0]) == (409, "CONFLICT")

    def test_a_developer_may_and_a_guest_may_not(self, harbor_for):
        path = f"{ENGINEERING}/web/artifacts/v1/tags"
        assert harbor_for(ALICE_AUTH).post(path, json={"name": "v1.1"}).status_code == 201
        assert harbor_for(BOB_AUTH).post(path, json={"name": "v1.2"}).status_code == 403

    def test_a_missing_artifact_is_404(self, admin):
        answer = admin.post(f"{ENGINEERING}/web/artifacts/nope/tags", json={"name": "x"})
        assert answer.status_code == 404


class TestArtifactCopy:
    def test_a_copy_is_201_with_location_and_pullable(self, admin):
        answer = admin.post(f"{ENGINEERING}/web/artifacts", params={"from": "library/nginx:1.25"})
        assert answer.status_code == 201
        assert answer.headers["Location"] == f"{ENGINEERING}/web/artifacts/1.25"
        copied = tags_of(admin, f"{ENGINEERING}/web")["1.25"][0]
        assert copied == tags_of(admin, f"{LIBRARY}/nginx")["1.25"][0]
        manifest = admin.get(
            "/v2/engineering/web/manifests/1.25",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert (manifest.status_code, manifest.headers["Docker-Content-Digest"]) == (200, copied)

    def test_a_copy_into_a_new_repository_creates_it(self, admin):
        path = f"{ENGINEERING}/mirror%252Falpine/artifacts"
        assert admin.post(path, params={"from": "library/alpine:3.20"}).status_code == 201
        assert admin.get(f"{ENGINEERING}/mirror%252Falpine").json()["name"] == (
            "engineering/mirror/alpine"
        )

    def test_a_copy_onto_an_immutable_tag_elsewhere_is_412_and_changes_nothing(
        self, admin, harbor_error
    ):
        # Give engineering/web's artifact the tag v1.0, which team/app's rule makes immutable.
        assert (
            admin.post(f"{ENGINEERING}/web/artifacts/v1/tags", json={"name": "v1.0"}).status_code
            == 201
        )
        before = tags_of(admin, f"{ENGINEERING}/team%252Fapp")
        answer = admin.post(
            f"{ENGINEERING}/team%252Fapp/artifacts", params={"from": "engineering/web:v1.0"}
        )
        assert (answer.status_code, harbor_error(answer)) == (412, refusal("v1.0", "updated"))
        assert tags_of(admin, f"{ENGINEERING}/team%252Fapp") == before

    def test_a_copy_of_the_artifact_an_immutable_tag_already_holds_is_accepted(self, admin):
        before = tags_of(admin, f"{ENGINEERING}/team%252Fapp")
        answer = admin.post(
            f"{ENGINEERING}/team%252Fapp/artifacts", params={"from": "engineering/team/app:v1.0"}
        )
        assert answer.status_code == 201
        assert tags_of(admin, f"{ENGINEERING}/team%252Fapp") == before

    def test_a_copy_moves_a_mutable_tag(self, admin):
        assert (
            admin.post(f"{ENGINEERING}/web/artifacts/v1/tags", json={"name": "latest"}).status_code
            == 201
        )
        answer = admin.post(
            f"{ENGINEERING}/team%252Fapp/artifacts", params={"from": "engineering/web:latest"}
        )
        assert answer.status_code == 201
        web = tags_of(admin, f"{ENGINEERING}/web")["latest"][0]
        assert tags_of(admin, f"{ENGINEERING}/team%252Fapp")["latest"] == (web, False)

    @pytest.mark.parametrize(
        ("source", "status"),
        [("not a reference", 400), ("library/nope:1", 404), ("library/nginx:9.9", 404)],
    )
    def test_a_bad_or_missing_source(self, admin, harbor_error, source, status):
        answer = admin.post(f"{ENGINEERING}/web/artifacts", params={"from": source})
        assert answer.status_code == status
        harbor_error(answer)

    def test_a_guest_may_not_copy(self, harbor_for):
        answer = harbor_for(BOB_AUTH).post(
            f"{ENGINEERING}/web/artifacts", params={"from": "library/nginx:1.25"}
        )
        assert answer.status_code == 403


class TestDescriptionUpdate:
    def test_a_developer_sets_and_clears_the_description(self, harbor_for, admin):
        alice = harbor_for(ALICE_AUTH)
        answer = alice.put(f"{ENGINEERING}/web", json={"description": "The web front"})
        assert (answer.status_code, answer.content) == (200, b"")
        assert admin.get(f"{ENGINEERING}/web").json()["description"] == "The web front"
        assert alice.put(f"{ENGINEERING}/web", json={}).status_code == 200
        assert "description" not in admin.get(f"{ENGINEERING}/web").json()

    def test_a_nested_repository_name_is_encoded_twice(self, admin):
        assert (
            admin.put(f"{ENGINEERING}/team%252Fapp", json={"description": "x"}).status_code == 200
        )
        assert admin.get(f"{ENGINEERING}/team%252Fapp").json()["description"] == "x"

    @pytest.mark.parametrize(
        ("auth", "path", "status"),
        [
            (BOB_AUTH, "web", 403),
            (None, "web", 401),
            (ADMIN_AUTH, "nope", 404),
        ],
    )
    def test_refusals(self, harbor_for, harbor_error, auth, path, status):
        answer = harbor_for(auth).put(f"{ENGINEERING}/{path}", json={"description": "x"})
        assert answer.status_code == status
        harbor_error(answer)
