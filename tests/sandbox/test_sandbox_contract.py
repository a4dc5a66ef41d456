"""The sandbox's /api/v0 answers validate against the DTR 2.7 Swagger excerpt's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jsonschema
import pytest

from dtrctl.sandbox.images import build_image, build_index


def validate(swagger: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    document = {**schema, "definitions": swagger["definitions"]}
    jsonschema.Draft4Validator(document).validate(instance)


def definition(name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}"}


def array_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": definition(name)}


def assert_only_declared_fields(swagger: dict[str, Any], name: str, body: dict[str, Any]) -> None:
    """Extra fields pass the schema silently; a misspelt field must not."""
    assert set(body) <= set(swagger["definitions"][name]["properties"])


def assert_rfc3339(value: str) -> None:
    assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@pytest.fixture
def multi_platform(sandbox) -> None:
    index = build_index([build_image("c", arch="amd64"), build_image("c", arch="arm64")])
    sandbox.state.put_image("ci", "builder", "multi", index)
    sandbox.state.put_image("ci", "builder", "single", build_image("c"))


def test_a_created_and_a_fetched_repository_are_responses_repository(swagger, admin):
    created = admin.post(
        "/api/v0/repositories/engineering", json={"name": "contract", "visibility": "private"}
    ).json()
    fetched = admin.get("/api/v0/repositories/library/nginx").json()
    patched = admin.patch("/api/v0/repositories/ci/builder", json={"immutableTags": True}).json()
    for body in (created, fetched, patched):
        validate(swagger, definition("responses.Repository"), body)
        assert_only_declared_fields(swagger, "responses.Repository", body)


@pytest.mark.parametrize("path", ["/api/v0/repositories", "/api/v0/repositories/library"])
def test_repository_lists_are_responses_repositories(swagger, admin, path):
    body = admin.get(path, params={"pageSize": 100}).json()
    validate(swagger, definition("responses.Repositories"), body)
    assert body["repositories"]


@pytest.mark.parametrize("include_manifests", ["true", "false"])
def test_tag_lists_are_arrays_of_responses_list_tag(
    swagger, admin, multi_platform, include_manifests
):
    body = admin.get(
        "/api/v0/repositories/ci/builder/tags", params={"includeManifests": include_manifests}
    ).json()
    validate(swagger, array_of("responses.ListTag"), body)
    assert len(body) == 2
    for entry in body:
        assert_only_declared_fields(swagger, "responses.ListTag", entry)
        assert_rfc3339(entry["createdAt"])
        assert_rfc3339(entry["updatedAt"])


@pytest.mark.parametrize("tag", ["single", "multi"])
def test_tag_answers_are_arrays_of_responses_tag(swagger, admin, multi_platform, tag):
    body = admin.get(f"/api/v0/repositories/ci/builder/tags/{tag}").json()
    validate(swagger, array_of("responses.Tag"), body)
    for entry in body:
        assert_only_declared_fields(swagger, "responses.Tag", entry)
        assert_only_declared_fields(swagger, "responses.Manifest", entry["manifest"])
        assert_rfc3339(entry["manifest"]["createdAt"])
        assert entry["manifest"]["os"] == "linux"


def test_repository_access_is_responses_repo_user_access(swagger, admin):
    body = admin.get("/api/v0/accounts/alice/repositoryAccess/engineering/api").json()
    validate(swagger, definition("responses.RepoUserAccess"), body)
    assert_only_declared_fields(swagger, "responses.RepoUserAccess", body)
    assert body["accessLevel"] == "read-write"
