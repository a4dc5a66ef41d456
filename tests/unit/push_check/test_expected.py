"""The expected digest: from --digest, --config-digest, an OCI layout or buildx metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dtrctl.errors import ExitCode, UsageError
from dtrctl.push_check.expected import DigestKind, read_expected_content
from dtrctl.sandbox.images import build_image, build_index, write_oci_layout

DIGEST = "sha256:" + "c" * 64


def test_nothing_given_means_no_expected_content() -> None:
    assert read_expected_content() is None


def test_digest_and_config_digest() -> None:
    manifest = read_expected_content(digest=DIGEST)
    assert manifest is not None
    assert (manifest.digest, manifest.kind) == (DIGEST, DigestKind.MANIFEST)
    config = read_expected_content(config_digest=DIGEST)
    assert config is not None
    assert (config.digest, config.kind) == (DIGEST, DigestKind.CONFIG)


@pytest.mark.parametrize("text", ["sha256:abc", "c" * 64, "sha256:" + "C" * 64, "md5:" + "c" * 32])
def test_malformed_digest_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        read_expected_content(digest=text)
    assert raised.value.exit_code == ExitCode.USAGE
    assert "--digest" in raised.value.message


def test_two_sources_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--digest and --oci-layout cannot be combined"):
        read_expected_content(digest=DIGEST, oci_layout=str(tmp_path))


def test_oci_layout_with_one_image(tmp_path: Path) -> None:
    image = build_image("one")
    write_oci_layout(tmp_path / "layout", image, "1.0")
    expected = read_expected_content(oci_layout=str(tmp_path / "layout"))
    assert expected is not None
    assert expected.digest == image.digest
    assert expected.kind is DigestKind.MANIFEST


def test_oci_layout_chooses_by_ref_name(tmp_path: Path) -> None:
    single = build_image("single")
    multi = build_index([build_image("m", arch="amd64"), build_image("m", arch="arm64")])
    layout = tmp_path / "layout"
    write_oci_layout(layout, single, "single")
    write_oci_layout(layout, multi, "multi")
    chosen = read_expected_content(oci_layout=f"{layout}:multi")
    assert chosen is not None
    assert chosen.digest == multi.digest  # the index digest, as a registry reports it
    with pytest.raises(UsageError) as ambiguous:
        read_expected_content(oci_layout=str(layout))
    assert "2 images" in ambiguous.value.message
    assert "multi, single" in (ambiguous.value.hint or "")
    with pytest.raises(UsageError, match="no image named 'other'"):
        read_expected_content(oci_layout=f"{layout}:other")


def test_oci_layout_directory_whose_name_has_a_colon(tmp_path: Path) -> None:
    image = build_image("colon")
    layout = tmp_path / "build:1"
    write_oci_layout(layout, image, "1.0")
    expected = read_expected_content(oci_layout=str(layout))
    assert expected is not None
    assert expected.digest == image.digest


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("not json", "is not JSON"),
        (json.dumps({"manifests": "nope"}), "is not an OCI image index"),
        (json.dumps({"manifests": [{"mediaType": "x"}]}), "has no digest"),
        (json.dumps({"manifests": [{"digest": "sha256:short"}]}), "invalid digest"),
    ],
)
def test_broken_oci_layout_is_a_usage_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "index.json").write_text(content)
    with pytest.raises(UsageError, match=message):
        read_expected_content(oci_layout=str(tmp_path))


def test_oci_layout_that_is_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a directory"):
        read_expected_content(oci_layout=str(tmp_path / "missing"))


def test_buildx_metadata_file(tmp_path: Path) -> None:
    metadata = tmp_path / "metadata.json"
    metadata.write_text(
        json.dumps(
            {
                "buildx.build.ref": "builder/builder0/abc",
                "containerimage.config.digest": "sha256:" + "d" * 64,
                "containerimage.digest": DIGEST,
            }
        )
    )
    expected = read_expected_content(metadata_file=metadata)
    assert expected is not None
    assert expected.digest == DIGEST
    assert expected.kind is DigestKind.MANIFEST


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({"buildx.build.ref": "x"}), "has no 'containerimage.digest'"),
        (json.dumps({"containerimage.digest": 5}), "has no 'containerimage.digest'"),
        (json.dumps({"containerimage.digest": "sha256:zz"}), "invalid digest"),
        ("{", "is not JSON"),
    ],
)
def test_broken_metadata_file_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    metadata = tmp_path / "metadata.json"
    metadata.write_text(content)
    with pytest.raises(UsageError, match=message):
        read_expected_content(metadata_file=metadata)
