"""The Harbor flavor's /api/v2.0: system info, projects, immutable tag rules, repositories,
artifacts, the current user, authentication and the CSRF trap for cookie-keeping clients."""

from __future__ import annotations

import httpx
import pytest

from dtrctl.sandbox.accounts import ADMIN, ALICE, BOB
from dtrctl.sandbox.harbor.seed import canonical_rule
from dtrctl.sandbox.server import SandboxServer

API = "/api/v2.0"
ADMIN_AUTH = (ADMIN.username, ADMIN.password)
ALICE_AUTH = (ALICE.username, ALICE.password)
BOB_AUTH = (BOB.username, BOB.password)
CAROL_AUTH = ("carol", "sandbox-carol-password")
DAVE_AUTH = ("dave", "sandbox-dave-password")
CI_ROBOT_AUTH = ("robot$engineering+ci", "sandbox-robot-ci-secret")
RULES = f"{API}/projects/engineering/immutabletagrules"
BY_NAME = {"X-Is-Resource-Name": "true"}


@pytest.fixture
def admin(harbor_for) -> httpx.Client:
    return harbor_for(ADMIN_AUTH)


def create_rule(client: httpx.Client, path: str, **changes) -> int:
    answer = client.post(RULES, json={**canonical_rule(path), **changes}, headers=BY_NAME)
    assert answer.status_code == 201, answer.text
    return int(answer.headers["Location"].rsplit("/", 1)[1])


class TestSystemInfo:
    def test_anonymous_callers_get_the_auth_mode_without_the_version(self, harbor_for):
        body = harbor_for(None).get(f"{API}/systeminfo").json()
        assert body["auth_mode"] == "db_auth"
        assert "harbor_version" not in body

    def test_authenticated_callers_also_get_the_version(self, admin):
        body = admin.get(f"{API}/systeminfo").json()
        assert body["harbor_version"].startswith("v2.13.0")
        assert body["project_creation_restriction"] == "everyone"

    def test_api_version_is_v2(self, harbor_for):
        answer = harbor_for(None).get("/api/version")
        assert (answer.status_code, answer.json()) == (200, {"version": "v2.0"})


