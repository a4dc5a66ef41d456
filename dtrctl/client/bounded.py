"""Bounds on every attempt of a request: a deadline for the whole exchange, a size for its answer.

httpx's timeouts bound each network operation, so a server sending a byte a second never trips
them. Here every connect, TLS handshake, write and read of an attempt gets at most the time left
until the attempt's deadline (`--timeout` after it began, and never past the deadline of the
request with its retries), and the answer's body, read in chunks, stops at the bound of its kind
(see `limits`), compressed or not.
"""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from collections.abc import Iterator
from typing import cast

import httpx

from dtrctl.client.limits import API_ANSWER_MAX_BYTES, ERROR_BODY_MAX_BYTES

# Request extensions: the size bound of the answer (bytes), and the monotonic time by which the
# request with all its retries must end (set by the retry layer).
MAX_BYTES = "dtrctl_max_bytes"
REQUEST_DEADLINE = "dtrctl_deadline"
# Requests that change nothing: an answer cut off in its body is simply asked for again.
SAFE_METHODS = frozenset({"GET", "HEAD"})
# The encodings dtrctl asks for and decodes itself, within the bound.
ACCEPT_ENCODING = "gzip, deflate"
# zlib's window bits for "zlib or gzip header, detected".
_ZLIB_OR_GZIP = zlib.MAX_WBITS | 32

_current = threading.local()


@contextlib.contextmanager
def deadline_scope(deadline: float) -> Iterator[None]:
    """Network operations of this thread end by `deadline` (a `time.monotonic()` value)."""
    outer = getattr(_current, "deadline", None)
    _current.deadline = deadline
    try:
        yield
    finally:
        _current.deadline = outer


def time_left(timeout: float | None, error: type[Exception]) -> float | None:
    deadline: float | None = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request took longer than its timeout")
    return left if timeout is None else min(timeout, left)


class AnswerTooLarge(httpx.TransportError):
    """The answer's body is larger than the bound of its kind (not worth asking again)."""

    def __init__(self, limit: int, request: httpx.Request) -> None:
        super().__init__(f"the answer is larger than {limit} bytes", request=request)
        self.limit = limit


class BoundedBody(httpx.SyncByteStream):
    """The body of an answer, decoded, cut off at `limit` bytes and at the attempt's deadline."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        request: httpx.Request,
        *,
        limit: int,
        deadline: float,
        encoding: str,
    ) -> None:
        self._inner = inner
        self._request = request
        self._limit = limit
        self._deadline = deadline
        if encoding in ("", "identity"):
            self._decoder = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._decoder = zlib.decompressobj(_ZLIB_OR_GZIP)
        else:
            raise httpx.DecodingError(f"unsupported Content-Encoding {encoding!r}", request=request)

    def __iter__(self) -> Iterator[bytes]:
        chunks, raw_size, size = iter(self._inner), 0, 0
        while True:
            with deadline_scope(self._deadline):
                if time.monotonic() >= self._deadline:
                    raise httpx.ReadTimeout(
                        "the answer took longer than the timeout", request=self._request
                    )
                chunk = next(chunks, None)
            if chunk is None:
                break
            raw_size += len(chunk)
            data = self._decode(chunk, self._limit - size)
            size += len(data)
            if raw_size > self._limit or size > self._limit:
                raise AnswerTooLarge(self._limit, self._request)
            yield data
        if self._decoder is not None:
            rest = self._decoder.flush()
            if size + len(rest) > self._limit:
                raise AnswerTooLarge(self._limit, self._request)
            yield rest

    def _decode(self, chunk: bytes, room: int) -> bytes:
        if self._decoder is None:
            return chunk
        try:
            # At most one byte past the room: enough to know the bound is exceeded.
            return self._decoder.decompress(chunk, room + 1)
        except zlib.error as error:
            raise httpx.DecodingError(
                f"cannot decompress the answer: {error}", request=self._request
            ) from None

    def close(self) -> None:
        self._inner.close()


def _bounded(response: httpx.Response, request: httpx.Request, deadline: float) -> httpx.Response:
    limit = int(request.extensions.get(MAX_BYTES, API_ANSWER_MAX_BYTES))
    if response.status_code >= 400:
        limit = min(limit, ERROR_BODY_MAX_BYTES)
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    declared = response.headers.get("Content-Length", "")
    # A HEAD answer declares the size of the GET's body, and sends none.
    plain = encoding in ("", "identity") and request.method != "HEAD"
    if plain and declared.isdigit() and int(declared) > limit:
        raise AnswerTooLarge(limit, request)
    stream = cast(httpx.SyncByteStream, response.stream)
    body = BoundedBody(stream, request, limit=limit, deadline=deadline, encoding=encoding)
    # The body is decoded here: the headers must not make httpx decode it again.
    headers = [
        (name, value)
        for name, value in response.headers.raw
        if name.lower() not in (b"content-encoding", b"content-length")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        stream=body,
        request=request,
        extensions=response.extensions,
    )


class BoundedTransport(httpx.BaseTransport):
    """Gives each attempt its deadline and its answer a size bound; reads safe answers whole.

    httpx reads a body only after the transports returned, outside any retry: a connection
    dropped mid-body would end the run although asking again is harmless. So the answer of a
    safe request is read here. The answer to a write is left alone (still bounded): its headers
    arrived, so the server acted, and repeating it is the operation's decision (it looks first).
    """

    def __init__(self, inner: httpx.BaseTransport, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._timeout
        request_deadline = request.extensions.get(REQUEST_DEADLINE)
        if request_deadline is not None:
            deadline = min(deadline, float(request_deadline))
        with deadline_scope(deadline):
            response = self._inner.handle_request(request)
        try:
            bounded = _bounded(response, request, deadline)
            if request.method in SAFE_METHODS:
                bounded.read()
        except BaseException:
            response.close()
            raise
        return bounded

    def close(self) -> None:
        self._inner.close()
