"""The sandbox's /api/v0 repository endpoints: behaviour, errors and permissions."""

from __future__ import annotations

import base64

import pytest

from dtrctl.sandbox.accounts import ADMIN, ALICE, BOB

ADMIN_AUTH = (ADMIN.username, ADMIN.password)
ALICE_AUTH = (ALICE.username, ALICE.password)
BOB_AUTH = (BOB.username, BOB.password)


# `forms.UpdateRepo` with every field, as a client sends it (DTR 2.7 Swagger excerpt).
UPDATE_BODY: dict[str, object] = {
    "shortDescription": "",
    "longDescription": "",
    "visibility": "private",
    "scanOnPush": False,
    "immutableTags": False,
    "enableManifestLists": False,
    "tagLimit": 0,
}


def create_body(name: str, **overrides: object) -> dict[str, object]:
    """`forms.CreateRepo` with every field."""
    return {"name": name, **UPDATE_BODY, **overrides}


def test_create_returns_the_repository_and_get_returns_the_same(admin):
    created = admin.post(
        "/api/v0/repositories/engineering",
        json=create_body("payments", immutableTags=True, visibility="public", shortDescription="p"),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["namespace"] == "engineering"
    assert body["name"] == "payments"
    assert body["immutableTags"] is True
    assert body["visibility"] == "public"
    assert body["shortDescription"] == "p"
    assert body["namespaceType"] == "organization"
    assert body["id"]
    assert admin.get("/api/v0/repositories/engineering/payments").json() == body


def test_create_without_visibility_makes_a_private_repository(admin):
    body = create_body("quiet")
    del body["visibility"]
    assert admin.post("/api/v0/repositories/ci", json=body).json()["visibility"] == "private"


def test_users_may_create_repositories_in_their_own_namespace(client_for):
    created = client_for(ALICE_AUTH).post("/api/v0/repositories/alice", json=create_body("tools"))
    assert created.status_code == 201
    assert created.json()["namespaceType"] == "user"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (create_body("Bad_Name"), "INVALID_REPOSITORY_NAME"),
        (create_body("trailing-"), "INVALID_REPOSITORY_NAME"),
        (create_body("x" * 250), "INVALID_REPOSITORY_NAME"),
        (create_body("ok", shortDescription="d" * 141), "INVALID_REPOSITORY_SHORT_DESCRIPTION"),
        (create_body("ok", visibility="secret"), "INVALID_REPOSITORY_VISIBILITY"),
        (create_body("ok", immutableTags="true"), "INVALID_JSON"),
        (create_body("ok", tagLimit="10"), "INVALID_JSON"),
        (["not", "an", "object"], "INVALID_JSON"),
    ],
)
def test_create_rejects_invalid_bodies_with_400(admin, error_code, body, code):
    answer = admin.post("/api/v0/repositories/engineering", json=body)
    assert answer.status_code == 400
    assert error_code(answer) == code
    assert admin.get("/api/v0/repositories/engineering/ok").status_code == 404


def test_create_rejects_a_body_that_is_not_json(admin, error_code):
    answer = admin.post("/api/v0/repositories/engineering", content=b"{name: x")
    assert (answer.status_code, error_code(answer)) == (400, "INVALID_JSON")


def test_create_of_an_existing_repository_is_400_repository_exists(admin, error_code):
    answer = admin.post("/api/v0/repositories/engineering", json=create_body("api"))
    assert (answer.status_code, error_code(answer)) == (400, "REPOSITORY_EXISTS")


def test_create_in_an_unknown_namespace_is_404_no_such_account(admin, error_code):
    answer = admin.post("/api/v0/repositories/nowhere", json=create_body("x"))
    assert (answer.status_code, error_code(answer)) == (404, "NO_SUCH_ACCOUNT")


