"""httpx's own transport (httpcore), for what dtrctl's pool (`pool`) does not do: HTTP/2
(`DTRCTL_HTTP2=1`) and proxies other than http:// (SOCKS, https://). Imported only then.

Its connections keep the attempt's deadline as the pool's do (`bounded.deadline_scope`): every
connect, TLS handshake, write and read gets at most the time left.
"""

from __future__ import annotations

from typing import Any, cast

import httpx

from dtrctl.client.bounded import time_left
from dtrctl.client.httpcore_loading import httpcore_without_extras

with httpcore_without_extras():
    import httpcore


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the current attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = time_left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Opens `DeadlineStream` connections."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        left = time_left(timeout, httpcore.ConnectTimeout)
        # The resolver encodes a text host with the idna codec, whose import (with stringprep
        # and unicodedata) costs more than a request on loopback; an ASCII host's bytes are the
        # same name. TLS still encodes the name for SNI itself.
        address = cast(str, host.encode("ascii")) if host.isascii() else host
        return DeadlineStream(
            self._inner.connect_tcp(address, port, left, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        left = time_left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_http_transport(**options: Any) -> httpx.HTTPTransport:
    """`httpx.HTTPTransport(**options)` whose connections keep the attempt's deadline.

    httpx has no parameter for httpcore's network backend, so it is swapped in on the pool (the
    direct one and a proxy's alike); the hostile-server tests fail if a new httpx moves it.
    """
    transport = httpx.HTTPTransport(**options)
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport
