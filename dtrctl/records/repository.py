"""Repository and tag records: plain values every layer shares, with dtrctl's stable
snake_case JSON output (`to_json`). Reading and writing DTR's wire bodies is
`dtrctl.backends.dtr.wire`'s job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

VISIBILITIES = ("private", "public")
ACCESS_LEVELS = ("read-only", "read-write", "admin")
NAMESPACE_TYPES = ("user", "organization")


@dataclass(frozen=True)
class Repository:
    """A DTR repository's settings, as the `/api/v0` repository calls read and write them."""

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
    # Fields a backend adds to the JSON form (Harbor: "immutability" and the rules that apply);
    # None for DTR, whose documents stay exactly as they are.
    extra_json: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    def with_changes(self, **changes: Any) -> Repository:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """dtrctl's stable snake_case form."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "repository": self.full_name,
            "immutable": self.immutable,
            "visibility": self.visibility,
            "scan_on_push": self.scan_on_push,
            "tag_limit": self.tag_limit,
            "short_description": self.short_description,
            "long_description": self.long_description,
            "namespace_type": self.namespace_type,
            "pulls": self.pulls,
            "pushes": self.pushes,
            **(self.extra_json or {}),
        }


@dataclass(frozen=True)
class RepositoryAccess:
    """A user's access level on a repository (`responses.RepoUserAccess`)."""

    access_level: str
    repository: Repository

    @property
    def may_push(self) -> bool:
        return self.access_level in ("read-write", "admin")


@dataclass(frozen=True)
class TagManifest:
    """The manifest a DTR tag entry points to."""

    digest: str
    media_type: str = ""
    config_media_type: str = ""
    config_digest: str = ""
    os: str = ""
    architecture: str = ""
    size: int = 0
    created_at: str = ""


@dataclass(frozen=True)
class Tag:
    """One entry of the DTR tag API: a tag, its digest, author and times."""

    name: str
    digest: str
    author: str = ""
    created_at: str = ""
    updated_at: str = ""
    in_notary: bool = False
    hash_mismatch: bool = False
    manifest: TagManifest = field(default_factory=lambda: TagManifest(digest=""))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "author": self.author,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "media_type": self.manifest.media_type,
            "config_digest": self.manifest.config_digest,
            "os": self.manifest.os,
            "architecture": self.manifest.architecture,
        }
