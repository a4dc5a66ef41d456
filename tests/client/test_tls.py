"""TLS against a real HTTPS server on loopback: DTR CA files, --insecure and client bundles."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from dtrctl.backends.dtr.api import DtrClient
from dtrctl.client.transport import TransportOptions, build_http_client, build_ssl_context
from dtrctl.errors import ExitCode, TLSVerificationError
from dtrctl.reference import RepositoryName

REPOSITORY = RepositoryName("engineering", "api")
REPOSITORY_BODY = {
    "id": "1",
    "namespace": "engineering",
    "namespaceType": "organization",
    "name": "api",
    "shortDescription": "",
    "visibility": "private",
    "scanOnPush": False,
    "immutableTags": True,
    "enableManifestLists": False,
    "pulls": 0,
    "pushes": 0,
    "tagLimit": 0,
}


@pytest.fixture(autouse=True)
def no_proxy_from_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server is on loopback: a proxy configured on the runner must not be asked."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@dataclass
class TlsServer:
    url: str
    ca_file: Path
    # The subject of the client certificate of each request (None: no certificate presented).
    client_subjects: list[Any] = field(default_factory=list)


class RecordingServer(HTTPServer):
    client_subjects: list[Any]


class RepositoryHandler(BaseHTTPRequestHandler):
    server: RecordingServer
    connection: ssl.SSLSocket

    def do_GET(self) -> None:
        peer = self.connection.getpeercert()
        self.server.client_subjects.append(peer.get("subject") if peer else None)
        body = json.dumps(REPOSITORY_BODY).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the test's own output only."""


def serve_tls(tmp_path: Path, client_ca: trustme.CA | None) -> Iterator[TlsServer]:
    server_ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    if client_ca is not None:
        client_ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    httpd = RecordingServer(("127.0.0.1", 0), RepositoryHandler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.client_subjects = []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    ca_file = tmp_path / "dtr-ca.pem"
    server_ca.cert_pem.write_to_path(str(ca_file))
    try:
        port = httpd.server_address[1]
        yield TlsServer(f"https://127.0.0.1:{port}", ca_file, httpd.client_subjects)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TlsServer]:
    yield from serve_tls(tmp_path, client_ca=None)


@pytest.fixture
def client_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def mutual_tls_server(tmp_path: Path, client_ca: trustme.CA) -> Iterator[TlsServer]:
    yield from serve_tls(tmp_path, client_ca=client_ca)


def read_repository(url: str, options: TransportOptions) -> bool:
    with build_http_client(options) as http:
        return DtrClient(http, url, ("alice", "secret")).get_repository(REPOSITORY).immutable


def test_unknown_ca_fails_verification_with_a_hint(server: TlsServer) -> None:
    with pytest.raises(TLSVerificationError) as caught:
        read_repository(server.url, TransportOptions(retries=0))
    error = caught.value
    assert error.exit_code == ExitCode.UNAVAILABLE
    assert error.to_dict()["code"] == "tls"
    assert "127.0.0.1" in error.message
    assert "dtrctl ca fetch" in (error.hint or "")
    assert "--ca-file" in (error.hint or "")
    assert server.client_subjects == []


def test_ca_file_makes_the_server_trusted(server: TlsServer) -> None:
    assert read_repository(server.url, TransportOptions(retries=0, ca_file=str(server.ca_file)))
    assert server.client_subjects == [None]


def test_insecure_skips_verification(server: TlsServer) -> None:
    assert read_repository(server.url, TransportOptions(retries=0, insecure=True))


def write_bundle(directory: Path, server: TlsServer, client_ca: trustme.CA) -> Path:
    """A UCP client bundle: the CA to trust, and alice's certificate and key."""
    directory.mkdir()
    (directory / "ca.pem").write_bytes(server.ca_file.read_bytes())
    client_cert = client_ca.issue_cert("alice@example.com", common_name="alice")
    client_cert.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
    client_cert.private_key_pem.write_to_path(str(directory / "key.pem"))
    return directory


