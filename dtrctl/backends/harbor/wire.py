"""What dtrctl reads from Harbor's API v2.0: projects, repositories, artifacts and their tags.

Parsing is strict about the fields dtrctl decides on (a wrong type raises `InvalidResponse`) and
lenient about the rest: Harbor omits empty fields (`omitempty`), so a missing field is its zero
value, as Harbor's own Go client reads it. Pure: no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dtrctl.errors import InvalidResponse


def _value(body: dict[str, Any], key: str, kind: type, default: Any, what: str) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise InvalidResponse(f"Harbor sent {what} whose {key!r} is not a {kind.__name__}")
    return value


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidResponse(f"Harbor sent {what} that is not a JSON object")
    return body


@dataclass(frozen=True)
class HarborProject:
    name: str
    project_id: int
    public: bool = False

    @classmethod
    def from_api(cls, body: Any) -> HarborProject:
        body = _object(body, "a project")
        name = _value(body, "name", str, "", "a project")
        if not name:
            raise InvalidResponse("Harbor sent a project without a name")
        metadata = _value(body, "metadata", dict, {}, f"project {name}")
        return cls(
            name=name,
            project_id=_value(body, "project_id", int, 0, f"project {name}"),
            # ProjectMetadata.public is the string "true" or "false".
            public=metadata.get("public") == "true",
        )


@dataclass(frozen=True)
class HarborRepository:
    """A repository: `project` and `path` (the name without the project, may contain `/`)."""

    project: str
    path: str
    description: str = ""
    artifact_count: int = 0
    pull_count: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.project}/{self.path}"

    @classmethod
    def from_api(cls, body: Any) -> HarborRepository:
        body = _object(body, "a repository")
        name = _value(body, "name", str, "", "a repository")
        project, _, path = name.partition("/")
        if not project or not path:
            # Repository.name always includes the project (`library/app`).
            raise InvalidResponse(f"Harbor sent a repository name {name!r} without a project")
        what = f"repository {name}"
        return cls(
            project=project,
            path=path,
            description=_value(body, "description", str, "", what),
            artifact_count=_value(body, "artifact_count", int, 0, what),
            pull_count=_value(body, "pull_count", int, 0, what),
        )


@dataclass(frozen=True)
class HarborTag:
    name: str
    # None: the answer has no `immutable` field (an older Harbor, a proxy): unknown, never
    # "mutable". Harbor itself always sends it.
    immutable: bool | None
    push_time: str = ""


@dataclass(frozen=True)
class HarborArtifact:
    """An artifact with its tags; `tags[].immutable` is Harbor's verdict from the current rules
    (meaningful only when asked for with `with_immutable_status=true`)."""

    digest: str
    tags: tuple[HarborTag, ...]
    push_time: str = ""
    media_type: str = ""
    size: int = 0
    os: str = ""  # from the image config (`extra_attrs`); empty for an index
    architecture: str = ""

    def tag(self, name: str) -> HarborTag | None:
        return next((tag for tag in self.tags if tag.name == name), None)

    @classmethod
    def from_api(cls, body: Any) -> HarborArtifact:
        body = _object(body, "an artifact")
        digest = _value(body, "digest", str, "", "an artifact")
        if not digest:
            raise InvalidResponse("Harbor sent an artifact without a digest")
        raw_tags = _value(body, "tags", list, [], f"artifact {digest}")
        tags = []
        for item in raw_tags:
            tag = _object(item, f"a tag of artifact {digest}")
            what = f"a tag of artifact {digest}"
            name = _value(tag, "name", str, "", what)
            if not name:
                raise InvalidResponse(f"Harbor sent {what} without a name")
            tags.append(
                HarborTag(
                    name=name,
                    immutable=_value(tag, "immutable", bool, None, what),
                    push_time=_value(tag, "push_time", str, "", what),
                )
            )
        what = f"artifact {digest}"
        extra = _value(body, "extra_attrs", dict, {}, what) or {}
        return cls(
            digest,
            tuple(tags),
            _value(body, "push_time", str, "", what),
            media_type=_value(body, "manifest_media_type", str, "", what),
            size=_value(body, "size", int, 0, what),
            os=_value(extra, "os", str, "", what),
            architecture=_value(extra, "architecture", str, "", what),
        )
