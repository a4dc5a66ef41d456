"""The sandbox's token server and /v2 registry API, including DTR's immutability refusal."""

from __future__ import annotations

import pytest

from dtrctl.sandbox.accounts import ADMIN, ALICE, BOB
from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.images import (
    OCI_MANIFEST,
    PushError,
    build_image,
    build_index,
    push_image,
    sha256_digest,
)
from dtrctl.sandbox.server import SandboxServer

ADMIN_AUTH = (ADMIN.username, ADMIN.password)
ALICE_AUTH = (ALICE.username, ALICE.password)
BOB_AUTH = (BOB.username, BOB.password)
PUSH_X = "repository:engineering/x:pull,push"


def push(server: SandboxServer, repository: str, tag: str, artifact, auth=ADMIN_AUTH) -> str:
    return push_image(server.url, repository, tag, artifact, *auth)


@pytest.fixture
def immutable_x(sandbox: SandboxServer) -> RepositoryRecord:
    return sandbox.state.add_repository(RepositoryRecord("engineering", "x", immutable=True))


def test_v2_without_a_token_challenges_with_the_token_realm(sandbox, client_for):
    answer = client_for(ADMIN_AUTH).get("/v2/")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer realm="http://{sandbox.host_port}/auth/token",service="{sandbox.host_port}"'
    )
    assert answer.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_v2_with_a_token_answers_200(registry_for):
    answer = registry_for(ADMIN_AUTH).get("/v2/")
    assert (answer.status_code, answer.json()) == (200, {})


def test_the_token_answer_has_token_access_token_and_expiry(sandbox, client_for):
    body = client_for(ADMIN_AUTH).get("/auth/token", params={"scope": PUSH_X}).json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert body["issued_at"].endswith("Z")


def test_bad_credentials_at_the_token_server_are_401(client_for, error_code):
    answer = client_for(("admin", "wrong")).get("/auth/token", params={"scope": PUSH_X})
    assert (answer.status_code, error_code(answer)) == (401, "UNAUTHORIZED")


def test_a_read_only_token_cannot_push_and_is_challenged_for_push(
    sandbox, immutable_x, registry_for, error_code
):
    bob = registry_for(BOB_AUTH, PUSH_X)
    assert bob.get("/v2/engineering/x/tags/list").status_code == 200
    answer = bob.post("/v2/engineering/x/blobs/uploads/")
    assert (answer.status_code, error_code(answer)) == (401, "UNAUTHORIZED")
    assert 'scope="repository:engineering/x:pull,push"' in answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]


def test_bob_cannot_push_with_push_image(sandbox, immutable_x):
    with pytest.raises(PushError) as raised:
        push(sandbox, "engineering/x", "1", build_image("b"), BOB_AUTH)
    assert raised.value.status == 401
    assert sandbox.state.get_tag("engineering", "x", "1") is None


def test_anonymous_tokens_pull_public_repositories_only(registry_for):
    anonymous = registry_for(None, "repository:library/nginx:pull", "repository:ci/builder:pull")
    assert anonymous.get("/v2/library/nginx/tags/list").json() == {
        "name": "library/nginx",
        "tags": ["1.25"],
    }
    assert anonymous.get("/v2/ci/builder/tags/list").status_code == 401


def test_a_pushed_manifest_is_served_byte_for_byte(sandbox, immutable_x, registry_for):
    image = build_image("round-trip")
    assert push(sandbox, "engineering/x", "1", image) == image.digest
    client = registry_for(ADMIN_AUTH, PUSH_X)
    for reference in ("1", image.digest):
        answer = client.get(f"/v2/engineering/x/manifests/{reference}")
        assert answer.content == image.manifest
        assert answer.headers["Content-Type"] == OCI_MANIFEST
        assert answer.headers["Docker-Content-Digest"] == image.digest
    head = client.head("/v2/engineering/x/manifests/1", headers={"Accept": OCI_MANIFEST})
    assert head.headers["Docker-Content-Digest"] == image.digest
    assert head.headers["Content-Length"] == str(len(image.manifest))
    assert head.content == b""
    blob = client.get(f"/v2/engineering/x/blobs/{image.layers[0].digest}")
    assert blob.content == image.layers[0].data


