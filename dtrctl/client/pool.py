"""dtrctl's connection pool: HTTP/1.1 keep-alive connections (`connection.Connection`) per origin.

It replaces httpx's default transport (httpcore and h11): see docs/design.md. Thread-safe, as
push-check asks its questions from threads at once. At most `max_connections` are open; a request
that finds the pool full waits, until its deadline, for one to be given back. A connection
returns to the pool only when its answer was read to the end and the server did not say
`Connection: close`; an idle one that became readable (closed by the server) is dropped when
next taken, never reused.

Through an http:// proxy (from the environment, see `transport.environment_proxies`), http://
requests go to the proxy in absolute form with its credentials; https:// ones through a CONNECT
tunnel, the proxy's credentials only in the CONNECT request.
"""

from __future__ import annotations

import contextlib
import http.client
import ssl
import threading
import time
from collections.abc import Iterator

import httpx

from dtrctl.client.bounded import time_left
from dtrctl.client.connection import (
    READ_CHUNK,
    Connection,
    Origin,
    mapped_errors,
    proxy_authorization,
    request_head,
)


class ConnectionPool(httpx.BaseTransport):
    """An `httpx` transport keeping up to `max_connections` HTTP/1.1 connections open."""

    def __init__(
        self, context: ssl.SSLContext, max_connections: int, proxy: httpx.URL | None = None
    ) -> None:
        self._context = context
        self._max_connections = max_connections
        self._proxy = proxy
        self._changed = threading.Condition()
        self._idle: dict[Origin, list[Connection]] = {}
        # Open connections, idle or not (and those being opened).
        self._open = 0
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"the URL scheme {request.url.scheme!r} is not http or https", request=request
            )
        connection = self._acquire(request, Origin.of(request.url))
        try:
            # As httpcore: a server may stop reading and still answer, or have sent the TLS
            # alert that says why it hung up (a refused client certificate): read it.
            with contextlib.suppress(httpx.WriteError):
                connection.send(request, self._request_bytes(request))
            answer = connection.receive(request)
        except BaseException:
            self.give_back(connection, reusable=False)
            raise
        version = b"HTTP/1.0" if answer.version == 10 else b"HTTP/1.1"
        return httpx.Response(
            answer.status,
            headers=[
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in answer.msg.items()
            ],
            stream=AnswerBody(self, connection, answer, request),
            extensions={"http_version": version, "reason_phrase": answer.reason.encode("latin-1")},
        )

    def _request_bytes(self, request: httpx.Request) -> bytes:
        headers = list(request.headers.raw)
        target = request.url.raw_path
        if self._proxy is not None and request.url.scheme == "http":
            # A forwarding proxy takes the whole URL, and its own credentials.
            target = b"http://" + request.url.netloc + target
            headers += proxy_authorization(self._proxy)
        body = request.read()
        if any(
            name.lower() == b"transfer-encoding" and b"chunked" in value.lower()
            for name, value in headers
        ):
            body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        return request_head(request.method.encode("ascii"), target, headers) + body

    def _acquire(self, request: httpx.Request, origin: Origin) -> Connection:
        """An idle connection to `origin`, else a new one once the pool has room."""
        limit = time_left(request.extensions.get("timeout", {}).get("pool"), httpx.PoolTimeout)
        ends = None if limit is None else time.monotonic() + limit
        with self._changed:
            while True:
                if self._closed:
                    raise httpx.ConnectError("the connection pool is closed", request=request)
                connection = self._idle_connection(origin)
                if connection is not None:
                    return connection
                if self._open < self._max_connections or self._close_an_idle_one():
                    self._open += 1
                    break
                left = None if ends is None else ends - time.monotonic()
                if left is not None and left <= 0:
                    raise httpx.PoolTimeout(
                        "no connection of the pool became free in time", request=request
                    )
                self._changed.wait(left)
        try:
            return Connection.open(request, origin, self._context, proxy=self._proxy)
        except BaseException:
            with self._changed:
                self._open -= 1
                self._changed.notify()
            raise

    def _idle_connection(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin, [])
        while idle:
            # The most recently used first: the least likely to have been closed meanwhile.
            connection = idle.pop()
            if connection.is_reusable():
                return connection
            connection.close()
            self._open -= 1
        return None

    def _close_an_idle_one(self) -> bool:
        """Room for a connection elsewhere: one idle to another origin is closed."""
        for idle in self._idle.values():
            if idle:
                idle.pop(0).close()
                self._open -= 1
                return True
        return False

    def give_back(self, connection: Connection, *, reusable: bool) -> None:
        with self._changed:
            if reusable and not self._closed:
                self._idle.setdefault(connection.origin, []).append(connection)
            else:
                self._open -= 1
            self._changed.notify()
        if not reusable or self._closed:
            connection.close()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            idle = [connection for connections in self._idle.values() for connection in connections]
            self._idle.clear()
            self._open -= len(idle)
            self._changed.notify_all()
        for connection in idle:
            connection.close()


class AnswerBody(httpx.SyncByteStream):
    """An answer's body as read from its connection, which goes back to the pool when the body
    was read to its end (and the server keeps it open), and is closed otherwise."""

    def __init__(
        self,
        pool: ConnectionPool,
        connection: Connection,
        answer: http.client.HTTPResponse,
        request: httpx.Request,
    ) -> None:
        self._pool = pool
        self._connection: Connection | None = connection
        self._answer = answer
        self._request = request
        self._complete = False

    def __iter__(self) -> Iterator[bytes]:
        while not self._complete:
            with mapped_errors(self._request, httpx.ReadTimeout, httpx.ReadError):
                chunk = self._answer.read1(READ_CHUNK)
            if chunk:
                yield chunk
                continue
            # http.client ends a sized body cut short quietly: what was declared is still due.
            if self._answer.length:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body",
                    request=self._request,
                )
            self._complete = True
        self.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        reusable = self._complete and not self._answer.will_close
        # Closes the answer's reader only: the socket stays open for the next request.
        self._answer.close()
        self._pool.give_back(connection, reusable=reusable)
