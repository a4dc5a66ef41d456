"""One HTTP/1.1 connection on the standard library, each operation ending by the attempt's deadline.

`http.client`, `socket`, `ssl` and `select` are loaded anyway when httpx is (http.cookiejar
imports http.client): a connection built on them costs no start-up, where httpcore (with h11)
costs a tenth of a push-check on loopback, and less CPU per request and per handshake.
`http.client.HTTPResponse` parses the answer (status line, at most 100 headers of at most 64 KiB
each, chunked or sized bodies, HEAD); every read of the socket it makes gets the time left
until the attempt's deadline (`bounded.deadline_scope`), so a server sending a byte a second
cannot stall a run past `--timeout`. Failures become the httpx exceptions httpcore's would have
become, with the underlying `OSError` or `ssl.SSLError` as their cause (`client/http.py` reads
it for its messages and hints).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import select
import socket
import ssl
from collections.abc import Iterator
from typing import Any, NamedTuple, cast
from urllib.parse import unquote

import httpx

from dtrctl.client.bounded import time_left

# Bytes asked of the socket at once while reading a body.
READ_CHUNK = 64 * 1024
Timeouts = dict[str, Any]


class Origin(NamedTuple):
    """Where a connection goes: scheme, host (ASCII: IDNA applied, IPv6 without brackets), port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: httpx.URL) -> Origin:
        port = url.port or (443 if url.scheme == "https" else 80)
        return cls(url.scheme, url.raw_host.decode("ascii"), port)

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@contextlib.contextmanager
def mapped_errors(
    request: httpx.Request,
    timeout: type[httpx.TimeoutException],
    failure: type[httpx.TransportError],
) -> Iterator[None]:
    """The standard library's failures as the httpx exception httpcore would have raised, the
    original one its cause."""
    try:
        yield
    except httpx.HTTPError:
        raise
    except TimeoutError as error:
        raise timeout(str(error) or "timed out", request=request) from error
    # Before OSError: RemoteDisconnected is both, and a server hanging up without an answer
    # is a protocol error, as httpcore says.
    except http.client.HTTPException as error:
        raise httpx.RemoteProtocolError(_describe(error), request=request) from error
    except OSError as error:
        raise failure(str(error) or type(error).__name__, request=request) from error


def _describe(error: http.client.HTTPException) -> str:
    if isinstance(error, http.client.RemoteDisconnected):
        return "Server disconnected without sending a response."
    if isinstance(error, http.client.IncompleteRead):
        return "peer closed connection without sending a complete message"
    return f"{type(error).__name__}: {error}"


class _DeadlineReader(io.RawIOBase):
    """The socket as a raw file whose every receive ends by the attempt's deadline."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        super().__init__()
        self._sock = sock
        self._timeout = timeout
        self.ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(time_left(self._timeout, httpx.ReadTimeout))
        size = self._sock.recv_into(buffer)
        self.ended = self.ended or size == 0
        return size


class _DeadlineSocket:
    """What `http.client.HTTPResponse` reads from: it only calls `makefile("rb")`."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        self.reader = _DeadlineReader(sock, timeout)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self.reader)


def _answer(sock: socket.socket, method: str, timeouts: Timeouts) -> http.client.HTTPResponse:
    """The answer's status line and headers, read; its body is read from it after."""
    source = _DeadlineSocket(sock, timeouts.get("read"))
    answer = http.client.HTTPResponse(cast(socket.socket, source), method=method)
    answer.begin()
    # http.client takes the end of the stream for the end of the headers: a server that hung
    # up in the middle of them sent no answer.
    if source.reader.ended:
        answer.close()
        raise http.client.IncompleteRead(b"", None)
    return answer


def _check_header_text(*parts: bytes) -> None:
    # A line break or NUL in a header would start another header or request (h11 refuses them).
    for part in parts:
        if b"\r" in part or b"\n" in part or b"\0" in part:
            raise httpx.LocalProtocolError(f"illegal character in the request: {part!r}")


def request_head(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The request line and headers, as sent."""
    _check_header_text(method, target)
    lines = [b"%s %s HTTP/1.1\r\n" % (method, target)]
    for name, value in headers:
        _check_header_text(name, value)
        lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    return b"".join(lines)


def proxy_authorization(proxy: httpx.URL) -> list[tuple[bytes, bytes]]:
    """The Proxy-Authorization header of a proxy URL with credentials, else none."""
    if not proxy.username:
        return []
    credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
    token = base64.b64encode(credentials.encode("utf-8"))
    return [(b"Proxy-Authorization", b"Basic " + token)]


class Connection:
    """One HTTP/1.1 connection to `origin`, directly or through a tunnel of a proxy."""

    def __init__(self, sock: socket.socket, origin: Origin) -> None:
        self.sock = sock
        self.origin = origin

    @classmethod
    def open(
        cls,
        request: httpx.Request,
        origin: Origin,
        context: ssl.SSLContext,
        *,
        proxy: httpx.URL | None = None,
    ) -> Connection:
        """TCP (to the proxy, if any), a CONNECT tunnel for https through a proxy, then TLS."""
        timeout = request.extensions.get("timeout", {}).get("connect")
        via = Origin.of(proxy) if proxy is not None else origin
        with mapped_errors(request, httpx.ConnectTimeout, httpx.ConnectError):
            # An ASCII host as bytes: a text host would load the idna codec (more than a
            # request costs on loopback) for the same name.
            address = (cast(str, via.host.encode("ascii")), via.port)
            sock = socket.create_connection(address, time_left(timeout, httpx.ConnectTimeout))
        connection = cls(sock, origin)
        try:
            with mapped_errors(request, httpx.ConnectTimeout, httpx.ConnectError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if origin.scheme == "https":
                    if proxy is not None:
                        connection._tunnel(request, proxy)
                    sock.settimeout(time_left(timeout, httpx.ConnectTimeout))
                    # SNI and the host name check: the context's (a lazy one loads its CAs here).
                    connection.sock = context.wrap_socket(sock, server_hostname=origin.host)
        except BaseException:
            connection.close()
            raise
        return connection

    def _tunnel(self, request: httpx.Request, proxy: httpx.URL) -> None:
        authority = self.origin.authority.encode("ascii")
        headers = [(b"Host", authority), *proxy_authorization(proxy)]
        self.send(request, request_head(b"CONNECT", authority, headers))
        answer = _answer(self.sock, "CONNECT", request.extensions.get("timeout", {}))
        # Nothing follows the proxy's answer until the TLS handshake: no byte is lost here.
        answer.close()
        if not 200 <= answer.status < 300:
            raise httpx.ProxyError(
                f"the proxy refused to connect to {self.origin.authority}: "
                f"{answer.status} {answer.reason}",
                request=request,
            )

    def send(self, request: httpx.Request, data: bytes) -> None:
        timeout = request.extensions.get("timeout", {}).get("write")
        with mapped_errors(request, httpx.WriteTimeout, httpx.WriteError):
            self.sock.settimeout(time_left(timeout, httpx.WriteTimeout))
            self.sock.sendall(data)

    def receive(self, request: httpx.Request) -> http.client.HTTPResponse:
        """The answer's status line and headers; its body is read from the answer after."""
        with mapped_errors(request, httpx.ReadTimeout, httpx.ReadError):
            return _answer(self.sock, request.method, request.extensions.get("timeout", {}))

    def is_reusable(self) -> bool:
        """An idle connection that has something to read was closed by the server (or sent
        what nobody asked for): it is never used again."""
        if self.sock.fileno() < 0:
            return False
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return False
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                return not poller.poll(0)
            return not select.select([self.sock], [], [], 0)[0]
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
