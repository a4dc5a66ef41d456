"""Hostile HTTP servers on loopback, as test fixtures: each bounded in size and time.

A `HostileServer` answers every request with one `Behaviour`: a function that writes raw bytes
to the connection (drip an answer, send an endless chunked body, hand out a fresh page cursor
forever ...). Each connection serves one request (`Connection: close`). Whatever a behaviour
does, a server sends at most `MAX_BYTES` per connection and stops after `MAX_SECONDS`, so a
client that does not defend itself makes the test fail, never hang or fill the machine.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Bounds of every hostile server: longer and larger than any defended client waits or reads.
MAX_SECONDS = 30.0
MAX_BYTES = 64 * 1024 * 1024
# The largest request head a hostile server reads.
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class Budget(Exception):
    """The server's bound on bytes or time for one connection ran out."""


@dataclass
class Connection:
    """The client's socket, with the server's bounds applied to everything written."""

    sock: socket.socket
    stopping: threading.Event
    started: float = field(default_factory=time.monotonic)
    sent: int = 0

    def send(self, data: bytes) -> None:
        if self.stopping.is_set() or time.monotonic() - self.started > MAX_SECONDS:
            raise Budget("time")
        if self.sent + len(data) > MAX_BYTES:
            raise Budget("size")
        self.sock.sendall(data)
        self.sent += len(data)

    def pause(self, seconds: float) -> None:
        """The server's pace between two writes (not a timing assumption of a test)."""
        if self.stopping.wait(seconds):
            raise Budget("stopped")


Behaviour = Callable[[Request, Connection], None]


def head(status: int = 200, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} Hostile", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_answer(body: Any, headers: dict[str, str] | None = None, status: int = 200) -> bytes:
    data = json.dumps(body).encode()
    fields = {"Content-Type": "application/json", "Content-Length": str(len(data))}
    return head(status, {**fields, **(headers or {})}) + data


def drip_body(interval: float = 0.2) -> Behaviour:
    """Headers at once, then a JSON body of a megabyte, one byte every `interval` seconds."""

    def behave(request: Request, connection: Connection) -> None:
        headers = {"Content-Type": "application/json", "Content-Length": str(1024 * 1024)}
        connection.send(head(200, headers) + b"[")
        while True:
            connection.pause(interval)
            connection.send(b" ")

    return behave


def drip_head(interval: float = 0.2) -> Behaviour:
    """The status line and headers, one byte every `interval` seconds, without end."""

    def behave(request: Request, connection: Connection) -> None:
        connection.send(b"HTTP/1.1 200 OK\r\n")
        while True:
            connection.pause(interval)
            connection.send(b"X")

    return behave


def endless_chunks(chunk_size: int = 64 * 1024) -> Behaviour:
    """A 200 with a chunked JSON body that never ends (until the server's bounds)."""

    def behave(request: Request, connection: Connection) -> None:
        headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        connection.send(head(200, headers) + b"1\r\n[\r\n")
        chunk = b"%x\r\n%s\r\n" % (chunk_size, b" " * chunk_size)
        while True:
            connection.send(chunk)

    return behave


def fresh_cursors(items: Callable[[int], list[Any]], key: str | None = None) -> Behaviour:
    """Pages of `items(n)` (under `key`, or a bare list) and always a new next-page cursor."""
    counter = iter(range(1, 1 << 62))
    lock = threading.Lock()

    def behave(request: Request, connection: Connection) -> None:
        with lock:
            number = next(counter)
        page = items(number)
        body = {key: page} if key else page
        connection.send(json_answer(body, {"X-Next-Page-Start": f"cursor-{number}"}))

    return behave


def numbered_pages(items: Callable[[int], list[Any]], next_page: Callable[[int], int]) -> Behaviour:
    """Harbor-like pages: page n is `items(n)`, with a `Link` naming `next_page(n)` as next."""

    def behave(request: Request, connection: Connection) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.target).query)
        number = int(query.get("page", ["1"])[0])
        link = f'<{request.path}?page={next_page(number)}&page_size=10>; rel="next"'
        connection.send(json_answer(items(number), {"Link": link}))

    return behave


def relay(upstream: str, drop: frozenset[str]) -> Behaviour:
    """A proxy in front of `upstream` (GET and HEAD) that drops the headers named in `drop`."""

    def behave(request: Request, connection: Connection) -> None:
        parts = urllib.parse.urlsplit(upstream)
        client = http.client.HTTPConnection(parts.netloc, timeout=MAX_SECONDS)
        headers = {k: v for k, v in request.headers.items() if k in _RELAYED_REQUEST_HEADERS}
        try:
            client.request(request.method, request.target, headers=headers)
            answer = client.getresponse()
            body = answer.read(MAX_BYTES)
        finally:
            client.close()
        kept = {
            name: value
            for name, value in answer.getheaders()
            if name.lower() not in {*(header.lower() for header in drop), *_HOP_HEADERS}
        }
        connection.send(head(answer.status, {**kept, "Content-Length": str(len(body))}) + body)

    return behave


_RELAYED_REQUEST_HEADERS = frozenset({"authorization", "accept", "x-is-resource-name"})
_HOP_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


def routes(table: dict[str, Behaviour], default: Behaviour) -> Behaviour:
    """The behaviour of the first path fragment in `table` the request's path contains."""

    def behave(request: Request, connection: Connection) -> None:
        chosen = next((b for fragment, b in table.items() if fragment in request.path), default)
        chosen(request, connection)

    return behave


def fixed(answer: bytes) -> Behaviour:
    def behave(request: Request, connection: Connection) -> None:
        connection.send(answer)

    return behave


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.request.settimeout(MAX_SECONDS)
        request = _read_head(self.request)
        if request is None:
            return
        self.server.requests.append(request)
        # The bound ran out, or the client went away: both end the connection.
        with contextlib.suppress(Budget, OSError):
            self.server.behaviour(request, Connection(self.request, self.server.stopping))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: Behaviour) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.requests: list[Request] = []
        self.stopping = threading.Event()


def _read_head(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None
        if not chunk or len(data) > MAX_HEAD_BYTES:
            return None
        data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, *_ = [*lines[0].split(" "), "", ""]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, target, headers)


class HostileServer:
    """One behaviour for every request, on a free loopback port, plain HTTP."""

    def __init__(self, behaviour: Behaviour) -> None:
        self._server = _Server(behaviour)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host_port(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET socket's address
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

    @property
    def requests(self) -> list[Request]:
        return list(self._server.requests)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=MAX_SECONDS)


@contextlib.contextmanager
def serving(behaviour: Behaviour) -> Iterator[HostileServer]:
    """A started server for the `with` block, stopped after it."""
    server = HostileServer(behaviour).start()
    try:
        yield server
    finally:
        server.stop()