def test_bundle_presents_its_client_certificate(
    mutual_tls_server: TlsServer, client_ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = write_bundle(tmp_path / "ucp-bundle-alice", mutual_tls_server, client_ca)
    assert read_repository(mutual_tls_server.url, TransportOptions(retries=0, bundle=str(bundle)))
    [subject] = mutual_tls_server.client_subjects
    assert (("commonName", "alice"),) in subject


def test_missing_client_certificate_says_to_pass_a_bundle(mutual_tls_server: TlsServer) -> None:
    options = TransportOptions(retries=0, ca_file=str(mutual_tls_server.ca_file))
    with pytest.raises(TLSVerificationError) as caught:
        read_repository(mutual_tls_server.url, options)
    assert caught.value.exit_code == ExitCode.UNAVAILABLE
    assert "client certificate" in caught.value.message
    assert "--bundle" in (caught.value.hint or "")
    assert mutual_tls_server.client_subjects == []


def test_client_certificate_from_another_ca_is_refused_with_the_same_hint(
    mutual_tls_server: TlsServer, tmp_path: Path
) -> None:
    bundle = write_bundle(tmp_path / "other-cluster", mutual_tls_server, trustme.CA())
    with pytest.raises(TLSVerificationError) as caught:
        read_repository(mutual_tls_server.url, TransportOptions(retries=0, bundle=str(bundle)))
    assert "--bundle" in (caught.value.hint or "")
    assert mutual_tls_server.client_subjects == []


@pytest.fixture
def system_store_with(server: TlsServer, monkeypatch: pytest.MonkeyPatch) -> TlsServer:
    """OpenSSL's system store holding the server's CA, as after `update-ca-certificates`."""
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
    monkeypatch.setenv("SSL_CERT_DIR", "")
    return server


def test_the_system_store_is_trusted(system_store_with: TlsServer) -> None:
    assert read_repository(system_store_with.url, TransportOptions(retries=0))


def test_the_system_store_is_read_at_the_first_handshake_not_before(
    system_store_with: TlsServer,
) -> None:
    # A run against http:// never handshakes, so it never pays for parsing the bundle.
    context = build_ssl_context(TransportOptions())
    assert context.cert_store_stats()["x509_ca"] == 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="127.0.0.1")
    assert context.cert_store_stats()["x509_ca"] == 1


def test_insecure_reads_no_system_store(system_store_with: TlsServer) -> None:
    context = build_ssl_context(TransportOptions(insecure=True))
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="127.0.0.1")
    assert context.cert_store_stats()["x509_ca"] == 0


@pytest.fixture
def hashed_system_directory(
    server: TlsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> TlsServer:
    """OpenSSL's system CA directory, hashed as `update-ca-certificates` leaves it, holding the
    server's CA; no bundle."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command names CAs by their subject hash")
    directory = tmp_path / "certs"
    directory.mkdir()
    subject_hash = subprocess.run(
        [openssl, "x509", "-subject_hash", "-noout", "-in", str(server.ca_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shutil.copy(server.ca_file, directory / f"{subject_hash}.0")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    paths = ssl.get_default_verify_paths()._replace(cafile=str(directory / "none.pem"))
    paths = paths._replace(capath=str(directory))
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)
    return server


def test_a_hashed_system_directory_is_trusted(hashed_system_directory: TlsServer) -> None:
    assert read_repository(hashed_system_directory.url, TransportOptions(retries=0))


def test_a_hashed_system_directory_is_read_a_ca_at_a_time_not_parsed_whole(
    hashed_system_directory: TlsServer,
) -> None:
    # The bundle of a distribution is ~150 CAs, 15 ms to parse: a handshake needs one of them.
    context = build_ssl_context(TransportOptions())
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="127.0.0.1")
    assert context.cert_store_stats()["x509_ca"] == 0


@pytest.mark.parametrize(
    ("present", "named"),
    [
        ((), "cert.pem and key.pem missing"),
        (("ca.pem", "cert.pem"), "key.pem missing"),
        (("key.pem",), "cert.pem missing"),
    ],
)
def test_a_directory_that_is_not_a_client_bundle_exits_2_naming_what_is_missing(
    tmp_path: Path, present: tuple[str, ...], named: str
) -> None:
    from typer.testing import CliRunner

    from dtrctl.cli.app import app

    bundle = tmp_path / "not-a-bundle"
    bundle.mkdir()
    for name in present:
        (bundle / name).write_text("")
    result = CliRunner().invoke(
        app, ["--url", "https://127.0.0.1:9", "--bundle", str(bundle), "repo", "show", "a/b"]
    )
    assert result.exit_code == 2
    assert f"{bundle} is not a UCP client bundle: {named}" in result.stderr
