"""The repository and tag records under their old name, for the sandbox until it has its own
wire models: new code imports `dtrctl.records.repository`."""

from dtrctl.records.repository import (
    ACCESS_LEVELS,
    NAMESPACE_TYPES,
    VISIBILITIES,
    Repository,
    RepositoryAccess,
    Tag,
    TagManifest,
)

__all__ = [
    "ACCESS_LEVELS",
    "NAMESPACE_TYPES",
    "VISIBILITIES",
    "Repository",
    "RepositoryAccess",
    "Tag",
    "TagManifest",
]