class TestProjects:
    def test_head_tells_whether_a_project_exists(self, admin, harbor_for, harbor_error):
        assert (
            admin.head(f"{API}/projects", params={"project_name": "engineering"}).status_code == 200
        )
        assert admin.head(f"{API}/projects", params={"project_name": "nope"}).status_code == 404
        anonymous = harbor_for(None).head(f"{API}/projects", params={"project_name": "library"})
        assert anonymous.status_code == 401

    def test_create_answers_201_with_the_id_in_location_and_an_empty_body(self, admin):
        answer = admin.post(
            f"{API}/projects", json={"project_name": "team-a", "metadata": {"public": "true"}}
        )
        assert answer.status_code == 201
        assert answer.content == b""
        assert answer.headers["Location"] == f"{API}/projects/3"
        created = admin.get(f"{API}/projects/3").json()
        assert (created["name"], created["metadata"]) == ("team-a", {"public": "true"})

    def test_creating_an_existing_project_is_409_conflict(self, admin, harbor_error):
        answer = admin.post(f"{API}/projects", json={"project_name": "engineering"})
        assert answer.status_code == 409
        assert harbor_error(answer) == ("CONFLICT", "The project named engineering already exists")

    def test_a_user_creating_a_project_becomes_its_admin(self, harbor_for):
        alice = harbor_for(ALICE_AUTH)
        assert alice.post(f"{API}/projects", json={"project_name": "mine"}).status_code == 201
        project = alice.get(f"{API}/projects/mine", headers=BY_NAME).json()
        assert project["current_user_role_ids"] == [1]
        assert project["metadata"] == {"public": "false"}

    def test_admin_only_creation_forbids_other_users(self, harbor_error):
        with (
            SandboxServer(flavor="harbor", project_creation="adminonly") as server,
            httpx.Client(base_url=server.url, auth=ALICE_AUTH) as alice,
        ):
            answer = alice.post(f"{API}/projects", json={"project_name": "mine"})
        assert answer.status_code == 403
        assert harbor_error(answer) == ("FORBIDDEN", "Only system admin can create project")

    def test_a_numeric_value_is_an_id_unless_the_request_says_it_is_a_name(self, admin):
        assert admin.post(f"{API}/projects", json={"project_name": "2024"}).status_code == 201
        assert admin.get(f"{API}/projects/2024").status_code == 404
        by_name = admin.get(f"{API}/projects/2024", headers=BY_NAME)
        assert (by_name.status_code, by_name.json()["project_id"]) == (200, 3)
        assert admin.get(f"{API}/projects/2").json()["name"] == "engineering"

    def test_the_list_is_paged_with_total_count_and_link(self, admin):
        for index in range(5):
            admin.post(f"{API}/projects", json={"project_name": f"p{index}"})
        answer = admin.get(f"{API}/projects", params={"page": 2, "page_size": 3})
        assert [p["name"] for p in answer.json()] == ["p1", "p2", "p3"]
        assert answer.headers["X-Total-Count"] == "7"
        assert answer.headers["Link"] == (
            f'<{API}/projects?page=1&page_size=3>; rel="prev" , '
            f'<{API}/projects?page=3&page_size=3>; rel="next"'
        )

    def test_anonymous_callers_see_public_projects_only(self, harbor_for, harbor_error):
        anonymous = harbor_for(None)
        assert [p["name"] for p in anonymous.get(f"{API}/projects").json()] == ["library"]
        answer = anonymous.get(f"{API}/projects/engineering", headers=BY_NAME)
        assert answer.status_code == 401
        assert harbor_error(answer)[0] == "UNAUTHORIZED"

    def test_a_private_project_of_others_is_403(self, admin, harbor_for, harbor_error):
        admin.post(f"{API}/projects", json={"project_name": "secret"})
        answer = harbor_for(ALICE_AUTH).get(f"{API}/projects/secret", headers=BY_NAME)
        assert (answer.status_code, harbor_error(answer)[0]) == (403, "FORBIDDEN")


