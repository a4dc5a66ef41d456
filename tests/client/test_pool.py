"""dtrctl's connection pool (`dtrctl/client/pool.py`) against real servers on loopback: keep-alive
and when a connection is not reused, the pool's bound, deadlines on slow answers, broken answers,
and proxies (absolute form for http://, CONNECT for https://)."""

from __future__ import annotations

import contextlib
import importlib.util
import select
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import respx
from respx.models import AllMockedAssertionError

from dtrctl.client.bounded import BoundedTransport
from dtrctl.client.pool import ConnectionPool
from dtrctl.client.transport import (
    TransportOptions,
    build_http_client,
    build_ssl_context,
    connection_pool,
)
from tests.client.test_tls import TlsServer, serve_tls

pytestmark = pytest.mark.processes

BODY = b'{"ok": true}'
# Every server here gives up after this long: a client that does not defend itself fails.
SERVER_SECONDS = 10.0


@dataclass(frozen=True)
class Seen:
    """A request as the server read it, and the number of the connection it came on."""

    connection: int
    method: str
    target: str
    headers: dict[str, str]


# What the server writes for a request: the bytes, and whether to hang up after them.
Script = Callable[[Seen, socket.socket], bool]


def sized(body: bytes = BODY, *, extra: str = "", status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def answer(data: bytes, *, hang_up: bool = False) -> Script:
    def script(seen: Seen, sock: socket.socket) -> bool:
        sock.sendall(data)
        return hang_up

    return script


@dataclass
class Server:
    """A keep-alive HTTP/1.1 server: each connection serves requests until the script hangs up."""

    script: Script
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    url: str = ""


def _read_head(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data


def _parse(data: bytes, connection: int) -> Seen:
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Seen(connection, method, target, headers)


@contextlib.contextmanager
def serving(script: Script) -> Iterator[Server]:
    server = Server(script)
    lock = threading.Lock()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with lock:
                server.connections += 1
                number = server.connections
            self.request.settimeout(SERVER_SECONDS)
            with contextlib.suppress(OSError):
                while (data := _read_head(self.request)) is not None:
                    seen = _parse(data, number)
                    server.seen.append(seen)
                    if server.script(seen, self.request):
                        return

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as httpd:
        httpd.daemon_threads = True
        thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
        thread.start()
        server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        try:
            yield server
        finally:
            httpd.shutdown()
            thread.join()


def client(max_connections: int = 4, timeout: float = 5.0) -> httpx.Client:
    """The pool alone, beneath httpx: no retries, no bounds (`BoundedTransport`) above it."""
    pool = ConnectionPool(build_ssl_context(TransportOptions()), max_connections)
    return httpx.Client(transport=pool, timeout=timeout)


def bounded_client(timeout: float) -> httpx.Client:
    """The pool with the attempt's deadline above it, as every run has it."""
    pool = ConnectionPool(build_ssl_context(TransportOptions()), 4)
    return httpx.Client(transport=BoundedTransport(pool, timeout), timeout=timeout)


def test_one_connection_serves_every_request_in_turn() -> None:
    with serving(answer(sized())) as server, client() as http:
        answers = [http.get(f"{server.url}/v2/{n}") for n in range(3)]
    assert [a.content for a in answers] == [BODY] * 3
    assert answers[0].http_version == "HTTP/1.1"
    assert server.connections == 1


def test_a_chunked_answer_read_to_its_end_leaves_the_connection_reusable() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\n!!!\r\n0\r\n\r\n"
    )
    with serving(answer(chunked)) as server, client() as http:
        assert http.get(f"{server.url}/a").content == b"hello!!!"
        assert http.get(f"{server.url}/b").content == b"hello!!!"
    assert server.connections == 1


def test_a_head_answer_has_no_body_whatever_its_length_says() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDocker-Content-Digest: sha256:ab\r\n\r\n"
    with serving(answer(head)) as server, client() as http:
        first = http.head(f"{server.url}/v2/app/manifests/1")
        second = http.head(f"{server.url}/v2/app/manifests/2")
    assert first.content == second.content == b""
    assert first.headers["Docker-Content-Digest"] == "sha256:ab"
    assert server.connections == 1


def test_a_connection_whose_answer_was_not_read_to_the_end_is_closed() -> None:
    large = sized(b"x" * 1_000_000)
    with serving(answer(large)) as server, client() as http:
        with http.stream("GET", f"{server.url}/big") as partial:
            next(partial.iter_raw())
        assert http.get(f"{server.url}/small").content == b"x" * 1_000_000
    assert server.connections == 2


def test_connection_close_from_the_server_is_honoured() -> None:
    closing = answer(sized(extra="Connection: close\r\n"), hang_up=True)
    with serving(closing) as server, client() as http:
        assert [http.get(f"{server.url}/{n}").content for n in range(2)] == [BODY] * 2
    assert server.connections == 2


def test_an_idle_connection_the_server_closed_is_not_used_again() -> None:
    closed = threading.Event()

    def close_after_answering(seen: Seen, sock: socket.socket) -> bool:
        sock.sendall(sized())
        # Without a word: as a registry or load balancer ends an idle connection.
        sock.shutdown(socket.SHUT_RDWR)
        closed.set()
        return True

    with serving(close_after_answering) as server, client() as http:
        assert http.get(f"{server.url}/a").content == BODY
        assert closed.wait(SERVER_SECONDS)
        # The server's FIN reached the idle socket the pool holds: it must see it.
        assert http.get(f"{server.url}/b").content == BODY
    assert server.connections == 2


def test_a_full_pool_makes_a_request_wait_for_a_connection() -> None:
    release = threading.Event()

    def slow_first(seen: Seen, sock: socket.socket) -> bool:
        if seen.target == "/first":
            release.wait(SERVER_SECONDS)
        sock.sendall(sized())
        return False

    with serving(slow_first) as server, client(max_connections=1) as http:
        answers: list[httpx.Response] = []
        first = threading.Thread(target=lambda: answers.append(http.get(f"{server.url}/first")))
        first.start()
        while not server.seen:
            time.sleep(0.01)
        second = threading.Thread(target=lambda: answers.append(http.get(f"{server.url}/second")))
        second.start()
        second.join(0.2)
        # The only connection is busy: the second request waits rather than opening another.
        assert second.is_alive()
        assert len(server.seen) == 1
        release.set()
        first.join()
        second.join()
    assert [answer.content for answer in answers] == [BODY, BODY]
    assert server.connections == 1


def test_waiting_for_a_connection_ends_with_the_pool_timeout() -> None:
    release = threading.Event()

    def never_before_released(seen: Seen, sock: socket.socket) -> bool:
        release.wait(SERVER_SECONDS)
        sock.sendall(sized())
        return False

    with serving(never_before_released) as server, client(max_connections=1, timeout=0.3) as http:
        thread = threading.Thread(
            target=lambda: http.get(f"{server.url}/first", timeout=SERVER_SECONDS)
        )
        thread.start()
        while not server.seen:
            time.sleep(0.01)
        with pytest.raises(httpx.PoolTimeout):
            http.get(f"{server.url}/second")
        release.set()
        thread.join()


def drip(data: bytes, interval: float) -> Script:
    def script(seen: Seen, sock: socket.socket) -> bool:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(interval)
        return True

    return script


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000, id="headers"),
        pytest.param(sized(b"b" * 1000), id="body"),
    ],
)
def test_a_server_dripping_its_answer_is_cut_off_at_the_deadline(data: bytes) -> None:
    with serving(drip(data, 0.02)) as server, bounded_client(timeout=0.5) as http:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"{server.url}/v2/")
    # Each byte arrives well within any per-read timeout: only the deadline ends it.
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: applic", id="in-the-headers"),
        pytest.param(sized(BODY)[:-3], id="in-a-sized-body"),
        pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe", id="chunked"),
        pytest.param(b"", id="before-the-answer"),
        pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n", id="not-http"),
    ],
)
def test_an_answer_cut_short_or_not_http_is_a_protocol_error(data: bytes) -> None:
    with (
        serving(answer(data, hang_up=True)) as server,
        client() as http,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        http.get(f"{server.url}/v2/")


def test_more_headers_than_http_client_allows_is_a_protocol_error() -> None:
    many = "".join(f"X-{n}: {n}\r\n" for n in range(200))
    with (
        serving(answer(sized(extra=many), hang_up=True)) as server,
        client() as http,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        http.get(f"{server.url}/v2/")


def test_a_line_break_in_a_header_is_never_sent() -> None:
    with (
        serving(answer(sized())) as server,
        client() as http,
        pytest.raises(httpx.LocalProtocolError),
    ):
        http.get(f"{server.url}/v2/", headers={"X-Evil": "a\r\nX-Injected: 1"})
    assert server.seen == []


def test_a_closed_port_is_a_connect_error_with_its_cause() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with client() as http, pytest.raises(httpx.ConnectError) as caught:
        http.get(f"http://127.0.0.1:{port}/")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_an_http_proxy_gets_the_whole_url_and_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serving(answer(sized())) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://bob:s%40cret@"))
        with build_http_client(TransportOptions(retries=0)) as http:
            assert http.get("http://dtr.example.test/v2/?n=1").content == BODY
    [seen] = proxy.seen
    assert seen.target == "http://dtr.example.test/v2/?n=1"
    assert seen.headers["proxy-authorization"] == "Basic Ym9iOnNAY3JldA=="
    assert seen.headers["host"] == "dtr.example.test"


@dataclass
class Tunnels:
    """A CONNECT proxy's record: each CONNECT's target and headers, and each tunnel's bytes."""

    url: str
    connects: list[Seen] = field(default_factory=list)


def _relay(one: socket.socket, other: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while True:
            readable, _, _ = select.select([one, other], [], [], SERVER_SECONDS)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (other if source is one else one).sendall(data)


@contextlib.contextmanager
def connect_proxy(refuse: bool = False) -> Iterator[Tunnels]:
    tunnels = Tunnels("")

    def tunnel(seen: Seen, sock: socket.socket) -> bool:
        tunnels.connects.append(seen)
        if refuse or seen.method != "CONNECT":
            sock.sendall(sized(b"", status="407 Proxy Authentication Required"))
            return True
        host, _, port = seen.target.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=SERVER_SECONDS) as upstream:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _relay(sock, upstream)
        return True

    with serving(tunnel) as proxy:
        tunnels.url = proxy.url
        yield tunnels


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    yield from serve_tls(tmp_path, client_ca=None)


def test_https_goes_through_a_connect_tunnel_with_the_proxys_credentials_only_there(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("http://", "http://bob:pw@"))
        options = TransportOptions(retries=0, ca_file=str(tls_server.ca_file))
        with build_http_client(options) as http:
            assert http.get(f"{tls_server.url}/api/v0/repositories/a/b").status_code == 200
    # TLS verified end to end through the tunnel: the proxy saw only the CONNECT.
    [connect] = proxy.connects
    assert connect.method == "CONNECT"
    assert connect.target == tls_server.url.removeprefix("https://")
    assert connect.headers["proxy-authorization"] == "Basic Ym9iOnB3"
    assert tls_server.client_subjects == [None]


def test_a_proxy_refusing_the_tunnel_is_a_proxy_error(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect_proxy(refuse=True) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        options = TransportOptions(retries=0, ca_file=str(tls_server.ca_file))
        with build_http_client(options) as http, pytest.raises(httpx.ProxyError) as caught:
            http.get(f"{tls_server.url}/v2/")
    assert "407" in str(caught.value)


def test_respx_intercepts_at_the_pool_and_never_connects() -> None:
    # tests/conftest.py makes respx patch this pool: an unrouted request fails, with no
    # connection to the closed port it names.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with respx.mock() as router, build_http_client(TransportOptions(retries=0)) as http:
        router.get(f"http://127.0.0.1:{port}/v2/").respond(200, json={"routed": True})
        assert http.get(f"http://127.0.0.1:{port}/v2/").json() == {"routed": True}
        with pytest.raises(AllMockedAssertionError):
            http.get(f"http://127.0.0.1:{port}/other")


@pytest.mark.skipif(importlib.util.find_spec("h2") is None, reason="h2 is not installed")
def test_httpx_own_transport_kept_for_http2_stops_a_dripping_server_at_the_deadline() -> None:
    # DTRCTL_HTTP2=1 (and SOCKS proxies) still use httpcore, its network backend swapped for
    # one that keeps the deadline (client/httpcore_transport.py): this fails if httpx moves it.
    context = build_ssl_context(TransportOptions())
    transport = BoundedTransport(connection_pool(context, 4, proxy=None, http2=True), 0.5)
    dripping = drip(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000, 0.02)
    with serving(dripping) as server, httpx.Client(transport=transport, timeout=0.5) as http:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"{server.url}/v2/")
    assert time.monotonic() - started < 2.0
