"""skopeo, a real registry client, pushes to the Harbor flavor and meets Harbor's 412."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dtrctl.sandbox.images import Artifact, build_image, write_oci_layout
from dtrctl.sandbox.server import SandboxServer

pytestmark = pytest.mark.skopeo
ROBOT_CREDENTIALS = "robot$engineering+ci:sandbox-robot-ci-secret"


def skopeo_copy(
    skopeo: str, server: SandboxServer, layout: Path, artifact: Artifact, reference: str
) -> subprocess.CompletedProcess[str]:
    tag = artifact.digest.removeprefix("sha256:")[:16]
    write_oci_layout(layout, artifact, tag)
    return subprocess.run(
        [
            skopeo,
            "copy",
            "--dest-creds",
            ROBOT_CREDENTIALS,
            "--dest-tls-verify=false",
            f"oci:{layout}:{tag}",
            f"docker://{server.host_port}/{reference}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_skopeo_re_push_to_an_immutable_tag_fails_with_harbors_message(
    skopeo, harbor, harbor_for, tmp_path
):
    first = build_image("skopeo-first")
    pushed = skopeo_copy(skopeo, harbor, tmp_path, first, "engineering/tools/x:v1")
    assert pushed.returncode == 0, pushed.stderr
    assert harbor.state.get_tag("engineering", "tools/x", "v1").digest == first.digest

    rule = {
        "action": "immutable",
        "template": "immutable_template",
        "scope_selectors": {
            "repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": "tools/*"}
            ]
        },
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
    }
    created = harbor_for(("dave", "sandbox-dave-password")).post(
        "/api/v2.0/projects/engineering/immutabletagrules",
        json=rule,
        headers={"X-Is-Resource-Name": "true"},
    )
    assert created.status_code == 201

    for again in (first, build_image("skopeo-second")):
        refused = skopeo_copy(
            skopeo, harbor, tmp_path / again.digest[7:15], again, "engineering/tools/x:v1"
        )
        assert refused.returncode != 0
        assert (
            "Failed to process request due to 'tools/x:v1' configured as immutable."
            in refused.stderr
        )
    assert harbor.state.get_tag("engineering", "tools/x", "v1").digest == first.digest
