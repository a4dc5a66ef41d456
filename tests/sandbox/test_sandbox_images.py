"""The tiny image builder and the OCI layout writer."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

from dtrctl.sandbox.images import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    REF_NAME_ANNOTATION,
    build_image,
    build_index,
    sha256_digest,
    write_oci_layout,
)


def test_images_are_reproducible_and_differ_by_seed_and_platform():
    assert build_image("a").digest == build_image("a").digest
    digests = {
        build_image("a").digest,
        build_image("b").digest,
        build_image("a", arch="arm64").digest,
        build_image("a", style="docker").digest,
    }
    assert len(digests) == 4


def test_an_image_is_a_consistent_manifest_config_and_layer():
    image = build_image("content", os="linux", arch="ppc64le")
    manifest = json.loads(image.manifest)
    assert manifest["config"] == image.config.descriptor()
    assert manifest["layers"] == [image.layers[0].descriptor()]
    config = json.loads(image.config.data)
    assert (config["os"], config["architecture"]) == ("linux", "ppc64le")
    tar = gzip.decompress(image.layers[0].data)
    assert config["rootfs"]["diff_ids"] == [sha256_digest(tar)]
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        member = archive.extractfile("sandbox-seed.txt")
        assert member is not None
        assert b"seed content" in member.read()


def test_indexes_list_each_platform_manifest():
    images = [build_image("i", arch=arch) for arch in ("amd64", "arm64")]
    index = build_index(images)
    body = json.loads(index.manifest)
    assert index.media_type == body["mediaType"] == OCI_INDEX
    assert [
        (entry["digest"], entry["platform"]["architecture"]) for entry in body["manifests"]
    ] == [
        (images[0].digest, "amd64"),
        (images[1].digest, "arm64"),
    ]
    docker = build_index([build_image("d", style="docker")])
    assert docker.media_type == DOCKER_MANIFEST_LIST
    assert json.loads(docker.manifest)["manifests"][0]["mediaType"] == DOCKER_MANIFEST


def test_an_oci_layout_holds_every_blob_and_the_tagged_entries(tmp_path):
    single = build_image("one")
    index = build_index([build_image("m", arch="amd64"), build_image("m", arch="arm64")])
    write_oci_layout(tmp_path, single, "one")
    write_oci_layout(tmp_path, index, "multi")
    write_oci_layout(tmp_path, build_image("replaced"), "one")
    assert json.loads((tmp_path / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    entries = json.loads((tmp_path / "index.json").read_text())["manifests"]
    tagged = {entry["annotations"][REF_NAME_ANNOTATION]: entry["digest"] for entry in entries}
    assert tagged == {"one": build_image("replaced").digest, "multi": index.digest}
    for path in (tmp_path / "blobs" / "sha256").iterdir():
        assert sha256_digest(path.read_bytes()) == f"sha256:{path.name}"
    stored = {f"sha256:{path.name}" for path in (tmp_path / "blobs" / "sha256").iterdir()}
    needed = {index.digest, *(image.digest for image in index.images)}
    needed |= {blob.digest for blob in index.blobs}
    assert needed <= stored
