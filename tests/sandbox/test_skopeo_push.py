"""skopeo, a real registry client, pushes to and pulls from the sandbox."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dtrctl.sandbox.accounts import ADMIN
from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.images import Artifact, build_image, build_index, write_oci_layout
from dtrctl.sandbox.server import SandboxServer

pytestmark = pytest.mark.skopeo
CREDENTIALS = f"{ADMIN.username}:{ADMIN.password}"


def skopeo_copy(
    skopeo: str, server: SandboxServer, layout: Path, artifact: Artifact, reference: str
) -> subprocess.CompletedProcess[str]:
    tag = artifact.digest.removeprefix("sha256:")[:16]
    write_oci_layout(layout, artifact, tag)
    return subprocess.run(
        [
            skopeo,
            "copy",
            "--all",
            "--dest-creds",
            CREDENTIALS,
            "--dest-tls-verify=false",
            f"oci:{layout}:{tag}",
            f"docker://{server.host_port}/{reference}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def skopeo_raw_manifest(skopeo: str, server: SandboxServer, reference: str) -> bytes:
    return subprocess.run(
        [
            skopeo,
            "inspect",
            "--raw",
            "--creds",
            CREDENTIALS,
            "--tls-verify=false",
            f"docker://{server.host_port}/{reference}",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout


@pytest.fixture
def immutable_x(sandbox: SandboxServer) -> None:
    sandbox.state.add_repository(RepositoryRecord("engineering", "x", immutable=True))


def test_skopeo_push_to_an_immutable_tag_fails_with_dtrs_message(
    skopeo, sandbox, admin, immutable_x, tmp_path
):
    first = build_image("skopeo-first")
    pushed = skopeo_copy(skopeo, sandbox, tmp_path, first, "engineering/x:1")
    assert pushed.returncode == 0, pushed.stderr
    assert sandbox.state.get_tag("engineering", "x", "1").digest == first.digest

    refused = skopeo_copy(
        skopeo, sandbox, tmp_path, build_image("skopeo-second"), "engineering/x:1"
    )
    assert refused.returncode != 0
    repository = f"{sandbox.host_port}/engineering/x"
    assert (
        f"cannot be overwritten because {repository} is an immutable repository" in refused.stderr
    )
    assert sandbox.state.get_tag("engineering", "x", "1").digest == first.digest

    made_mutable = admin.patch("/api/v0/repositories/engineering/x", json={"immutableTags": False})
    assert made_mutable.status_code == 200
    second = build_image("skopeo-second")
    overwritten = skopeo_copy(skopeo, sandbox, tmp_path, second, "engineering/x:1")
    assert overwritten.returncode == 0, overwritten.stderr
    assert sandbox.state.get_tag("engineering", "x", "1").digest == second.digest


def test_skopeo_pushes_a_multi_platform_index_and_reads_it_back(
    skopeo, sandbox, admin, immutable_x, tmp_path
):
    index = build_index([build_image("sk", arch="amd64"), build_image("sk", arch="arm64")])
    pushed = skopeo_copy(skopeo, sandbox, tmp_path, index, "engineering/x:multi")
    assert pushed.returncode == 0, pushed.stderr
    raw = skopeo_raw_manifest(skopeo, sandbox, "engineering/x:multi")
    assert raw == index.manifest
    entries = admin.get("/api/v0/repositories/engineering/x/tags/multi").json()
    assert [entry["manifest"]["architecture"] for entry in entries] == ["amd64", "arm64"]
    assert {entry["digest"] for entry in entries} == {index.digest}