class TestImmutableTagRules:
    def test_the_seeded_rules_are_listed_in_harbors_shape(self, admin):
        answer = admin.get(RULES, headers=BY_NAME)
        assert answer.status_code == 200
        first = answer.json()[0]
        assert first == {
            "id": 3,
            "action": "immutable",
            "template": "immutable_template",
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
            "scope_selectors": {
                "repository": [
                    {"kind": "doublestar", "decoration": "repoMatches", "pattern": "api"}
                ]
            },
        }

    def test_create_is_201_with_empty_body_and_the_id_only_in_location(self, harbor_for):
        answer = harbor_for(DAVE_AUTH).post(RULES, json=canonical_rule("web"), headers=BY_NAME)
        assert answer.status_code == 201
        assert answer.content == b""
        assert answer.headers["Location"] == f"{RULES}/5"

    def test_a_rule_is_created_enabled_whatever_disabled_says(self, admin):
        rule_id = create_rule(admin, "web", disabled=True)
        listed = {rule["id"]: rule for rule in admin.get(RULES, headers=BY_NAME).json()}
        assert "disabled" not in listed[rule_id]

    def test_an_identical_rule_is_409_conflict(self, admin, harbor_error):
        create_rule(admin, "web")
        again = admin.post(RULES, json=canonical_rule("web"), headers=BY_NAME)
        assert again.status_code == 409
        assert harbor_error(again) == ("CONFLICT", "immutable rule already exists")

    def test_an_identical_rule_is_409_conflict_while_the_first_is_disabled(
        self, admin, harbor_error
    ):
        # Disabling is a toggle that leaves the stored, re-serialized rule as it was.
        rule_id = create_rule(admin, "web")
        body = {**canonical_rule("web"), "id": rule_id, "disabled": True}
        assert admin.put(f"{RULES}/{rule_id}", json=body, headers=BY_NAME).status_code == 200
        again = admin.post(RULES, json=canonical_rule("web"), headers=BY_NAME)
        assert again.status_code == 409
        assert harbor_error(again) == ("CONFLICT", "immutable rule already exists")

    def test_a_missing_priority_is_the_same_rule_as_priority_0(self, admin, harbor_error):
        create_rule(admin, "web")
        body = {key: value for key, value in canonical_rule("web").items() if key != "priority"}
        again = admin.post(RULES, json=body, headers=BY_NAME)
        assert (again.status_code, harbor_error(again)[0]) == (409, "CONFLICT")

    def test_the_disabled_flag_sent_makes_another_rule(self, admin):
        # Harbor's unique key is the rule re-serialized with the `disabled` the request carried,
        # though the rule itself is stored enabled.
        create_rule(admin, "web")
        assert (
            admin.post(
                RULES, json=canonical_rule("web", disabled=True), headers=BY_NAME
            ).status_code
            == 201
        )

    def test_rules_are_paged_ten_at_a_time_sorted_by_id(self, admin):
        created = [create_rule(admin, f"repo-{index}") for index in range(12)]
        first = admin.get(RULES, headers=BY_NAME)
        assert [rule["id"] for rule in first.json()] == [3, 4, *created[:8]]
        assert first.headers["X-Total-Count"] == "14"
        assert first.headers["Link"] == f'<{RULES}?page=2&page_size=10>; rel="next"'
        second = admin.get(RULES, params={"page": 2}, headers=BY_NAME)
        assert [rule["id"] for rule in second.json()] == created[8:]
        assert second.headers["Link"] == f'<{RULES}?page=1&page_size=10>; rel="prev"'

    def test_a_page_size_above_100_is_422(self, admin, harbor_error):
        answer = admin.get(RULES, params={"page_size": 101}, headers=BY_NAME)
        assert (answer.status_code, harbor_error(answer)[0]) == (422, "UNPROCESSABLE_ENTITY")

    def test_put_toggles_disabled_ignoring_the_rest_then_replaces_the_content(self, admin):
        rule_id = create_rule(admin, "web")
        changed = {**canonical_rule("other"), "id": rule_id, "disabled": True, "priority": 5}
        assert admin.put(f"{RULES}/{rule_id}", json=changed, headers=BY_NAME).status_code == 200
        rule = {r["id"]: r for r in admin.get(RULES, headers=BY_NAME).json()}[rule_id]
        assert rule["disabled"] is True
        assert rule["scope_selectors"]["repository"][0]["pattern"] == "web"
        assert "priority" not in rule
        assert admin.put(f"{RULES}/{rule_id}", json=changed, headers=BY_NAME).status_code == 200
        rule = {r["id"]: r for r in admin.get(RULES, headers=BY_NAME).json()}[rule_id]
        assert rule["scope_selectors"]["repository"][0]["pattern"] == "other"
        assert rule["priority"] == 5

    def test_put_may_give_a_rule_the_content_of_another(self, admin):
        # Harbor keeps the rule re-serialized WITH its id unique per project (FACTS: "Identical
        # rule twice: 409"; immutable/manager.go): a PUT stores its own id, so no clash.
        create_rule(admin, "web")
        rule_id = create_rule(admin, "other")
        body = {**canonical_rule("web"), "id": rule_id}
        assert admin.put(f"{RULES}/{rule_id}", json=body, headers=BY_NAME).status_code == 200
        patterns = [
            r["scope_selectors"]["repository"][0]["pattern"]
            for r in admin.get(RULES, headers=BY_NAME).json()
        ]
        assert patterns.count("web") == 2

    def test_a_put_clashing_with_a_stored_rule_is_a_500(self, admin, harbor_error):
        # Only a rule POSTed with this id in its body stores the same form; Harbor's update
        # turns that unique violation into no conflict: a 500 with the text withheld.
        rule_id = create_rule(admin, "other")
        create_rule(admin, "web", id=rule_id)
        body = {**canonical_rule("web"), "id": rule_id}
        answer = admin.put(f"{RULES}/{rule_id}", json=body, headers=BY_NAME)
        assert (answer.status_code, harbor_error(answer)) == (
            500,
            ("UNKNOWN", "internal server error"),
        )

    def test_put_with_another_id_in_the_body_is_400(self, admin, harbor_error):
        body = {**canonical_rule("api"), "id": 4}
        answer = admin.put(f"{RULES}/3", json=body, headers=BY_NAME)
        assert (answer.status_code, harbor_error(answer)[0]) == (400, "BAD_REQUEST")

    def test_delete_removes_the_rule(self, admin, harbor_error):
        assert admin.delete(f"{RULES}/3", headers=BY_NAME).status_code == 200
        again = admin.delete(f"{RULES}/3", headers=BY_NAME)
        assert (again.status_code, harbor_error(again)[0]) == (404, "NOT_FOUND")

    def test_malformed_rules_are_stored_without_complaint(self, admin):
        rule_id = create_rule(
            admin, "x", tag_selectors=[{"kind": "regex", "decoration": "odd", "pattern": "["}]
        )
        rule = {r["id"]: r for r in admin.get(RULES, headers=BY_NAME).json()}[rule_id]
        assert rule["tag_selectors"] == [{"kind": "regex", "decoration": "odd", "pattern": "["}]

    @pytest.mark.parametrize(
        ("auth", "listing", "creating"),
        [
            (BOB_AUTH, 403, 403),  # guest
            (ALICE_AUTH, 403, 403),  # developer
            (CAROL_AUTH, 200, 403),  # maintainer
            (DAVE_AUTH, 200, 201),  # project admin
            (CI_ROBOT_AUTH, 200, 201),  # project robot with rule permissions
            (None, 401, 401),
        ],
    )
    def test_maintainers_may_list_and_project_admins_may_write(
        self, harbor_for, auth, listing, creating
    ):
        client = harbor_for(auth)
        assert client.get(RULES, headers=BY_NAME).status_code == listing
        body = canonical_rule("web")
        assert client.post(RULES, json=body, headers=BY_NAME).status_code == creating

    def test_a_project_robot_has_no_rights_on_another_project(self, harbor_for):
        answer = harbor_for(CI_ROBOT_AUTH).get(
            f"{API}/projects/library/immutabletagrules", headers=BY_NAME
        )
        assert answer.status_code == 403


