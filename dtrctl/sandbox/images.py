"""Tiny container images built with the standard library, and a minimal registry pusher.

The images are real (a config blob, one gzip'd tar layer, a manifest) so registries and skopeo
accept them, yet deterministic: the same seed and platform always give the same digests, and
different seeds give different ones.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import ssl
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

IMAGE_MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
MANIFEST_TYPES = IMAGE_MANIFEST_TYPES + INDEX_TYPES

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
ImageStyle = Literal["oci", "docker"]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Blob:
    media_type: str
    digest: str
    data: bytes

    @classmethod
    def of(cls, media_type: str, data: bytes) -> Blob:
        return cls(media_type, sha256_digest(data), data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Image:
    os: str
    architecture: str
    config: Blob
    layers: tuple[Blob, ...]
    media_type: str
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def blobs(self) -> tuple[Blob, ...]:
        return (self.config, *self.layers)

    @property
    def images(self) -> tuple[Image, ...]:
        return (self,)


@dataclass(frozen=True)
class Index:
    """A multi-platform image: an OCI index or a Docker manifest list."""

    images: tuple[Image, ...]
    media_type: str
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def blobs(self) -> tuple[Blob, ...]:
        unique: dict[str, Blob] = {}
        for image in self.images:
            for blob in image.blobs:
                unique.setdefault(blob.digest, blob)
        return tuple(unique.values())


Artifact = Image | Index


def _layer_tar(seed: str) -> bytes:
    content = f"dtrctl sandbox image, seed {seed}\n".encode()
    buffer = io.BytesIO()
    # Fixed metadata and mtime=0 in gzip keep the bytes, hence the digests, reproducible.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        member = tarfile.TarInfo("sandbox-seed.txt")
        member.size = len(content)
        member.mode = 0o644
        archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()


def build_image(
    seed: str, os: str = "linux", arch: str = "amd64", style: ImageStyle = "oci"
) -> Image:
    """One small image; `style` picks OCI or Docker schema 2 media types."""
    docker = style == "docker"
    tar = _layer_tar(seed)
    layer = Blob.of(DOCKER_LAYER if docker else OCI_LAYER, gzip.compress(tar, mtime=0))
    config_body = {
        "architecture": arch,
        "os": os,
        "created": "2024-01-01T00:00:00Z",
        "config": {"Labels": {"dtrctl.sandbox.seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar)]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "dtrctl sandbox"}],
    }
    config = Blob.of(DOCKER_CONFIG if docker else OCI_CONFIG, _canonical_json(config_body))
    media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    }
    return Image(os, arch, config, (layer,), media_type, _canonical_json(manifest))


def build_index(images: Iterable[Image]) -> Index:
    """A multi-platform image of `images`; Docker-style images give a Docker manifest list."""
    members = tuple(images)
    if not members:
        raise ValueError("an index needs at least one image")
    docker = all(image.media_type == DOCKER_MANIFEST for image in members)
    media_type = DOCKER_MANIFEST_LIST if docker else OCI_INDEX
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {
                "mediaType": image.media_type,
                "digest": image.digest,
                "size": len(image.manifest),
                "platform": {"architecture": image.architecture, "os": image.os},
            }
            for image in members
        ],
    }
    return Index(members, media_type, _canonical_json(body))


def write_oci_layout(directory: str | Path, artifact: Artifact, tag: str) -> Path:
    """Write (or add `tag` to) an OCI image layout, as `skopeo copy oci:DIR:TAG` reads it."""
    root = Path(directory)
    blob_dir = root / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    contents = [blob.data for blob in artifact.blobs]
    contents += [image.manifest for image in artifact.images]
    contents.append(artifact.manifest)
    for data in contents:
        (blob_dir / sha256_digest(data).removeprefix("sha256:")).write_bytes(data)
    index_path = root / "index.json"
    index: dict[str, Any] = {"schemaVersion": 2, "manifests": []}
    if index_path.exists():
        index = json.loads(index_path.read_text())
    entries = [
        entry
        for entry in index.get("manifests", [])
        if entry.get("annotations", {}).get(REF_NAME_ANNOTATION) != tag
    ]
    entries.append(
        {
            "mediaType": artifact.media_type,
            "digest": artifact.digest,
            "size": len(artifact.manifest),
            "annotations": {REF_NAME_ANNOTATION: tag},
        }
    )
    index["manifests"] = entries
    index_path.write_text(json.dumps(index, indent=2))
    return root


class PushError(Exception):
    """The registry refused a step of the push; `message` is the registry's own words."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(
            f"HTTP {status} {code}: {message}" if code else f"HTTP {status}: {message}"
        )
        self.status = status
        self.code = code
        self.message = message


