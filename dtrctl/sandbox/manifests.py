"""Reading manifests pushed to the sandbox registry: what they are and what they reference."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from dtrctl.sandbox.images import IMAGE_MANIFEST_TYPES, INDEX_TYPES, MANIFEST_TYPES

DIGEST_PATTERN = re.compile(r"sha256:[a-f0-9]{64}")


class ManifestError(Exception):
    """A manifest the registry refuses; `code` is the distribution error code."""

    def __init__(self, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    os: str = ""
    architecture: str = ""


@dataclass(frozen=True)
class ParsedManifest:
    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...]
    # The platform manifests of an index; empty for an image manifest.
    children: tuple[Descriptor, ...]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _descriptor(value: Any, what: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestError("MANIFEST_INVALID", f"{what} is not a JSON object")
    digest = value.get("digest")
    if not isinstance(digest, str) or not DIGEST_PATTERN.fullmatch(digest):
        raise ManifestError("MANIFEST_INVALID", f"{what} has no valid sha256 digest")
    size = value.get("size", 0)
    media_type = value.get("mediaType", "")
    if not isinstance(size, int) or isinstance(size, bool) or not isinstance(media_type, str):
        raise ManifestError("MANIFEST_INVALID", f"{what} has a malformed size or mediaType")
    platform = value.get("platform")
    platform = platform if isinstance(platform, dict) else {}
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        os=str(platform.get("os", "")),
        architecture=str(platform.get("architecture", "")),
    )


def parse_manifest(content_type: str, body: bytes) -> ParsedManifest:
    """Validate the manifest's shape; the media type comes from Content-Type, else the body."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise ManifestError("MANIFEST_INVALID", f"manifest is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ManifestError("MANIFEST_INVALID", "manifest is not a JSON object")
    declared = document.get("mediaType")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in MANIFEST_TYPES:
        media_type = declared if isinstance(declared, str) else ""
    if media_type not in MANIFEST_TYPES:
        raise ManifestError(
            "MANIFEST_INVALID", f"unsupported manifest media type {content_type!r}", MANIFEST_TYPES
        )
    if declared is not None and declared != media_type:
        raise ManifestError(
            "MANIFEST_INVALID", f"mediaType {declared!r} does not match Content-Type {media_type!r}"
        )
    if document.get("schemaVersion") != 2:
        raise ManifestError("MANIFEST_INVALID", "schemaVersion must be 2")
    if media_type in IMAGE_MANIFEST_TYPES:
        layers = document.get("layers")
        if not isinstance(layers, list):
            raise ManifestError("MANIFEST_INVALID", "layers must be a list")
        return ParsedManifest(
            media_type=media_type,
            config=_descriptor(document.get("config"), "config"),
            layers=tuple(_descriptor(layer, "a layer") for layer in layers),
            children=(),
        )
    children = document.get("manifests")
    if not isinstance(children, list):
        raise ManifestError("MANIFEST_INVALID", "manifests must be a list")
    return ParsedManifest(
        media_type=media_type,
        config=None,
        layers=(),
        children=tuple(_descriptor(child, "a manifest entry") for child in children),
    )
