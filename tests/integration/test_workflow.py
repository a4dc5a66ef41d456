"""The main workflow end to end: the installed dtrctl, the sandbox, and skopeo pushing images."""

from __future__ import annotations

import json

import pytest

from dtrctl.sandbox.images import build_image, write_oci_layout
from tests.integration.conftest import run_dtrctl

pytestmark = [pytest.mark.integration, pytest.mark.skopeo]

ADMIN = "admin:sandbox-admin-password"


def test_create_immutable_push_refused_then_allowed_after_turning_it_off(sandbox, skopeo, tmp_path):
    env = {
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": "admin",
        "DTRCTL_PASSWORD": "sandbox-admin-password",
    }
    layout = tmp_path / "layout"
    write_oci_layout(layout, build_image("release one"), "one")
    write_oci_layout(layout, build_image("release two"), "two")
    destination = f"{sandbox.host_port}/engineering/payments:1.0"

    created = run_dtrctl(
        "repo", "create", "engineering/payments", "--immutable", "-o", "json", env=env
    )
    assert created.code == 0, created.stderr
    assert json.loads(created.stdout)["repository"]["immutable"] is True

    skopeo.copy(layout, "one", destination, creds=ADMIN)
    refused = skopeo.copy(layout, "two", destination, creds=ADMIN, check=False)
    assert refused.returncode != 0
    assert (
        f"tag=1.0 cannot be overwritten because {sandbox.host_port}/engineering/payments "
        "is an immutable repository" in refused.stderr
    )

    turned_off = run_dtrctl("repo", "set-immutable", "engineering/payments", "--off", env=env)
    assert turned_off.code == 0, turned_off.stderr
    assert "now mutable" in turned_off.stdout
    skopeo.copy(layout, "two", destination, creds=ADMIN)
    assert (
        sandbox.state.get_tag("engineering", "payments", "1.0").digest
        == build_image("release two").digest
    )

    listed = run_dtrctl("repo", "list", "--mutable", "-o", "json", env=env)
    assert listed.code == 0, listed.stderr
    names = [repository["repository"] for repository in json.loads(listed.stdout)["repositories"]]
    assert "engineering/payments" in names


def test_make_demo_script_runs_to_completion(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "cannot be overwritten because" in completed.stdout
    assert "Demo complete." in completed.stdout