def test_pushing_an_existing_tag_of_an_immutable_repository_is_refused(sandbox, immutable_x):
    first = push(sandbox, "engineering/x", "1", build_image("first"))
    with pytest.raises(PushError) as raised:
        push(sandbox, "engineering/x", "1", build_image("second"))
    assert raised.value.status == 400
    assert raised.value.code == "UNKNOWN"
    assert raised.value.message == (
        f"tag=1 cannot be overwritten because {sandbox.host_port}/engineering/x "
        "is an immutable repository"
    )
    assert sandbox.state.get_tag("engineering", "x", "1").digest == first


def test_pushing_the_same_digest_again_to_an_immutable_tag_is_refused_too(sandbox, immutable_x):
    push(sandbox, "engineering/x", "1", build_image("first"))
    with pytest.raises(PushError, match="cannot be overwritten"):
        push(sandbox, "engineering/x", "1", build_image("first"))


def test_new_tags_can_be_pushed_to_an_immutable_repository(sandbox, immutable_x):
    push(sandbox, "engineering/x", "1", build_image("first"))
    digest = push(sandbox, "engineering/x", "2", build_image("second"), ALICE_AUTH)
    tag = sandbox.state.get_tag("engineering", "x", "2")
    assert (tag.digest, tag.author) == (digest, "alice")
    assert sandbox.state.get_repository("engineering", "x").pushes == 2


def test_overwriting_a_mutable_tag_keeps_created_at(sandbox):
    sandbox.state.add_repository(RepositoryRecord("engineering", "m"))
    push(sandbox, "engineering/m", "latest", build_image("one"))
    before = sandbox.state.get_tag("engineering", "m", "latest")
    digest = push(sandbox, "engineering/m", "latest", build_image("two"))
    after = sandbox.state.get_tag("engineering", "m", "latest")
    assert after.digest == digest != before.digest
    assert after.created_at == before.created_at
    assert after.sequence > before.sequence


def test_a_tag_limit_evicts_the_oldest_tags(sandbox):
    sandbox.state.add_repository(RepositoryRecord("ci", "limited", tag_limit=2))
    for tag in ("a", "b", "a", "c"):
        push(sandbox, "ci/limited", tag, build_image(tag))
    assert [tag.name for tag in sandbox.state.list_tags("ci", "limited")] == ["a", "c"]


def test_pushing_to_an_absent_repository_is_name_unknown(sandbox):
    with pytest.raises(PushError) as raised:
        push(sandbox, "engineering/absent", "1", build_image("x"))
    assert (raised.value.status, raised.value.code) == (404, "NAME_UNKNOWN")


def test_create_on_push_creates_a_private_mutable_repository():
    with SandboxServer(create_on_push=True) as server:
        push(server, "engineering/fresh", "1", build_image("x"), ALICE_AUTH)
        created = server.state.get_repository("engineering", "fresh")
        assert created is not None
        assert (created.visibility, created.immutable, created.pushes) == ("private", False, 1)


def test_a_manifest_with_an_unknown_blob_is_refused(sandbox, immutable_x, registry_for, error_code):
    image = build_image("missing-blobs")
    answer = registry_for(ADMIN_AUTH, PUSH_X).put(
        "/v2/engineering/x/manifests/1",
        content=image.manifest,
        headers={"Content-Type": image.media_type},
    )
    assert (answer.status_code, error_code(answer)) == (400, "MANIFEST_BLOB_UNKNOWN")


def test_an_index_with_an_unknown_platform_manifest_is_refused(
    sandbox, immutable_x, registry_for, error_code
):
    index = build_index([build_image("p", arch="amd64"), build_image("p", arch="arm64")])
    answer = registry_for(ADMIN_AUTH, PUSH_X).put(
        "/v2/engineering/x/manifests/multi",
        content=index.manifest,
        headers={"Content-Type": index.media_type},
    )
    assert (answer.status_code, error_code(answer)) == (400, "MANIFEST_BLOB_UNKNOWN")


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"not json", OCI_MANIFEST, "MANIFEST_INVALID"),
        (b'{"schemaVersion": 2}', "text/plain", "MANIFEST_INVALID"),
        (
            b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}',
            OCI_MANIFEST,
            "MANIFEST_INVALID",
        ),
    ],
)
def test_malformed_manifests_are_manifest_invalid(
    sandbox, immutable_x, registry_for, error_code, content, content_type, code
):
    answer = registry_for(ADMIN_AUTH, PUSH_X).put(
        "/v2/engineering/x/manifests/1", content=content, headers={"Content-Type": content_type}
    )
    assert (answer.status_code, error_code(answer)) == (400, code)


