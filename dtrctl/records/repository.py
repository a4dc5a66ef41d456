"""Data models shared by the client, the CLI and the sandbox server.

They convert between DTR's camelCase API bodies (`to_api`/`from_api`) and dtrctl's stable
snake_case JSON output (`to_json`). Parsing is strict about types: a garbled answer raises
`ValueError`, which the client turns into `InvalidResponse` rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

VISIBILITIES = ("private", "public")
ACCESS_LEVELS = ("read-only", "read-write", "admin")
NAMESPACE_TYPES = ("user", "organization")


def _typed(body: dict[str, Any], key: str, kind: type, default: Any = ...) -> Any:
    if key not in body:
        if default is ...:
            raise ValueError(f"field {key!r} is missing")
        return default
    value = body[key]
    # bool is a subclass of int: a boolean where a number belongs is garbled, not 0/1.
    if kind is int and isinstance(value, bool):
        raise ValueError(f"field {key!r} is a boolean, expected a number")
    if not isinstance(value, kind):
        raise ValueError(f"field {key!r} has type {type(value).__name__}, expected {kind.__name__}")
    return value


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

    @classmethod
    def from_api(cls, body: Any) -> Repository:
        if not isinstance(body, dict):
            raise ValueError("a repository must be a JSON object")
        visibility = _typed(body, "visibility", str)
        if visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility {visibility!r}")
        return cls(
            namespace=_typed(body, "namespace", str),
            name=_typed(body, "name", str),
            immutable=_typed(body, "immutableTags", bool),
            visibility=visibility,
            scan_on_push=_typed(body, "scanOnPush", bool, False),
            tag_limit=_typed(body, "tagLimit", int, 0),
            short_description=_typed(body, "shortDescription", str, ""),
            long_description=_typed(body, "longDescription", str, ""),
            id=_typed(body, "id", str, ""),
            namespace_type=_typed(body, "namespaceType", str, "organization"),
            pulls=_typed(body, "pulls", int, 0),
            pushes=_typed(body, "pushes", int, 0),
            enable_manifest_lists=_typed(body, "enableManifestLists", bool, False),
        )

    def to_api(self) -> dict[str, Any]:
        """The full `responses.Repository` body (what the server answers)."""
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

    def update_body(self) -> dict[str, Any]:
        """Every writable field (`forms.UpdateRepo`): a PATCH is never partial."""
        return {
            "shortDescription": self.short_description,
            "longDescription": self.long_description,
            "visibility": self.visibility,
            "scanOnPush": self.scan_on_push,
            "immutableTags": self.immutable,
            # Deprecated in DTR: always false.
            "enableManifestLists": False,
            "tagLimit": self.tag_limit,
        }

    def create_body(self) -> dict[str, Any]:
        """The full `forms.CreateRepo` body: every field, booleans as JSON booleans."""
        return {"name": self.name, **self.update_body()}

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

    @classmethod
    def from_api(cls, body: Any) -> RepositoryAccess:
        if not isinstance(body, dict):
            raise ValueError("a repository access answer must be a JSON object")
        level = _typed(body, "accessLevel", str)
        if level not in ACCESS_LEVELS:
            raise ValueError(f"unknown access level {level!r}")
        return cls(level, Repository.from_api(body.get("repository")))


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

    @classmethod
    def from_api(cls, body: Any) -> TagManifest:
        if not isinstance(body, dict):
            raise ValueError("a manifest must be a JSON object")
        return cls(
            digest=_typed(body, "digest", str),
            media_type=_typed(body, "mediaType", str, ""),
            config_media_type=_typed(body, "configMediaType", str, ""),
            config_digest=_typed(body, "configDigest", str, ""),
            os=_typed(body, "os", str, ""),
            architecture=_typed(body, "architecture", str, ""),
            size=_typed(body, "size", int, 0),
            created_at=_typed(body, "createdAt", str, ""),
        )

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

    @classmethod
    def from_api(cls, body: Any) -> Tag:
        if not isinstance(body, dict):
            raise ValueError("a tag must be a JSON object")
        digest = _typed(body, "digest", str)
        manifest = body.get("manifest")
        return cls(
            name=_typed(body, "name", str),
            digest=digest,
            author=_typed(body, "author", str, ""),
            created_at=_typed(body, "createdAt", str, ""),
            updated_at=_typed(body, "updatedAt", str, ""),
            in_notary=_typed(body, "inNotary", bool, False),
            hash_mismatch=_typed(body, "hashMismatch", bool, False),
            manifest=TagManifest.from_api(manifest)
            if manifest is not None
            else TagManifest(digest),
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "author": self.author,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "inNotary": self.in_notary,
            "hashMismatch": self.hash_mismatch,
            "manifest": self.manifest.to_api(),
        }

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
