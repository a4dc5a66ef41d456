"""TLS as DTR users meet it: a self-signed DTR CA, `ca fetch`, --ca-file and client bundles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from dtrctl.sandbox.server import SandboxServer

DTRCTL = [sys.executable, "-m", "dtrctl"]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("tls")
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    files = {
        "ca": directory / "ca.pem",
        "cert": directory / "server.pem",
        "key": directory / "server-key.pem",
    }
    ca.cert_pem.write_to_path(str(files["ca"]))
    server_cert.private_key_pem.write_to_path(str(files["key"]))
    server_cert.cert_chain_pems[0].write_to_path(str(files["cert"]))
    return files


@pytest.fixture
def tls_sandbox(tls_files: dict[str, Path]) -> Iterator[SandboxServer]:
    with SandboxServer(
        seed="demo",
        tls_cert=str(tls_files["cert"]),
        tls_key=str(tls_files["key"]),
        tls_ca=str(tls_files["ca"]),
    ) as server:
        yield server


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*DTRCTL, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def environment(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DTRCTL_URL": url,
        "DTRCTL_USERNAME": "admin",
        "DTRCTL_PASSWORD": "sandbox-admin-password",
        "DTRCTL_RETRIES": "0",
        **extra,
    }


def test_untrusted_certificate_explains_the_fixes(tls_sandbox):
    result = run("repo", "show", "library/nginx", env=environment(tls_sandbox.url))
    assert result.returncode == 5
    assert "cannot verify the TLS certificate" in result.stderr
    assert "dtrctl ca fetch" in result.stderr and "--ca-file" in result.stderr
    assert "Traceback" not in result.stderr


def test_ca_file_makes_it_trusted(tls_sandbox, tls_files):
    env = environment(tls_sandbox.url, DTRCTL_CA_FILE=str(tls_files["ca"]))
    result = run("repo", "show", "library/nginx", env=env)
    assert result.returncode == 0, result.stderr
    assert "library/nginx" in result.stdout


def test_insecure_works_with_a_warning(tls_sandbox):
    result = run("--insecure", "repo", "show", "library/nginx", env=environment(tls_sandbox.url))
    assert result.returncode == 0, result.stderr
    assert "verification is off" in result.stderr


def test_ca_fetch_shows_fingerprint_saves_and_records_in_profile(tls_sandbox, ca, tmp_path):
    env = environment(tls_sandbox.url, DTRCTL_CONFIG_DIR=str(tmp_path / "config"))
    unconfirmed = run("--profile", "lab", "ca", "fetch", env=env)
    assert unconfirmed.returncode == 2
    assert "SHA-256" in unconfirmed.stderr
    assert not (tmp_path / "config" / "ca").exists()

    fetched = run("--profile", "lab", "ca", "fetch", "--yes", "-o", "json", env=env)
    assert fetched.returncode == 0, fetched.stderr
    import hashlib
    import json
    import ssl

    document = json.loads(fetched.stdout)
    der = ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    expected = hashlib.sha256(der).hexdigest().upper()
    assert document["sha256_fingerprint"].replace(":", "") == expected
    assert Path(document["saved_to"]).read_bytes() == ca.cert_pem.bytes()
    assert document["profile"] == "lab"
    shown = run("--profile", "lab", "repo", "show", "library/nginx", env=env)
    assert shown.returncode == 0, shown.stderr


def test_bundle_presents_client_certificate(ca, tls_files, tmp_path):
    client = ca.issue_cert("admin@ucp")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    ca.cert_pem.write_to_path(str(bundle / "ca.pem"))
    client.cert_chain_pems[0].write_to_path(str(bundle / "cert.pem"))
    client.private_key_pem.write_to_path(str(bundle / "key.pem"))
    (bundle / "env.sh").write_text("echo this must never run > should-not-exist\n")
    with SandboxServer(
        seed="demo",
        tls_cert=str(tls_files["cert"]),
        tls_key=str(tls_files["key"]),
        client_ca=str(tls_files["ca"]),
    ) as server:
        without = run(
            "--ca-file",
            str(tls_files["ca"]),
            "repo",
            "show",
            "library/nginx",
            env=environment(server.url),
        )
        assert without.returncode == 5
        with_bundle = run(
            "--bundle", str(bundle), "repo", "show", "library/nginx", env=environment(server.url)
        )
        assert with_bundle.returncode == 0, with_bundle.stderr
    assert not (bundle / "should-not-exist").exists()


def test_a_ca_in_the_system_store_is_trusted(tls_sandbox, tls_files):
    # OpenSSL's system store: SSL_CERT_FILE stands in for a CA an admin installed with
    # update-ca-certificates.
    env = environment(tls_sandbox.url, SSL_CERT_FILE=str(tls_files["ca"]), SSL_CERT_DIR="")
    result = run("repo", "show", "library/nginx", env=env)
    assert result.returncode == 0, result.stderr


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.toml"


def test_ca_fetch_without_a_profile_records_the_ca_so_the_next_command_works(tls_sandbox, tmp_path):
    env = environment(tls_sandbox.url, DTRCTL_CONFIG_DIR=str(tmp_path / "config"))
    fetched = run("ca", "fetch", "--yes", env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert "recorded as ca_file of new profile default" in fetched.stdout
    assert tls_sandbox.url in config_file(tmp_path).read_text()
    shown = run("repo", "show", "library/nginx", env=env)
    assert shown.returncode == 0, shown.stderr


def test_ca_fetch_never_writes_into_another_dtrs_profile(tls_sandbox, tmp_path):
    config = config_file(tmp_path)
    config.parent.mkdir()
    other = '[profiles.default]\nurl = "https://other-dtr.test"\nca_file = "/etc/other.pem"\n'
    config.write_text(other)
    env = environment(tls_sandbox.url, DTRCTL_CONFIG_DIR=str(tmp_path / "config"))
    fetched = run("ca", "fetch", tls_sandbox.url, "--yes", "-o", "json", env=env)
    assert fetched.returncode == 0, fetched.stderr
    document = json.loads(fetched.stdout)
    own = tls_sandbox.host_port
    assert (document["profile"], document["profile_created"]) == (own, True)
    assert f"--profile {own}" in fetched.stderr
    text = config.read_text()
    assert 'ca_file = "/etc/other.pem"' in text
    shown = run("--profile", own, "repo", "show", "library/nginx", env=env)
    assert shown.returncode == 0, shown.stderr


def test_ca_fetch_into_a_named_profile_of_another_dtr_is_refused(tls_sandbox, tmp_path):
    config = config_file(tmp_path)
    config.parent.mkdir()
    config.write_text('[profiles.prod]\nurl = "https://other-dtr.test"\n')
    env = environment(tls_sandbox.url, DTRCTL_CONFIG_DIR=str(tmp_path / "config"))
    refused = run("--profile", "prod", "ca", "fetch", "--yes", env=env)
    assert refused.returncode == 2
    assert "profile 'prod' is for https://other-dtr.test" in refused.stderr
    assert "--profile NEW" in refused.stderr
    assert config.read_text() == '[profiles.prod]\nurl = "https://other-dtr.test"\n'
    assert not (tmp_path / "config" / "ca").exists()
