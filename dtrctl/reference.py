"""Repository names and image references, parsed with DTR's rules.

A DTR repository is always `namespace/name` (on Harbor, with `--backend harbor`, the name may be
a nested path: `project/team/app`); each part matches
`[a-z0-9]+(?:[._-][a-z0-9]+)*`, the full name at most 255 characters. Tags follow the
distribution grammar. An image reference may start with a registry host (`host[:port]/`): as in
docker, the first component is a host when it contains a dot or a colon or is `localhost`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dtrctl.errors import InvalidReference

COMPONENT_RE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")
HOST_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\]"
)
PORT_RE = re.compile(r"[0-9]{1,5}")
MAX_NAME_LENGTH = 255
DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class RepositoryName:
    """`NAMESPACE/NAME` of a repository."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Registry:
    """A registry host with an optional port; the default HTTPS port is dropped."""

    host: str
    port: int | None = None

    def __str__(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ImageReference:
    """`[HOST[:PORT]/]NAMESPACE/NAME[:TAG][@DIGEST]`, parsed."""

    registry: Registry | None
    repository: RepositoryName
    tag: str
    digest: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.registry}/" if self.registry else ""
        suffix = f"@{self.digest}" if self.digest else ""
        return f"{prefix}{self.repository}:{self.tag}{suffix}"


def validate_digest(text: str) -> str:
    if not DIGEST_RE.fullmatch(text):
        raise InvalidReference(
            f"invalid digest {text!r}",
            hint="A digest is sha256: followed by 64 lowercase hex digits",
        )
    return text


def validate_tag(text: str) -> str:
    if not TAG_RE.fullmatch(text):
        raise InvalidReference(
            f"invalid tag {text!r}",
            hint="A tag is 1 to 128 of A-Z a-z 0-9 _ . - and cannot start with . or -",
        )
    return text


def _check_component(part: str, what: str, whole: str) -> None:
    if not part:
        raise InvalidReference(f"{whole!r} has an empty {what}", hint="Use NAMESPACE/NAME")
    if not COMPONENT_RE.fullmatch(part):
        raise InvalidReference(
            f"invalid {what} {part!r} in {whole!r}",
            hint=(
                "Namespaces and names are lowercase letters and digits, "
                "separated by single '.', '_' or '-'"
            ),
        )


def _nested_name(parts: list[str], whole: str) -> RepositoryName:
    """`project/team/app`: the project, then a path of one or more components."""
    _check_component(parts[0], "project", whole)
    for part in parts[1:]:
        _check_component(part, "repository path component", whole)
    if len(whole) > MAX_NAME_LENGTH:
        raise InvalidReference(
            f"repository name {whole!r} is longer than {MAX_NAME_LENGTH} characters"
        )
    return RepositoryName(parts[0], "/".join(parts[1:]))


def _repository_from_parts(parts: list[str], whole: str, nested: bool) -> RepositoryName:
    """`nested`: the run takes nested repository paths (Harbor, MSR 4, has them; DTR never)."""
    if len(parts) > 2 and nested:
        return _nested_name(parts, whole)
    if len(parts) != 2:
        raise InvalidReference(
            f"{whole!r} is not NAMESPACE/NAME",
            hint="A DTR repository has exactly two parts, e.g. library/nginx",
        )
    _check_component(parts[0], "namespace", whole)
    _check_component(parts[1], "repository name", whole)
    if len(parts[0]) + 1 + len(parts[1]) > MAX_NAME_LENGTH:
        raise InvalidReference(
            f"repository name {whole!r} is longer than {MAX_NAME_LENGTH} characters"
        )
    return RepositoryName(parts[0], parts[1])


def parse_repository_name(text: str, *, nested: bool = False) -> RepositoryName:
    """`NAMESPACE/NAME`, as the `repo` commands take it: no host, tag or digest; with `nested`
    (the backend is Harbor) `PROJECT/PATH/...` too."""
    first, _, rest = text.partition("/")
    # A host has a port or a dot; a Harbor project may have a dot, so there only a port says so.
    if "/" in rest and (":" in first or (_looks_like_host(first) and not nested)):
        raise InvalidReference(
            f"{text!r} starts with a registry host ({first}): a repository name here has none",
            hint="Give NAMESPACE/NAME; the registry is the configured URL (--url, DTRCTL_URL)",
        )
    if "@" in text or ":" in text:
        raise InvalidReference(
            f"{text!r} names a tag or digest",
            hint="repo commands take NAMESPACE/NAME without :tag or @digest",
        )
    return _repository_from_parts(text.split("/"), text, nested)


def _looks_like_host(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


def parse_registry(text: str) -> Registry:
    """`host[:port]`, lowercased; `:443` is the same registry as no port."""
    host, port = text, None
    if text.startswith("["):
        end = text.find("]")
        if end != -1 and text[end + 1 : end + 2] == ":":
            host, port = text[: end + 1], text[end + 2 :]
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not HOST_RE.fullmatch(host):
        raise InvalidReference(f"invalid registry host {text!r}")
    port_number: int | None = None
    if port is not None:
        # ASCII digits only: str.isdigit() also accepts "²" and "５", which int() rejects or reads.
        if not PORT_RE.fullmatch(port) or not 0 < int(port) < 65536:
            raise InvalidReference(f"invalid port in registry {text!r}")
        port_number = int(port)
    if port_number == 443:
        port_number = None
    return Registry(host.lower(), port_number)


def parse_image_reference(
    text: str, *, allow_digest: bool = True, nested: bool = False
) -> ImageReference:
    """`[host[:port]/]namespace/name[:tag][@digest]`; no tag means `latest`. `nested`: as for
    `parse_repository_name`."""
    if not text or text != text.strip():
        raise InvalidReference(f"invalid reference {text!r}")
    remainder, digest = text, None
    if "@" in remainder:
        remainder, digest = remainder.split("@", 1)
        if not allow_digest:
            raise InvalidReference(
                f"{text!r} names a digest",
                hint="push-check needs a tag (name:tag); give the digest with --digest",
            )
        validate_digest(digest)
    parts = remainder.split("/")
    registry = None
    if len(parts) > 1 and _looks_like_host(parts[0]):
        registry = parse_registry(parts[0])
        parts = parts[1:]
    tag = DEFAULT_TAG
    last = parts[-1]
    if ":" in last:
        last, tag = last.split(":", 1)
        validate_tag(tag)
        parts[-1] = last
    repository = _repository_from_parts(parts, remainder, nested)
    return ImageReference(registry, repository, tag, digest)


def validate_namespace(text: str) -> str:
    _check_component(text, "namespace", text)
    return text
