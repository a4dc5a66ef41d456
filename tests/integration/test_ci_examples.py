"""The CI snippets of the README's push-check section, run as written against the sandbox.

The commands below must appear verbatim in the document; they run under `bash -e` (GitHub's
default shell) with the snippets' environment variables pointing at a sandbox, and skopeo told
through its user configuration that the sandbox speaks plain HTTP.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from dtrctl.sandbox.images import build_image, write_oci_layout
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, Skopeo

pytestmark = [pytest.mark.integration, pytest.mark.skopeo]

DOCUMENT = Path(__file__).resolve().parents[2] / "README.md"
GITHUB_CHECK = (
    """dtrctl push-check "engineering/api:${VERSION}" --oci-layout image --protect 'v*' """
    "--junit push-check.xml"
)
GITHUB_PUSH = """\
verdict=$(dtrctl push-check "engineering/api:${VERSION}" --oci-layout image -o json | jq -r '.results[0].verdict')
if [ "$verdict" != present ]; then
  printf '%s' "$DTRCTL_PASSWORD" | skopeo login --username "$DTRCTL_USERNAME" --password-stdin "$DTR_HOST"
  skopeo copy oci:image "docker://${DTR_HOST}/engineering/api:${VERSION}" \\
    || dtrctl push-check "engineering/api:${VERSION}" --oci-layout image
fi
"""  # noqa: E501 - the snippet's own lines
GITLAB_CHECK = (
    """dtrctl push-check "engineering/api:${CI_COMMIT_TAG}" engineering/api:latest """
    "--metadata-file metadata.json --protect 'v*' --junit push-check.xml"
)
ALICE = ("alice", "sandbox-alice-password")


def test_no_documented_example_puts_a_password_on_a_command_line() -> None:
    documents = [DOCUMENT, DOCUMENT.parent / "docs" / "ci.md"]
    for text in (path.read_text(encoding="utf-8") for path in documents):
        for line in text.splitlines():
            assert "--dest-creds" not in line and "--creds" not in line, line
            assert not re.search(r"--password[ =]", line), line
            # A secret's variable is expanded only to be piped to --password-stdin.
            if re.search(r"\$\{?\w*(PASSWORD|TOKEN)", line):
                assert "--password-stdin" in line, line


def test_the_commands_are_the_documented_ones() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    assert f"run: {GITHUB_CHECK}\n" in text
    assert textwrap.indent(GITHUB_PUSH, " " * 10) in text
    assert f"    - {GITLAB_CHECK}\n" in text


@dataclass(frozen=True)
class Shell:
    env: Mapping[str, str]
    workdir: Path

    def run(self, script: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", script],
            env={**self.env, **env},
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )


@pytest.fixture
def shell(sandbox: SandboxServer, skopeo: Skopeo, tmp_path: Path) -> Shell:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    home = Path(os.environ["HOME"])
    containers = home / ".config" / "containers"
    containers.mkdir(parents=True)
    (containers / "policy.json").write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    (containers / "registries.conf").write_text(
        f'[[registry]]\nlocation = "{sandbox.host_port}"\ninsecure = true\n'
    )
    bin_dirs = [str(Path(sys.executable).parent), str(Path(skopeo.path).parent)]
    env = {
        **os.environ,
        "PATH": os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")]),
        "DTR_HOST": sandbox.host_port,
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": ALICE[0],
        "DTRCTL_PASSWORD": ALICE[1],
    }
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    return Shell(env, workdir)


def manifest_puts(sandbox: SandboxServer) -> list[str]:
    return [
        request.path
        for request in sandbox.state.requests
        if request.method == "PUT" and "/manifests/" in request.path
    ]


def junit_outcomes(path: Path) -> dict[str, str]:
    outcomes = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        failed = next((child.tag for child in case if child.tag in ("failure", "error")), "pass")
        outcomes[case.get("name", "")] = failed
    return outcomes


def test_github_actions_example(shell: Shell, sandbox: SandboxServer) -> None:
    sandbox.state.update_repository("engineering", "api", immutable=True, tag_limit=0)
    github = {"VERSION": "v1.0", "GITHUB_ACTIONS": "true"}
    reference = f"{sandbox.host_port}/engineering/api:v1.0"
    write_oci_layout(shell.workdir / "image", build_image("ci-build-1"), "v1.0")

    first_check = shell.run(GITHUB_CHECK, **github)
    assert first_check.returncode == 0, first_check.stderr
    assert first_check.stdout.startswith("free")
    assert junit_outcomes(shell.workdir / "push-check.xml") == {reference: "pass"}
    first_push = shell.run(GITHUB_PUSH, **github)
    assert first_push.returncode == 0, first_push.stderr
    assert manifest_puts(sandbox) == ["/v2/engineering/api/manifests/v1.0"]

    # The same build again (a re-run): already published, nothing is pushed.
    sandbox.state.clear_requests()
    rerun_check = shell.run(GITHUB_CHECK, **github)
    assert rerun_check.returncode == 0
    assert rerun_check.stdout.startswith("present")
    assert shell.run(GITHUB_PUSH, **github).returncode == 0
    assert manifest_puts(sandbox) == []

    # Another build under the same version: the check fails the job, with an annotation.
    shutil.rmtree(shell.workdir / "image")
    write_oci_layout(shell.workdir / "image", build_image("ci-build-2"), "v1.0")
    refused_check = shell.run(GITHUB_CHECK, **github)
    assert refused_check.returncode == 1
    annotations = [line for line in refused_check.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1
    assert "cannot be overwritten because" in annotations[0]
    assert junit_outcomes(shell.workdir / "push-check.xml") == {reference: "failure"}
    # Had the check been skipped, DTR's refusal is the final word: the push step fails too.
    refused_push = shell.run(GITHUB_PUSH, **github)
    assert refused_push.returncode == 1
    assert "collision" in refused_push.stdout


def test_gitlab_ci_example(shell: Shell, sandbox: SandboxServer, skopeo: Skopeo) -> None:
    build = build_image("gitlab-build-1")
    (shell.workdir / "metadata.json").write_text(
        json.dumps({"containerimage.digest": build.digest})
    )
    gitlab = {"CI_COMMIT_TAG": "v2.0"}
    version = f"{sandbox.host_port}/engineering/api:v2.0"
    latest = f"{sandbox.host_port}/engineering/api:latest"

    clear = shell.run(GITLAB_CHECK, **gitlab)
    assert clear.returncode == 0, clear.stdout + clear.stderr
    assert junit_outcomes(shell.workdir / "push-check.xml") == {version: "pass", latest: "pass"}

    # Another pipeline published v2.0 with other content, and latest with ours.
    layout = shell.workdir / "others"
    write_oci_layout(layout, build_image("gitlab-build-other"), "other")
    write_oci_layout(layout, build, "ours")
    creds = ":".join(ALICE)
    skopeo.copy(layout, "other", f"{sandbox.host_port}/engineering/api:v2.0", creds=creds)
    skopeo.copy(layout, "ours", f"{sandbox.host_port}/engineering/api:latest", creds=creds)

    protected = shell.run(GITLAB_CHECK, **gitlab)
    assert protected.returncode == 1
    lines = protected.stdout.splitlines()
    assert lines[0].startswith("collision")
    assert "matches --protect 'v*'" in lines[0]
    assert lines[1].startswith("present")
    assert junit_outcomes(shell.workdir / "push-check.xml") == {
        version: "failure",
        latest: "pass",
    }