class TestRepositoriesAndArtifacts:
    def test_repository_names_include_the_project(self, admin):
        answer = admin.get(f"{API}/projects/engineering/repositories")
        names = [repository["name"] for repository in answer.json()]
        assert names == ["engineering/api", "engineering/team/app", "engineering/web"]
        assert answer.headers["X-Total-Count"] == "3"

    def test_all_repositories_are_those_the_caller_sees(self, admin, harbor_for):
        assert len(admin.get(f"{API}/repositories").json()) == 5
        anonymous = harbor_for(None).get(f"{API}/repositories").json()
        assert [r["name"] for r in anonymous] == ["library/alpine", "library/nginx"]

    def test_a_name_with_a_slash_is_encoded_twice(self, admin, harbor_error):
        twice = admin.get(f"{API}/projects/engineering/repositories/team%252Fapp")
        assert (twice.status_code, twice.json()["name"]) == (200, "engineering/team/app")
        once = admin.get(f"{API}/projects/engineering/repositories/team%2Fapp")
        assert once.status_code == 404

    def test_immutable_status_is_computed_from_the_rules_only_when_asked(self, admin):
        path = f"{API}/projects/engineering/repositories/team%252Fapp/artifacts"
        asked = admin.get(path, params={"with_tag": "true", "with_immutable_status": "true"})
        tags = {t["name"]: t["immutable"] for a in asked.json() for t in a["tags"]}
        assert tags == {"v1.0": True, "latest": False}
        plain = admin.get(path, params={"with_tag": "true"})
        assert {t["immutable"] for a in plain.json() for t in a["tags"]} == {False}

    def test_one_artifact_by_tag_and_by_digest(self, admin):
        path = f"{API}/projects/engineering/repositories/api/artifacts"
        params = {"with_tag": "true", "with_immutable_status": "true"}
        by_tag = admin.get(f"{path}/1.0.0", params=params).json()
        assert [(t["name"], t["immutable"]) for t in by_tag["tags"]] == [("1.0.0", True)]
        by_digest = admin.get(f"{path}/{by_tag['digest']}", params=params).json()
        assert by_digest["id"] == by_tag["id"]

    def test_a_missing_artifact_is_404_in_harbors_envelope(self, admin, harbor_error):
        answer = admin.get(f"{API}/projects/engineering/repositories/api/artifacts/9.9")
        assert answer.status_code == 404
        assert harbor_error(answer) == ("NOT_FOUND", "artifact engineering/api:9.9 not found")

    def test_an_immutable_tag_cannot_be_deleted(self, admin, harbor_error):
        tags = f"{API}/projects/engineering/repositories/team%252Fapp/artifacts"
        refused = admin.delete(f"{tags}/v1.0/tags/v1.0")
        assert refused.status_code == 412
        assert harbor_error(refused) == (
            "PRECONDITION",
            "the tag v1.0 configured as immutable, cannot be deleted",
        )
        assert admin.delete(f"{tags}/latest/tags/latest").status_code == 200


