"""DTR's `/api/v0` wire bodies: reading and writing the camelCase JSON of the repository and
tag calls into dtrctl's records. Parsing is strict about types: a garbled answer raises
`ValueError`, which the client turns into `InvalidResponse` rather than guessing."""

from __future__ import annotations

from typing import Any

from dtrctl.records.repository import (
    ACCESS_LEVELS,
    VISIBILITIES,
    Repository,
    RepositoryAccess,
    Tag,
    TagManifest,
)


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


def repository_from_api(body: Any) -> Repository:
    if not isinstance(body, dict):
        raise ValueError("a repository must be a JSON object")
    visibility = _typed(body, "visibility", str)
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {visibility!r}")
    return Repository(
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


def repository_to_api(repository: Repository) -> dict[str, Any]:
    """The full `responses.Repository` body (what the server answers)."""
    return {
        "id": repository.id,
        "namespace": repository.namespace,
        "namespaceType": repository.namespace_type,
        "name": repository.name,
        "shortDescription": repository.short_description,
        "longDescription": repository.long_description,
        "visibility": repository.visibility,
        "scanOnPush": repository.scan_on_push,
        "immutableTags": repository.immutable,
        "enableManifestLists": repository.enable_manifest_lists,
        "pulls": repository.pulls,
        "pushes": repository.pushes,
        "tagLimit": repository.tag_limit,
    }


def update_body(repository: Repository) -> dict[str, Any]:
    """Every writable field (`forms.UpdateRepo`): a PATCH is never partial."""
    return {
        "shortDescription": repository.short_description,
        "longDescription": repository.long_description,
        "visibility": repository.visibility,
        "scanOnPush": repository.scan_on_push,
        "immutableTags": repository.immutable,
        # Deprecated in DTR: always false.
        "enableManifestLists": False,
        "tagLimit": repository.tag_limit,
    }


def create_body(repository: Repository) -> dict[str, Any]:
    """The full `forms.CreateRepo` body: every field, booleans as JSON booleans."""
    return {"name": repository.name, **update_body(repository)}


def access_from_api(body: Any) -> RepositoryAccess:
    """A user's access level on a repository (`responses.RepoUserAccess`)."""
    if not isinstance(body, dict):
        raise ValueError("a repository access answer must be a JSON object")
    level = _typed(body, "accessLevel", str)
    if level not in ACCESS_LEVELS:
        raise ValueError(f"unknown access level {level!r}")
    return RepositoryAccess(level, repository_from_api(body.get("repository")))


def manifest_from_api(body: Any) -> TagManifest:
    if not isinstance(body, dict):
        raise ValueError("a manifest must be a JSON object")
    return TagManifest(
        digest=_typed(body, "digest", str),
        media_type=_typed(body, "mediaType", str, ""),
        config_media_type=_typed(body, "configMediaType", str, ""),
        config_digest=_typed(body, "configDigest", str, ""),
        os=_typed(body, "os", str, ""),
        architecture=_typed(body, "architecture", str, ""),
        size=_typed(body, "size", int, 0),
        created_at=_typed(body, "createdAt", str, ""),
    )


def manifest_to_api(manifest: TagManifest) -> dict[str, Any]:
    return {
        "digest": manifest.digest,
        "mediaType": manifest.media_type,
        "configMediaType": manifest.config_media_type,
        "configDigest": manifest.config_digest,
        "os": manifest.os,
        "architecture": manifest.architecture,
        "size": manifest.size,
        "createdAt": manifest.created_at,
    }


def tag_from_api(body: Any) -> Tag:
    if not isinstance(body, dict):
        raise ValueError("a tag must be a JSON object")
    digest = _typed(body, "digest", str)
    manifest = body.get("manifest")
    return Tag(
        name=_typed(body, "name", str),
        digest=digest,
        author=_typed(body, "author", str, ""),
        created_at=_typed(body, "createdAt", str, ""),
        updated_at=_typed(body, "updatedAt", str, ""),
        in_notary=_typed(body, "inNotary", bool, False),
        hash_mismatch=_typed(body, "hashMismatch", bool, False),
        manifest=manifest_from_api(manifest) if manifest is not None else TagManifest(digest),
    )


def tag_to_api(tag: Tag) -> dict[str, Any]:
    return {
        "name": tag.name,
        "digest": tag.digest,
        "author": tag.author,
        "createdAt": tag.created_at,
        "updatedAt": tag.updated_at,
        "inNotary": tag.in_notary,
        "hashMismatch": tag.hash_mismatch,
        "manifest": manifest_to_api(tag.manifest),
    }
