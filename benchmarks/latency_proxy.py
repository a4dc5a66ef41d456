"""A TCP proxy on loopback that delays every byte by a fixed time each way, and counts round trips.

Each direction behaves like a wire with a one-way delay: data leaves `delay` after it was sent,
in order. Connection set-up pays too: the upstream connection opens one delay after the client
connects (the SYN's trip), and the client's first bytes leave only a further delay later (the
SYN-ACK's trip), so a new connection costs one round trip before the first request, and TLS
handshakes cost theirs on top.

The proxy counts connections, client flights (each time a client starts sending after the
server spoke, or first: a request/response turn, TLS handshake flights included) and the number
of sequential round trips on the critical path. The latter is a causal depth: a connection, or a
request on a connection already set up, is one round trip deeper than the deepest answer any
connection had delivered before it started. That is an upper bound on the true dependency chain
(an answer that merely arrived earlier counts as a dependency), exact for a client that waits
for one answer at a time.

A connection's set-up depends on its own connection alone: its TLS handshake flights, and the
request it was opened for (a client opens a connection for a request it already has, whose
dependencies were met when it connected), are each one round trip deeper than the connection's
previous flight, whatever other connections delivered meanwhile; and the handshake's answers
(the TCP set-up, a server flight that begins with a TLS handshake or change-cipher-spec record)
are no other connection's dependency. So a handshake that a busy machine (the client's or the
server's CPU, many handshakes at once) finishes late cannot count as a round trip deeper; only a
connection opened late, or a request sent late on a connection already set up, can.

Bounded: loopback addresses only, at most `max_connections` at once (more are closed at once),
at most `MAX_BUFFERED_CHUNKS` reads queued per direction (reading pauses beyond), delay ≤ 1 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

MAX_DELAY_SECONDS = 1.0
MAX_BUFFERED_CHUNKS = 64
READ_SIZE = 65536
# A connection idle this long on both sides is closed, so abandoned clients free their task.
IDLE_TIMEOUT_SECONDS = 60.0

T = TypeVar("T")
# (when to deliver, the bytes (b"" is the end), the round-trip depth they answer or start; 0
# for a set-up answer, which only its own connection waits for)
Chunk = tuple[float, bytes, int]
# The first byte of a TLS record that continues a handshake: change cipher spec, handshake.
HANDSHAKE_RECORD_TYPES = frozenset({0x14, 0x16})


def require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the latency proxy works on loopback only, not {host!r}")


@dataclass(frozen=True)
class ProxyStats:
    connections: int
    client_flights: int
    sequential_round_trips: int


class _Counter:
    """Connections, flights and the causal depth, shared by all connections (one event loop)."""

    def __init__(self) -> None:
        self.connections = 0
        self.flights = 0
        # The deepest round trip whose answer reached a client so far.
        self.delivered_depth = 0
        self.deepest = 0

    def open_connection(self) -> int:
        self.connections += 1
        return self._deeper()

    def start_flight(self, after: int, *, setting_up: bool = False) -> int:
        """A flight after the connection's flight `after`; while `setting_up`, it waits for
        that one alone."""
        self.flights += 1
        return self._deeper(after, alone=setting_up)

    def _deeper(self, after: int = 0, *, alone: bool = False) -> int:
        depth = (after if alone else max(self.delivered_depth, after)) + 1
        self.deepest = max(self.deepest, depth)
        return depth

    def delivered(self, depth: int) -> None:
        self.delivered_depth = max(self.delivered_depth, depth)

    def snapshot(self) -> ProxyStats:
        return ProxyStats(self.connections, self.flights, self.deepest)


class _Connection:
    def __init__(self, counter: _Counter, handshake_depth: int) -> None:
        self.counter = counter
        self.flight_depth = handshake_depth
        self.client_speaking = False
        self.server_speaking = False
        # Until the server answers other than a TLS handshake: the set-up and its request.
        self.setting_up = True

    def client_data(self, data: bytes) -> int:
        if not self.client_speaking:
            self.client_speaking, self.server_speaking = True, False
            self.flight_depth = self.counter.start_flight(
                self.flight_depth, setting_up=self.setting_up
            )
        return self.flight_depth

    def server_data(self, data: bytes) -> int:
        """The depth the data answers; 0 for a handshake's answer (no other connection's)."""
        if not self.server_speaking:
            self.client_speaking, self.server_speaking = False, True
            self.setting_up = data[0] in HANDSHAKE_RECORD_TYPES
        return 0 if self.setting_up else self.flight_depth


class LatencyProxy:
    """`LatencyProxy(port, delay_ms=25).start()` … `.stop()`; clients connect to `.port`."""

    def __init__(
        self,
        upstream_port: int,
        delay_ms: float,
        *,
        upstream_host: str = "127.0.0.1",
        listen_host: str = "127.0.0.1",
        max_connections: int = 64,
    ) -> None:
        require_loopback(upstream_host)
        require_loopback(listen_host)
        if not 0 <= delay_ms / 1000 <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay must be between 0 and {MAX_DELAY_SECONDS * 1000:.0f} ms")
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.delay = delay_ms / 1000
        self.max_connections = max_connections
        self.port = 0
        self._counter = _Counter()
        self._active = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def host_port(self) -> str:
        return f"{self.listen_host}:{self.port}"

    def start(self) -> LatencyProxy:
        self._thread = threading.Thread(target=self._run, name="latency proxy", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._thread = None

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stats(self) -> ProxyStats:
        return self._call(self._counter.snapshot)

    def reset_stats(self) -> None:
        def reset() -> None:
            self._counter = _Counter()

        self._call(reset)

    def _call(self, function: Callable[[], T]) -> T:
        """Run `function` on the proxy's loop (the counters live there) and return its result."""
        if self._loop is None:
            raise RuntimeError("the proxy is not running")

        async def call() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, self.listen_host, 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as error:  # reported to the caller of start()
            self._error = error
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    async def _handle(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        if self._active >= self.max_connections:
            client_out.close()
            return
        self._active += 1
        loop = asyncio.get_running_loop()
        counter = self._counter
        server_out: asyncio.StreamWriter | None = None
        tasks: list[asyncio.Future[None]] = []
        try:
            accepted = loop.time()
            connection = _Connection(counter, counter.open_connection())
            handshake_done = accepted + 2 * self.delay
            # The client's bytes are read (and stamped) from the start, but leave only once
            # the simulated handshake has completed.
            to_server: asyncio.Queue[Chunk] = asyncio.Queue(MAX_BUFFERED_CHUNKS)
            tasks.append(
                asyncio.ensure_future(
                    self._read(client_in, to_server, handshake_done, connection.client_data)
                )
            )
            await asyncio.sleep(self.delay)
            server_in, server_out = await asyncio.open_connection(*self.upstream)
            await asyncio.sleep(max(0.0, handshake_done - loop.time()))
            to_client: asyncio.Queue[Chunk] = asyncio.Queue(MAX_BUFFERED_CHUNKS)
            tasks += [
                asyncio.ensure_future(self._deliver(to_server, server_out, None)),
                asyncio.ensure_future(
                    self._read(server_in, to_client, 0.0, connection.server_data)
                ),
                asyncio.ensure_future(self._deliver(to_client, client_out, counter)),
            ]
            await asyncio.wait(tasks)
        except OSError:
            pass  # the upstream refused or a side vanished: drop the connection
        except asyncio.CancelledError:
            # Only `stop` cancels; the connection's own task ends quietly then (asyncio's
            # stream callback would report a cancelled handler as an error).
            pass
        finally:
            for task in tasks:
                task.cancel()
            self._active -= 1
            client_out.close()
            if server_out is not None:
                server_out.close()

    async def _read(
        self,
        source: asyncio.StreamReader,
        queue: asyncio.Queue[Chunk],
        not_before: float,
        depth_of_data: Callable[[bytes], int],
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await asyncio.wait_for(source.read(READ_SIZE), IDLE_TIMEOUT_SECONDS)
            except (OSError, asyncio.TimeoutError):
                data = b""
            depth = depth_of_data(data) if data else 0
            await queue.put((max(loop.time(), not_before) + self.delay, data, depth))
            if not data:
                return

    async def _deliver(
        self,
        queue: asyncio.Queue[Chunk],
        sink: asyncio.StreamWriter,
        counter: _Counter | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data, depth = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                with contextlib.suppress(OSError):
                    if sink.can_write_eof():
                        sink.write_eof()
                return
            try:
                sink.write(data)
                await sink.drain()
            except OSError:
                return
            if counter is not None:
                counter.delivered(depth)
