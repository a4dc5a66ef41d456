"""The installed `dtrctl` finds out which kind of registry a host is, the same way whether a
profile, `--url` or only push-check's references name it (`dtrctl/backends/detect.py`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.push_check import Certificates, make_certificates
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import run_dtrctl

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "certs")


@pytest.fixture
def harbor(certificates: Certificates) -> Iterator[SandboxServer]:
    """Over TLS: a host push-check's references name is reached over https."""
    with SandboxServer(
        flavor="harbor",
        seed="demo",
        tls_cert=str(certificates.cert_file),
        tls_key=str(certificates.key_file),
    ) as server:
        yield server


def docker_config(directory: Path, host: str, user: tuple[str, str]) -> Path:
    """A docker config with a login for `host` only, as `docker login` leaves it."""
    directory.mkdir()
    auth = base64.b64encode(":".join(user).encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return directory


def test_a_harbor_named_only_by_the_references_gets_harbor_s_verdicts(
    harbor: SandboxServer, certificates: Certificates, tmp_path: Path
) -> None:
    """No --url, no profile, `auto`, credentials from the docker config: `library/nginx:1.25` is
    immutable by a project rule, so a push of other content is refused, not an overwrite."""
    docker = docker_config(tmp_path / "docker", harbor.host_port, ADMIN)
    reference = f"{harbor.host_port}/library/nginx:1.25"
    run = run_dtrctl(
        "push-check", reference, "--digest", "sha256:" + "0" * 64, "-o", "json",
        env={"DOCKER_CONFIG": str(docker), "DTRCTL_CA_FILE": str(certificates.ca_file)},
    )  # fmt: skip
    [result] = json.loads(run.stdout)["results"]
    assert (result["verdict"], result["immutable"]) == ("collision", True), run.stdout
    assert run.code == 1, run.stderr