def test_create_needs_admin_rights_on_the_namespace(client_for, error_code):
    alice = client_for(ALICE_AUTH).post("/api/v0/repositories/engineering", json=create_body("x"))
    assert (alice.status_code, error_code(alice)) == (403, "NOT_AUTHORIZED")
    anonymous = client_for(None).post("/api/v0/repositories/engineering", json=create_body("x"))
    assert (anonymous.status_code, error_code(anonymous)) == (401, "NOT_AUTHENTICATED")


@pytest.mark.parametrize(
    "path",
    ["/api/v0/repositories", "/api/v0/repositories/library/nginx", "/api/v0/no/such/endpoint"],
)
@pytest.mark.parametrize(
    "authorization",
    [
        "Basic " + base64.b64encode(b"admin:wrong").decode(),
        "Basic " + base64.b64encode(b"nobody:sandbox-admin-password").decode(),
        "Basic !!!",
        "Bearer sandbox-admin-token",
    ],
)
def test_bad_credentials_are_401_on_any_path(client_for, error_code, path, authorization):
    answer = client_for(None).get(path, headers={"Authorization": authorization})
    assert (answer.status_code, error_code(answer)) == (401, "NOT_AUTHENTICATED")


def test_an_access_token_works_in_the_password_slot(client_for):
    client = client_for((ADMIN.username, ADMIN.token))
    assert client.get("/api/v0/repositories/ci/builder").status_code == 200


def test_repositories_the_caller_cannot_see_are_404(client_for, error_code):
    bob = client_for(BOB_AUTH).get("/api/v0/repositories/ci/builder")
    assert (bob.status_code, error_code(bob)) == (404, "NO_SUCH_REPOSITORY")
    anonymous = client_for(None)
    assert anonymous.get("/api/v0/repositories/engineering/api").status_code == 404
    assert anonymous.get("/api/v0/repositories/library/nginx").status_code == 200


def test_get_of_an_absent_repository_is_404_no_such_repository(admin, error_code):
    answer = admin.get("/api/v0/repositories/engineering/absent")
    assert (answer.status_code, error_code(answer)) == (404, "NO_SUCH_REPOSITORY")


def test_patch_changes_only_the_fields_sent(sandbox, admin):
    before = admin.get("/api/v0/repositories/ci/builder").json()
    answer = admin.patch("/api/v0/repositories/ci/builder", json={"immutableTags": True})
    assert answer.status_code == 200
    assert answer.json() == {**before, "immutableTags": True}
    assert sandbox.state.get_repository("ci", "builder").immutable is True
    assert sandbox.state.patch_count == 1


def test_patch_with_every_field_replaces_the_settings(admin):
    body = {**UPDATE_BODY, "visibility": "public", "tagLimit": 5}
    updated = admin.patch("/api/v0/repositories/ci/builder", json=body).json()
    assert (updated["visibility"], updated["tagLimit"], updated["shortDescription"]) == (
        "public",
        5,
        "",
    )


def test_read_write_users_may_not_change_settings(sandbox, client_for, error_code):
    answer = client_for(ALICE_AUTH).patch(
        "/api/v0/repositories/engineering/api", json={"immutableTags": True}
    )
    assert (answer.status_code, error_code(answer)) == (403, "NOT_AUTHORIZED")
    assert sandbox.state.get_repository("engineering", "api").immutable is False
    assert sandbox.state.patch_count == 0


def test_patch_of_an_invisible_repository_is_404(client_for, error_code):
    answer = client_for(BOB_AUTH).patch(
        "/api/v0/repositories/ci/builder", json={"immutableTags": True}
    )
    assert (answer.status_code, error_code(answer)) == (404, "NO_SUCH_REPOSITORY")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not json", "INVALID_JSON"),
        (b'{"immutableTags": "yes"}', "INVALID_JSON"),
        (b'{"immutableTags": true, "visibility": "everyone"}', "INVALID_REPOSITORY_VISIBILITY"),
    ],
)
def test_patch_rejects_invalid_bodies(sandbox, admin, error_code, content, code):
    answer = admin.patch("/api/v0/repositories/ci/builder", content=content)
    assert (answer.status_code, error_code(answer)) == (400, code)
    assert sandbox.state.get_repository("ci", "builder").immutable is False


