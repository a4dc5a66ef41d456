"""Repository and tag bodies: strict parsing, complete request bodies, snake_case output."""

from __future__ import annotations

from typing import Any

import pytest

from dtrctl.backends.dtr.wire import (
    create_body,
    repository_from_api,
    repository_to_api,
    tag_from_api,
    tag_to_api,
    update_body,
)
from dtrctl.records.repository import Repository, TagManifest

DIGEST = "sha256:" + "1" * 64
CONFIG_DIGEST = "sha256:" + "2" * 64

WRITABLE_FIELDS = {
    "shortDescription",
    "longDescription",
    "visibility",
    "scanOnPush",
    "immutableTags",
    "enableManifestLists",
    "tagLimit",
}


def repository_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "0f9e7a4c-56b8-4e0a-9d1c-2b4f6a8c0e12",
        "namespace": "engineering",
        "namespaceType": "organization",
        "name": "api",
        "shortDescription": "the API server",
        "longDescription": "Built from main.",
        "visibility": "public",
        "scanOnPush": True,
        "immutableTags": True,
        "enableManifestLists": False,
        "pulls": 12,
        "pushes": 3,
        "tagLimit": 0,
    }
    body.update(overrides)
    return body


def tag_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "1.4.2",
        "digest": DIGEST,
        "author": "ci-bot",
        "createdAt": "2024-05-01T10:00:00Z",
        "updatedAt": "2024-05-02T11:30:00Z",
        "hashMismatch": False,
        "inNotary": True,
        "manifest": {
            "digest": DIGEST,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "configMediaType": "application/vnd.docker.container.image.v1+json",
            "configDigest": CONFIG_DIGEST,
            "os": "linux",
            "architecture": "amd64",
            "size": 2811,
            "createdAt": "2024-05-01T09:59:00Z",
        },
    }
    body.update(overrides)
    return body


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


# Repository


def test_repository_from_api_reads_every_field() -> None:
    repository = repository_from_api(repository_body())
    assert repository == Repository(
        namespace="engineering",
        name="api",
        immutable=True,
        visibility="public",
        scan_on_push=True,
        tag_limit=0,
        short_description="the API server",
        long_description="Built from main.",
        id="0f9e7a4c-56b8-4e0a-9d1c-2b4f6a8c0e12",
        namespace_type="organization",
        pulls=12,
        pushes=3,
    )
    assert repository.full_name == "engineering/api"


@pytest.mark.parametrize(
    "body",
    [
        repository_body(),
        repository_body(immutableTags=False, tagLimit=25, visibility="private", scanOnPush=False),
        repository_body(namespaceType="user", enableManifestLists=True, longDescription=""),
    ],
)
def test_repository_api_round_trip(body: dict[str, Any]) -> None:
    repository = repository_from_api(body)
    assert repository_to_api(repository) == body
    assert repository_from_api(repository_to_api(repository)) == repository


def test_repository_optional_fields_default_when_absent() -> None:
    minimal = {
        "namespace": "engineering",
        "name": "api",
        "visibility": "private",
        "immutableTags": False,
    }
    assert repository_from_api(minimal) == Repository("engineering", "api")


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "engineering/api",
        without(repository_body(), "namespace"),
        without(repository_body(), "name"),
        without(repository_body(), "immutableTags"),
        without(repository_body(), "visibility"),
        repository_body(immutableTags="true"),
        repository_body(immutableTags=1),
        repository_body(immutableTags=None),
        repository_body(tagLimit=True),
        repository_body(tagLimit="10"),
        repository_body(tagLimit=2.5),
        repository_body(pulls=False),
        repository_body(scanOnPush="no"),
        repository_body(visibility="internal"),
        repository_body(namespace=7),
        repository_body(shortDescription=None),
    ],
)
def test_garbled_repository_bodies_raise_value_error(body: Any) -> None:
    with pytest.raises(ValueError):
        repository_from_api(body)


def test_bool_where_a_number_belongs_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'tagLimit' is a boolean"):
        repository_from_api(repository_body(tagLimit=False))


def test_create_body_has_every_writable_field_with_json_booleans() -> None:
    repository = Repository("engineering", "api", immutable=True, enable_manifest_lists=True)
    body = create_body(repository)
    assert body == {
        "name": "api",
        "shortDescription": "",
        "longDescription": "",
        "visibility": "private",
        "scanOnPush": False,
        "immutableTags": True,
        "enableManifestLists": False,
        "tagLimit": 0,
    }
    for key in ("scanOnPush", "immutableTags", "enableManifestLists"):
        assert type(body[key]) is bool


def test_update_body_has_every_writable_field_and_no_name() -> None:
    repository = repository_from_api(repository_body(enableManifestLists=True, tagLimit=7))
    body = update_body(repository)
    assert set(body) == WRITABLE_FIELDS
    assert body["immutableTags"] is True
    assert body["scanOnPush"] is True
    # Deprecated in DTR: never sent as true, even when the server reports it on.
    assert body["enableManifestLists"] is False
    assert body["tagLimit"] == 7
    assert body["visibility"] == "public"
    assert create_body(repository) == {"name": "api", **body}


def test_with_changes_leaves_the_original_untouched() -> None:
    original = Repository("engineering", "api", tag_limit=5)
    changed = original.with_changes(immutable=True, tag_limit=0)
    assert (original.immutable, original.tag_limit) == (False, 5)
    assert (changed.immutable, changed.tag_limit) == (True, 0)


def test_repository_json_is_snake_case_with_the_documented_keys() -> None:
    output = repository_from_api(repository_body(tagLimit=4)).to_json()
    assert output == {
        "namespace": "engineering",
        "name": "api",
        "repository": "engineering/api",
        "immutable": True,
        "visibility": "public",
        "scan_on_push": True,
        "tag_limit": 4,
        "short_description": "the API server",
        "long_description": "Built from main.",
        "namespace_type": "organization",
        "pulls": 12,
        "pushes": 3,
    }


# Tags


def test_tag_api_round_trip() -> None:
    body = tag_body()
    tag = tag_from_api(body)
    assert tag_to_api(tag) == body
    assert tag_from_api(tag_to_api(tag)) == tag
    assert tag.manifest.architecture == "amd64"
    assert tag.in_notary is True


def test_tag_without_manifest_takes_the_tag_digest() -> None:
    tag = tag_from_api({"name": "latest", "digest": DIGEST})
    assert tag.manifest == TagManifest(DIGEST)
    assert tag.author == ""


@pytest.mark.parametrize(
    "body",
    [
        None,
        ["latest"],
        without(tag_body(), "name"),
        without(tag_body(), "digest"),
        tag_body(digest=None),
        tag_body(name=1),
        tag_body(inNotary="false"),
        tag_body(hashMismatch=0),
        tag_body(manifest="sha256:abc"),
        tag_body(manifest={"mediaType": "application/vnd.oci.image.manifest.v1+json"}),
        tag_body(manifest={"digest": DIGEST, "size": True}),
        tag_body(manifest={"digest": DIGEST, "size": "2811"}),
    ],
)
def test_garbled_tag_bodies_raise_value_error(body: Any) -> None:
    with pytest.raises(ValueError):
        tag_from_api(body)


def test_tag_json_is_snake_case_with_manifest_details() -> None:
    assert tag_from_api(tag_body()).to_json() == {
        "name": "1.4.2",
        "digest": DIGEST,
        "author": "ci-bot",
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-02T11:30:00Z",
        "media_type": "application/vnd.docker.distribution.manifest.v2+json",
        "config_digest": CONFIG_DIGEST,
        "os": "linux",
        "architecture": "amd64",
    }
