"""DTR's `/api/v0` bodies as the sandbox stores and writes them, from the DTR 2.7 Swagger
excerpt (../shared/dtr-api/dtr-2.7-swagger-excerpt.json): `responses.Repository`,
`responses.Tag` and `responses.Manifest`.

Written for the sandbox alone, never shared with the client (`dtrctl.records`,
`dtrctl.backends`): a server that borrowed the client's reading of DTR would agree with the
client's mistakes instead of catching them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

# `responses.Repository.visibility` and `.namespaceType` enums.
VISIBILITIES = ("public", "private")
NAMESPACE_TYPES = ("user", "organization")


@dataclass(frozen=True)
class RepositoryRecord:
    """A repository as the sandbox keeps it: DTR's settings (a Harbor repository uses the
    namespace for its project and the name for its path, and leaves the settings alone)."""

    namespace: str
    name: str
    immutable: bool = False
    visibility: str = "private"
    scan_on_push: bool = False
    tag_limit: int = 0
    short_description: str = ""
    long_description: str = ""
    id: str = ""
    namespace_type: str = "organization"
    pulls: int = 0
    pushes: int = 0
    enable_manifest_lists: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    def with_changes(self, **changes: Any) -> RepositoryRecord:
        return replace(self, **changes)

    def to_api(self) -> dict[str, Any]:
        """`responses.Repository`: every field, the required ones and `longDescription`."""
        return {
            "id": self.id,
            "namespace": self.namespace,
            "namespaceType": self.namespace_type,
            "name": self.name,
            "shortDescription": self.short_description,
            "longDescription": self.long_description,
            "visibility": self.visibility,
            "scanOnPush": self.scan_on_push,
            "immutableTags": self.immutable,
            "enableManifestLists": self.enable_manifest_lists,
            "pulls": self.pulls,
            "pushes": self.pushes,
            "tagLimit": self.tag_limit,
        }


@dataclass(frozen=True)
class ManifestBody:
    """`responses.Manifest`, the part of a tag entry describing what it points to."""

    digest: str
    media_type: str = ""
    config_media_type: str = ""
    config_digest: str = ""
    os: str = ""
    architecture: str = ""
    size: int = 0
    created_at: str = ""

    def to_api(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "mediaType": self.media_type,
            "configMediaType": self.config_media_type,
            "configDigest": self.config_digest,
            "os": self.os,
            "architecture": self.architecture,
            "size": self.size,
            "createdAt": self.created_at,
        }


@dataclass(frozen=True)
class TagBody:
    """`responses.Tag`: its required fields (the sandbox has no Notary: never signed)."""

    name: str
    digest: str
    author: str
    created_at: str
    updated_at: str
    manifest: ManifestBody

    def to_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "author": self.author,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "inNotary": False,
            "hashMismatch": False,
            "manifest": self.manifest.to_api(),
        }