def test_delete_removes_the_repository_and_is_204_when_absent(admin):
    assert admin.delete("/api/v0/repositories/ci/builder").status_code == 204
    assert admin.get("/api/v0/repositories/ci/builder").status_code == 404
    assert admin.delete("/api/v0/repositories/ci/builder").status_code == 204


def test_delete_needs_admin_rights(client_for, error_code):
    answer = client_for(ALICE_AUTH).delete("/api/v0/repositories/engineering/api")
    assert (answer.status_code, error_code(answer)) == (403, "NOT_AUTHORIZED")


def listed_names(client, path: str = "/api/v0/repositories") -> list[str]:
    repositories = client.get(path, params={"pageSize": 1000}).json()["repositories"]
    return [f"{repo['namespace']}/{repo['name']}" for repo in repositories]


def test_listing_shows_only_what_the_caller_may_see_sorted(admin, client_for):
    everything = listed_names(admin)
    assert everything == sorted(everything)
    assert {"ci/builder", "engineering/api", "library/nginx"} <= set(everything)
    assert listed_names(client_for(None)) == ["demo/hello", "library/alpine", "library/nginx"]
    bob = listed_names(client_for(BOB_AUTH))
    assert "ci/builder" not in bob
    assert {"engineering/api", "engineering/web", "demo/hello"} <= set(bob)


def test_namespace_listing_holds_only_that_namespace(admin, error_code):
    assert listed_names(admin, "/api/v0/repositories/engineering") == [
        "engineering/api",
        "engineering/web",
    ]
    answer = admin.get("/api/v0/repositories/nowhere")
    assert (answer.status_code, error_code(answer)) == (404, "NO_SUCH_ACCOUNT")


def test_paging_at_the_default_size_returns_every_repository_in_order(sandbox, admin):
    sandbox.state.seed_repositories(2500, namespaces=["ci", "demo", "engineering"])
    keys: list[tuple[str, str]] = []
    cursor = None
    while True:
        answer = admin.get("/api/v0/repositories", params={"pageStart": cursor} if cursor else {})
        page = answer.json()["repositories"]
        keys += [(repo["namespace"], repo["name"]) for repo in page]
        cursor = answer.headers.get("X-Next-Page-Start")
        if not cursor:
            break
        assert len(page) == 10
    assert len(keys) == 2500 + 6
    assert keys == sorted(set(keys))


def test_count_true_reports_the_total_the_caller_sees(client_for):
    answer = client_for(None).get("/api/v0/repositories", params={"count": "true", "pageSize": 1})
    assert answer.headers["X-Resource-Count"] == "3"
    assert len(answer.json()["repositories"]) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": "0"},
        {"pageSize": "ten"},
        {"pageSize": "1001"},
        {"count": "maybe"},
        {"pageStart": "not-a-cursor"},
    ],
)
def test_invalid_paging_parameters_are_400_invalid_parameters(admin, error_code, params):
    answer = admin.get("/api/v0/repositories", params=params)
    assert (answer.status_code, error_code(answer)) == (400, "INVALID_PARAMETERS")


def test_seeding_a_hundred_thousand_repositories_is_served_by_the_api(sandbox, admin):
    sandbox.state.seed_repositories(100_000, namespaces=["ci", "demo"], immutable_every=10)
    answer = admin.get("/api/v0/repositories/demo", params={"pageSize": 1000, "count": "true"})
    assert answer.headers["X-Resource-Count"] == str(50_000 + 1)
    last = sandbox.state.get_repository("demo", "repo-099999")
    assert last is not None and last.immutable is False
    assert sandbox.state.get_repository("ci", "repo-099990").immutable is True
