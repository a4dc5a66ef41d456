"""The sandbox server itself: lifecycle, TLS, HTTP framing, quietness, request records."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading

import httpx
import pytest
import trustme

from dtrctl.sandbox.accounts import DEMO_USERS
from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.images import build_image, push_image
from dtrctl.sandbox.server import SandboxServer


def test_the_demo_accounts_are_admin_alice_and_bob():
    assert [(user.username, user.password) for user in DEMO_USERS] == [
        ("admin", "sandbox-admin-password"),
        ("alice", "sandbox-alice-password"),
        ("bob", "sandbox-bob-password"),
    ]
    assert DEMO_USERS[0].token == "sandbox-admin-token"


def test_accounts_exist_without_a_seed_but_repositories_do_not():
    with SandboxServer() as server:
        answer = httpx.get(
            f"{server.url}/api/v0/repositories", auth=("bob", "sandbox-bob-password")
        )
        assert answer.json() == {"repositories": []}


def test_an_unknown_seed_is_refused():
    with pytest.raises(ValueError, match="unknown seed"):
        SandboxServer(seed="everything")


def test_serve_forever_returns_when_stopped():
    server = SandboxServer()
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    assert httpx.get(f"{server.url}/health").json() == {"error": "", "healthy": True}
    server.stop()
    serving.join(timeout=10)
    assert not serving.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/health")


@pytest.fixture
def tls_files(tmp_path):
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    chain, key, ca = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    certificate.private_key_pem.write_to_path(key)
    with chain.open("wb") as out:
        for blob in certificate.cert_chain_pems:
            out.write(blob.bytes())
    authority.cert_pem.write_to_path(ca)
    return chain, key, ca


def test_tls_serves_https_and_challenges_with_an_https_realm(tls_files):
    chain, key, ca = tls_files
    with SandboxServer(tls_cert=str(chain), tls_key=str(key)) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(ca))
        answer = httpx.get(f"{server.url}/v2/", verify=context)
        assert answer.headers["WWW-Authenticate"].startswith(
            f'Bearer realm="https://{server.host_port}/auth/token"'
        )
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/health")  # the test CA is not trusted by default
        server.state.add_repository(RepositoryRecord("ci", "tls"))
        image = build_image("tls")
        pushed = push_image(
            server.url, "ci/tls", "1", image, "admin", "sandbox-admin-password", verify=str(ca)
        )
        assert pushed == image.digest


def test_connections_stay_open_and_every_answer_has_a_length(sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", int(sandbox.host_port.split(":")[1]))
    try:
        for path in ("/health", "/api/v0/repositories", "/no/such/path"):
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            assert response.getheader("Content-Length") == str(len(body))
            assert not response.will_close
        connection.request("HEAD", "/api/v0/repositories/library/nginx")
        head = connection.getresponse()
        assert int(head.getheader("Content-Length") or "0") > 0
        assert head.read() == b""
    finally:
        connection.close()


def test_the_server_prints_nothing(sandbox, capfd):
    httpx.get(f"{sandbox.url}/api/v0/repositories")
    sandbox.state.inject_fault("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{sandbox.url}/health")
    with socket.create_connection(("127.0.0.1", int(sandbox.host_port.split(":")[1]))) as raw:
        raw.sendall(b"BREW /pot HTTP/1.1\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.")
    assert capfd.readouterr() == ("", "")


def test_requests_are_recorded_without_secrets(sandbox, admin):
    admin.patch(
        "/api/v0/repositories/ci/builder", params={"dry": "1"}, content=b'{"immutableTags":true}'
    )
    (recorded,) = [r for r in sandbox.state.requests if r.method == "PATCH"]
    assert recorded.path == "/api/v0/repositories/ci/builder"
    assert recorded.query == {"dry": "1"}
    assert recorded.headers["authorization"] == "Basic"
    assert recorded.body == b'{"immutableTags":true}'


def test_latency_delays_but_does_not_change_answers():
    with SandboxServer(latency_ms=5) as server:
        assert httpx.get(f"{server.url}/health").json()["healthy"] is True


def test_many_connections_at_once_are_all_taken_before_the_server_accepts_them():
    # A client opening 20 connections at once (push-check of 10 tags) must not lose SYNs to
    # socketserver's backlog of 5: each lost one waited a second for its retransmission.
    server = SandboxServer()  # listening, not yet accepting
    host, port = server.host_port.rsplit(":", 1)
    sockets = []
    try:
        for _ in range(20):
            sockets.append(socket.create_connection((host, int(port)), timeout=0.5))
    finally:
        for opened in sockets:
            opened.close()
        server.stop()
    assert len(sockets) == 20
