"""HTTP/2 where the server offers it: one connection carries every concurrent request."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import trustme

from dtrctl.client.distribution import RegistryClient
from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.reference import RepositoryName
from tests.integration.h2_registry import DIGEST

pytest.importorskip("hypercorn")
START_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def h2_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    ca_file, cert, key = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    port = free_port()
    command = [
        *(sys.executable, "-m", "hypercorn", "tests.integration.h2_registry:app"),
        *("--bind", f"127.0.0.1:{port}", "--certfile", str(cert), "--keyfile", str(key)),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("hypercorn did not start")
                time.sleep(0.05)  # polling for the listening socket, not a timing assumption
        yield f"https://127.0.0.1:{port}", ca_file
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_http2_is_negotiated_and_one_connection_carries_concurrent_requests(h2_server):
    url, ca_file = h2_server
    options = TransportOptions(ca_file=str(ca_file), retries=0, timeout=10, http2=True)
    with build_http_client(options) as http, ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: http.get(f"{url}/v2/"), range(10)))
    assert {answer.http_version for answer in answers} == {"HTTP/2"}
    assert {answer.headers["x-http-version"] for answer in answers} == {"2"}
    assert len({answer.headers["x-client-port"] for answer in answers}) == 1


def test_the_registry_client_reads_manifests_over_http2(h2_server):
    url, ca_file = h2_server
    with build_http_client(
        TransportOptions(ca_file=str(ca_file), retries=0, timeout=10, http2=True)
    ) as http:
        manifest = RegistryClient(http, url).get_manifest(
            RepositoryName("engineering", "api"), "1.0"
        )
    assert manifest is not None and manifest.digest == DIGEST and manifest.is_index


def test_http11_unless_http2_is_asked_for(h2_server, monkeypatch):
    url, ca_file = h2_server
    monkeypatch.delenv("DTRCTL_HTTP2", raising=False)
    with build_http_client(TransportOptions(ca_file=str(ca_file), retries=0)) as http:
        assert http.get(f"{url}/v2/").http_version == "HTTP/1.1"
    monkeypatch.setenv("DTRCTL_HTTP2", "1")
    with build_http_client(TransportOptions(ca_file=str(ca_file), retries=0)) as http:
        assert http.get(f"{url}/v2/").http_version == "HTTP/2"
