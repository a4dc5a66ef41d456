"""The sandbox's /api/v0 tag endpoints."""

from __future__ import annotations

from dtrctl.sandbox.accounts import ALICE, BOB
from dtrctl.sandbox.images import build_image, build_index

ALICE_AUTH = (ALICE.username, ALICE.password)
BOB_AUTH = (BOB.username, BOB.password)


def test_listed_tags_carry_name_digest_author_and_times(sandbox, admin):
    digest = sandbox.state.get_tag("engineering", "api", "1.0.0").digest
    tags = admin.get("/api/v0/repositories/engineering/api/tags").json()
    assert [tag["name"] for tag in tags] == ["1.0.0", "1.1.0"]
    first = tags[0]
    assert first["digest"] == digest
    assert first["author"] == "alice"
    assert first["createdAt"] and first["updatedAt"]
    assert (first["inNotary"], first["hashMismatch"]) == (False, False)
    assert first["manifest"]["digest"] == digest


def test_include_manifests_adds_platform_and_config(admin):
    tags = admin.get(
        "/api/v0/repositories/library/nginx/tags", params={"includeManifests": "true"}
    ).json()
    manifest = tags[0]["manifest"]
    assert (manifest["os"], manifest["architecture"]) == ("linux", "amd64")
    assert manifest["configDigest"].startswith("sha256:")
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["size"] > 0


def test_a_single_platform_tag_is_one_entry_with_the_manifest_digest(sandbox, admin):
    image = build_image("single", os="linux", arch="s390x")
    sandbox.state.put_image("ci", "builder", "s390x", image)
    (entry,) = admin.get("/api/v0/repositories/ci/builder/tags/s390x").json()
    assert entry["digest"] == entry["manifest"]["digest"] == image.digest
    assert entry["manifest"]["architecture"] == "s390x"
    assert entry["manifest"]["configDigest"] == image.config.digest


def test_a_multi_platform_tag_has_one_entry_per_platform(sandbox, admin):
    amd64, arm64 = build_image("multi", arch="amd64"), build_image("multi", arch="arm64")
    index = build_index([amd64, arm64])
    sandbox.state.put_image("ci", "builder", "multi", index)
    entries = admin.get("/api/v0/repositories/ci/builder/tags/multi").json()
    assert [entry["digest"] for entry in entries] == [index.digest, index.digest]
    assert [(e["manifest"]["digest"], e["manifest"]["architecture"]) for e in entries] == [
        (amd64.digest, "amd64"),
        (arm64.digest, "arm64"),
    ]
    only_arm = admin.get(
        "/api/v0/repositories/ci/builder/tags/multi", params={"arch": "arm64"}
    ).json()
    assert [entry["manifest"]["digest"] for entry in only_arm] == [arm64.digest]


def test_a_digest_reference_finds_the_tags_of_that_digest(sandbox, admin):
    digest = sandbox.state.put_image("ci", "builder", "a", build_image("same"))
    sandbox.state.put_image("ci", "builder", "b", build_image("same"))
    sandbox.state.put_image("ci", "builder", "c", build_image("other"))
    entries = admin.get(f"/api/v0/repositories/ci/builder/tags/{digest}").json()
    assert sorted(entry["name"] for entry in entries) == ["a", "b"]


def test_an_absent_tag_is_404_no_such_ref(admin, error_code):
    answer = admin.get("/api/v0/repositories/library/nginx/tags/9.9")
    assert (answer.status_code, error_code(answer)) == (404, "NO_SUCH_REF")


def test_tags_of_an_invisible_repository_are_404_no_such_repository(client_for, error_code):
    answer = client_for(BOB_AUTH).get("/api/v0/repositories/ci/builder/tags")
    assert (answer.status_code, error_code(answer)) == (404, "NO_SUCH_REPOSITORY")


def test_read_write_users_delete_tags_and_read_only_users_may_not(sandbox, client_for, error_code):
    denied = client_for(BOB_AUTH).delete("/api/v0/repositories/engineering/api/tags/1.0.0")
    assert (denied.status_code, error_code(denied)) == (403, "NOT_AUTHORIZED")
    alice = client_for(ALICE_AUTH)
    assert alice.delete("/api/v0/repositories/engineering/api/tags/1.0.0").status_code == 204
    assert sandbox.state.get_tag("engineering", "api", "1.0.0") is None
    again = alice.delete("/api/v0/repositories/engineering/api/tags/1.0.0")
    assert (again.status_code, error_code(again)) == (404, "NO_SUCH_TAG")


def test_tags_are_paginated_like_repositories(sandbox, admin):
    for number in range(25):
        sandbox.state.put_image("ci", "builder", f"t{number:02d}")
    names: list[str] = []
    cursor = None
    while True:
        params = {"pageSize": 10, "count": "true", **({"pageStart": cursor} if cursor else {})}
        answer = admin.get("/api/v0/repositories/ci/builder/tags", params=params)
        assert answer.headers["X-Resource-Count"] == "25"
        names += [tag["name"] for tag in answer.json()]
        cursor = answer.headers.get("X-Next-Page-Start")
        if not cursor:
            break
    assert names == [f"t{number:02d}" for number in range(25)]