class TestCurrentUser:
    def test_a_user_gets_their_account(self, harbor_for):
        body = harbor_for(ALICE_AUTH).get(f"{API}/users/current").json()
        assert (body["username"], body["sysadmin_flag"]) == ("alice", False)

    def test_a_robot_gets_412(self, harbor_for, harbor_error):
        answer = harbor_for(CI_ROBOT_AUTH).get(f"{API}/users/current")
        assert (answer.status_code, harbor_error(answer)[0]) == (412, "PRECONDITION")

    def test_permissions_in_a_project_scope(self, harbor_for):
        answer = harbor_for(CAROL_AUTH).get(
            f"{API}/users/current/permissions", params={"scope": "/project/2", "relative": "true"}
        )
        permissions = {(p["resource"], p["action"]) for p in answer.json()}
        assert ("immutable-tag", "list") in permissions
        assert ("immutable-tag", "create") not in permissions


class TestAuthentication:
    def test_wrong_credentials_are_401_unauthorized(self, harbor_for, harbor_error):
        answer = harbor_for(("admin", "wrong")).get(f"{API}/projects")
        assert (answer.status_code, harbor_error(answer)[0]) == (401, "UNAUTHORIZED")

    def test_authenticated_answers_set_a_session_cookie(self, admin):
        assert admin.get(f"{API}/projects").headers["Set-Cookie"].startswith("sid=")

    def test_a_write_carrying_the_session_cookie_without_csrf_token_is_403(
        self, harbor_for, harbor_error
    ):
        keeping = harbor_for(ADMIN_AUTH, cookies=httpx.Cookies())
        keeping.get(f"{API}/projects")
        answer = keeping.post(f"{API}/projects", json={"project_name": "cookie"})
        assert answer.status_code == 403
        assert harbor_error(answer) == ("FORBIDDEN", "CSRF token invalid")

    def test_a_write_without_cookies_needs_no_csrf_token(self, admin):
        admin.get(f"{API}/projects")
        assert admin.post(f"{API}/projects", json={"project_name": "nocookie"}).status_code == 201