def _ssl_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=verify)


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> PushError:
        try:
            first = json.loads(self.body)["errors"][0]
            return PushError(self.status, str(first.get("code", "")), str(first.get("message", "")))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return PushError(self.status, "", self.body.decode(errors="replace")[:500])


class _RegistrySession:
    def __init__(self, base_url: str, context: ssl.SSLContext) -> None:
        self.base_url = base_url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        self.bearer = ""

    def send(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> _Answer:
        if url.startswith("/"):
            url = self.base_url + url
        all_headers = dict(headers or {})
        if self.bearer and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {self.bearer}"
        request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                return _Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return _Answer(error.code, dict(error.headers), error.read())
        except urllib.error.URLError as error:
            raise PushError(0, "", f"cannot reach {url}: {error.reason}") from error

    def expect(self, answer: _Answer, *statuses: int) -> _Answer:
        if answer.status not in statuses:
            raise answer.error()
        return answer

    def log_in(self, repository: str, username: str, password: str) -> None:
        answer = self.send("GET", "/v2/")
        if answer.status == 200:
            return
        challenge = answer.headers.get("WWW-Authenticate", "")
        if answer.status != 401 or not challenge.lower().startswith("bearer "):
            raise answer.error()
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = urllib.parse.urlencode(
            {"service": params.get("service", ""), "scope": f"repository:{repository}:pull,push"}
        )
        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        token_answer = self.expect(
            self.send(
                "GET", f"{params['realm']}?{query}", headers={"Authorization": f"Basic {basic}"}
            ),
            200,
        )
        grant = json.loads(token_answer.body)
        self.bearer = grant.get("token") or grant["access_token"]

    def upload_blob(self, repository: str, blob: Blob) -> None:
        if self.send("HEAD", f"/v2/{repository}/blobs/{blob.digest}").status == 200:
            return
        started = self.expect(self.send("POST", f"/v2/{repository}/blobs/uploads/"), 202)
        location = started.headers["Location"]
        separator = "&" if "?" in location else "?"
        self.expect(
            self.send(
                "PUT",
                f"{location}{separator}digest={urllib.parse.quote(blob.digest)}",
                body=blob.data,
                headers={"Content-Type": "application/octet-stream"},
            ),
            201,
        )

    def put_manifest(self, repository: str, reference: str, media_type: str, body: bytes) -> None:
        self.expect(
            self.send(
                "PUT",
                f"/v2/{repository}/manifests/{reference}",
                body=body,
                headers={"Content-Type": media_type},
            ),
            201,
        )


def push_image(
    base_url: str,
    repository: str,
    tag: str,
    artifact: Artifact,
    username: str,
    password: str,
    verify: bool | str | ssl.SSLContext = True,
) -> str:
    """Push `artifact` as `repository:tag` with the registry token flow; return its digest.

    `verify` is True (system trust), False (no verification), a CA bundle path or an SSLContext.
    Raises PushError carrying the registry's error message when a step is refused.
    """
    session = _RegistrySession(base_url, _ssl_context(verify))
    session.log_in(repository, username, password)
    for blob in artifact.blobs:
        session.upload_blob(repository, blob)
    if isinstance(artifact, Index):
        for image in artifact.images:
            session.put_manifest(repository, image.digest, image.media_type, image.manifest)
    session.put_manifest(repository, tag, artifact.media_type, artifact.manifest)
    return artifact.digest