def test_docker_manifest_lists_are_stored_and_listed_per_platform(sandbox, immutable_x, admin):
    images = [build_image("d", arch=arch, style="docker") for arch in ("amd64", "arm64")]
    index = build_index(images)
    push(sandbox, "engineering/x", "multi", index)
    entries = admin.get("/api/v0/repositories/engineering/x/tags/multi").json()
    assert {entry["digest"] for entry in entries} == {index.digest}
    assert [entry["manifest"]["digest"] for entry in entries] == [i.digest for i in images]


def test_monolithic_and_chunked_uploads(sandbox, immutable_x, registry_for, error_code):
    client = registry_for(ADMIN_AUTH, PUSH_X)
    data = b"monolithic blob"
    digest = sha256_digest(data)
    created = client.post(f"/v2/engineering/x/blobs/uploads/?digest={digest}", content=data)
    assert (created.status_code, created.headers["Docker-Content-Digest"]) == (201, digest)
    wrong = client.post(f"/v2/engineering/x/blobs/uploads/?digest={digest}", content=b"other")
    assert (wrong.status_code, error_code(wrong)) == (400, "DIGEST_INVALID")

    started = client.post("/v2/engineering/x/blobs/uploads/")
    assert started.status_code == 202
    location = started.headers["Location"]
    assert started.headers["Docker-Upload-UUID"] in location
    assert client.patch(location, content=b"chunk one, ").headers["Range"] == "0-10"
    assert client.patch(location, content=b"chunk two").headers["Range"] == "0-19"
    assert client.get(location).status_code == 204
    whole = b"chunk one, chunk two"
    finished = client.put(location, params={"digest": sha256_digest(whole)})
    assert finished.status_code == 201
    assert client.get(f"/v2/engineering/x/blobs/{sha256_digest(whole)}").content == whole
    gone = client.get(location)
    assert (gone.status_code, error_code(gone)) == (404, "BLOB_UPLOAD_UNKNOWN")


def test_cross_repository_mount_needs_pull_on_the_source(sandbox, immutable_x, registry_for):
    layer = sandbox.state.blob(
        "library", "nginx", build_image("library/nginx:1.25").layers[0].digest
    )
    digest = sha256_digest(layer)
    params = {"mount": digest, "from": "library/nginx"}
    without_source = registry_for(ADMIN_AUTH, PUSH_X)
    assert without_source.post("/v2/engineering/x/blobs/uploads/", params=params).status_code == 202
    with_source = registry_for(ADMIN_AUTH, PUSH_X, "repository:library/nginx:pull")
    mounted = with_source.post("/v2/engineering/x/blobs/uploads/", params=params)
    assert (mounted.status_code, mounted.headers["Docker-Content-Digest"]) == (201, digest)
    assert sandbox.state.blob("engineering", "x", digest) == layer


def test_registry_tags_list_pages_with_n_and_last(sandbox, registry_for):
    for tag in ("a", "b", "c"):
        sandbox.state.put_image("ci", "builder", tag)
    client = registry_for(ADMIN_AUTH, "repository:ci/builder:pull")
    first = client.get("/v2/ci/builder/tags/list", params={"n": 2})
    assert first.json()["tags"] == ["a", "b"]
    assert 'rel="next"' in first.headers["Link"]
    rest = client.get("/v2/ci/builder/tags/list", params={"n": 2, "last": "b"})
    assert (rest.json()["tags"], rest.headers.get("Link")) == (["c"], None)


def test_deleting_a_manifest_removes_its_tags(sandbox, registry_for, error_code):
    digest = sandbox.state.put_image("ci", "builder", "gone")
    client = registry_for(ADMIN_AUTH, "repository:ci/builder:*")
    assert client.delete(f"/v2/ci/builder/manifests/{digest}").status_code == 202
    answer = client.get("/v2/ci/builder/manifests/gone")
    assert (answer.status_code, error_code(answer)) == (404, "MANIFEST_UNKNOWN")


def test_invalid_tags_and_digests_are_refused(sandbox, immutable_x, registry_for, error_code):
    client = registry_for(ADMIN_AUTH, PUSH_X)
    bad_tag = client.put("/v2/engineering/x/manifests/-bad", content=b"{}")
    assert (bad_tag.status_code, error_code(bad_tag)) == (400, "TAG_INVALID")
    bad_digest = client.get("/v2/engineering/x/blobs/sha256:nothex")
    assert (bad_digest.status_code, error_code(bad_digest)) == (400, "DIGEST_INVALID")
