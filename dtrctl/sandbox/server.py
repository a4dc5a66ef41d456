"""The sandbox HTTP server: a threaded HTTP/1.1 server around SandboxState."""

from __future__ import annotations

import functools
import json
import socket
import socketserver
import ssl
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dtrctl import __version__
from dtrctl.sandbox import api, registry
from dtrctl.sandbox.exchange import ApiError, Request, Response, error_body, json_response
from dtrctl.sandbox.faults import NGINX_PAGE, Fault, wrong_shape
from dtrctl.sandbox.seed import apply_seed
from dtrctl.sandbox.state import SandboxState

# A keep-alive connection idle this long is closed, so abandoned clients free their thread.
IDLE_TIMEOUT_SECONDS = 120
HANDSHAKE_TIMEOUT_SECONDS = 30
# How often a background accept loop checks for `stop`: stopping waits up to this long,
# and tests start and stop many servers.
POLL_INTERVAL_SECONDS = 0.01
# `dtr`: DTR's /api/v0 and registry; `harbor`: Harbor's /api/v2.0 and registry (MSR 4).
FLAVORS = ("dtr", "harbor")


def dispatch(state: SandboxState, request: Request) -> Response:
    path = request.path
    try:
        if path.startswith("/api/v0/"):
            return api.handle(state, request)
        if path == "/auth/token":
            return registry.issue_token(state, request)
        if path == "/v2" or path.startswith("/v2/"):
            return registry.handle(state, request)
        if path == "/health":
            return json_response(200, {"error": "", "healthy": True})
        if path == "/_ping":
            return Response(200, b"OK", [("Content-Type", "text/plain")])
        if path == "/ca" and state.ca_pem is not None:
            # DTR serves the CA of its self-signed certificate here.
            return Response(200, state.ca_pem, [("Content-Type", "application/x-pem-file")])
        raise ApiError(404, "NOT_FOUND", f"no endpoint {path}")
    except ApiError as error:
        return error.response()
    except Exception as error:  # a sandbox bug: tell the client, in the usual envelope
        return ApiError(
            500, "UNKNOWN", f"{type(error).__name__}: {error}", traceback.format_exc()
        ).response()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "UNKNOWN"


def _fault_body_response(status: int, body: Any) -> Response:
    if body is None:
        return json_response(status, error_body(_status_name(status), _reason(status)))
    if isinstance(body, bytes):
        return Response(status, body, [("Content-Type", "application/octet-stream")])
    if isinstance(body, str):
        return Response(status, body.encode(), [("Content-Type", "text/plain; charset=utf-8")])
    return json_response(status, body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"dtrctl-sandbox/{__version__}"
    timeout = IDLE_TIMEOUT_SECONDS
    server: _SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are recorded in the state instead of printed."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests and unknown methods get the JSON envelope too, not HTML."""
        self.close_connection = True
        body = error_body(_status_name(code), message or _reason(code), explain)
        self._send(json_response(code, body))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline(65537).split(b";")[0].strip(), 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline(65537).strip():
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _encode(self, response: Response, include_body: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {response.status} {_reason(response.status)}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        # RFC 9110: no Content-Length on 204 and 304.
        if response.status not in (204, 304):
            lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + (response.body if include_body else b"")

    def _send(self, response: Response) -> None:
        # One write: separate small writes for head and body meet delayed ACKs on keep-alive.
        self.wfile.write(self._encode(response, include_body=self.command != "HEAD"))

    def _serve(self) -> None:
        server = self.server
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(ApiError(400, "BAD_REQUEST", "malformed request body framing").response())
            return
        request = Request.parse(
            self.command,
            self.path,
            dict(self.headers.items()),
            body,
            server.scheme,
            server.host_port,
        )
        server.state.record(request)
        if server.latency_seconds:
            time.sleep(server.latency_seconds)
        fault = server.state.take_fault(request.method, request.path)
        if fault is None:
            self._send(server.dispatch(request))
        else:
            self._misbehave(fault, request)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _misbehave(self, fault: Fault, request: Request) -> None:
        options = fault.options
        dispatch = self.server.dispatch
        if fault.kind == "slow":
            if "until" in options:
                options["until"].wait(options["seconds"])
            else:
                time.sleep(options["seconds"])
            self._send(dispatch(request))
        elif fault.kind == "status":
            response = _fault_body_response(options["status"], options.get("body"))
            response.headers += list(options.get("headers", {}).items())
            if options.get("retry_after") is not None:
                response.headers.append(("Retry-After", str(options["retry_after"])))
            self._send(response)
        elif fault.kind == "html":
            status = options.get("status", 502)
            page = NGINX_PAGE.format(status=status, reason=_reason(status))
            self._send(Response(status, page.encode(), [("Content-Type", "text/html")]))
        elif fault.kind == "empty":
            self._send(Response(200, b"", [("Content-Type", "application/json")]))
        elif fault.kind == "truncated_json":
            body = dispatch(request).body.rstrip()
            self._send(
                Response(200, body[: len(body) // 2], [("Content-Type", "application/json")])
            )
        elif fault.kind == "wrong_json":
            self._send(json_response(200, self._wrong_json(options, dispatch(request))))
        else:
            self._drop(options.get("at", "start"), request)

    @staticmethod
    def _wrong_json(options: dict[str, Any], real: Response) -> Any:
        if "body" in options:
            return options["body"]
        try:
            return wrong_shape(json.loads(real.body))
        except ValueError:
            return ["not", "what", "you", "expected"]

    def _drop(self, at: str, request: Request) -> None:
        self.close_connection = True
        if at == "headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: applic")
        elif at == "body":
            response = self.server.dispatch(request)
            encoded = self._encode(response, include_body=True)
            cut = len(encoded) - len(response.body) + len(response.body) // 2
            self.wfile.write(encoded[:cut])


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a client opening more connections at once (as
    # push-check of several tags does) lost SYNs and waited a second for their retransmission.
    # A registry behind nginx has 511.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        state: SandboxState,
        ssl_context: ssl.SSLContext | None,
        latency_seconds: float,
        dispatch: Callable[[Request], Response],
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.dispatch = dispatch
        self.ssl_context = ssl_context
        self.latency_seconds = latency_seconds
        self.scheme = "https" if ssl_context is not None else "http"
        super().__init__(address, _Handler)
        host, port = self._host_and_port()
        self.host_port = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a bad resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self._host_and_port()

    def _host_and_port(self) -> tuple[str, int]:
        # An AF_INET or AF_INET6 socket's address: the host is text, never bytes.
        host, port = self.server_address[:2]
        assert isinstance(host, str)
        return host, port

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        # The TLS handshake runs here, in the connection's own thread, not the accept loop.
        request.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:
            return  # e.g. a client that does not trust the certificate hangs up
        try:
            _Handler(connection, client_address, self)
        finally:
            connection.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients hanging up mid-exchange are routine here (and provoked by faults)."""


class SandboxServer:
    """A DTR-compatible (or, with `flavor="harbor"`, Harbor-compatible) server, on a
    background thread (`start`) or the caller's."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        seed: str | None = None,
        latency_ms: int = 0,
        create_on_push: bool = False,
        tls_ca: str | None = None,
        client_ca: str | None = None,
        flavor: str = "dtr",
        project_creation: str = "everyone",
    ) -> None:
        """`tls_ca`: a PEM file served at `/ca`, as DTR serves its CA. `client_ca`: require TLS
        client certificates signed by it (as a UCP client bundle presents). `flavor`: one of
        FLAVORS. `project_creation` (Harbor only): who may create projects, "everyone" or
        "adminonly"."""
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if flavor not in FLAVORS:
            raise ValueError(f"unknown flavor {flavor!r}; known: {', '.join(FLAVORS)}")
        self.flavor = flavor
        dispatcher: Callable[[Request], Response]
        if flavor == "harbor":
            if create_on_push:
                raise ValueError("Harbor always creates a repository on its first push")
            from dtrctl.sandbox.harbor import registry as harbor_registry
            from dtrctl.sandbox.harbor import seed as harbor_seed
            from dtrctl.sandbox.harbor.state import HarborState

            harbor_state = HarborState(project_creation_restriction=project_creation)
            harbor_seed.apply_seed(harbor_state, seed)
            self.state: SandboxState = harbor_state
            dispatcher = functools.partial(harbor_registry.dispatch, harbor_state)
        else:
            self.state = SandboxState(create_on_push=create_on_push)
            apply_seed(self.state, seed)
            dispatcher = functools.partial(dispatch, self.state)
        if tls_ca is not None:
            with open(tls_ca, "rb") as pem:
                self.state.ca_pem = pem.read()
        ssl_context = None
        if tls_cert is not None and tls_key is not None:
            ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_context.load_cert_chain(tls_cert, tls_key)
            if client_ca is not None:
                ssl_context.load_verify_locations(cafile=client_ca)
                ssl_context.verify_mode = ssl.CERT_REQUIRED
        self._httpd = _SandboxHTTPServer(
            (host, port), self.state, ssl_context, latency_ms / 1000, dispatcher
        )
        self._thread: threading.Thread | None = None
        self._serving = False
        self._closed = False

    @property
    def host_port(self) -> str:
        return self._httpd.host_port

    @property
    def url(self) -> str:
        return f"{self._httpd.scheme}://{self.host_port}"

    def start(self) -> SandboxServer:
        if not self._serving:
            self._serving = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                args=(POLL_INTERVAL_SECONDS,),
                name=f"sandbox {self.host_port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until `stop` or an interrupt (which propagates)."""
        self._serving = True
        try:
            self._httpd.serve_forever()
        finally:
            self._close()

    def stop(self) -> None:
        # shutdown() waits for a serve loop, so it must only be called when one was started.
        if self._serving:
            self._serving = False
            self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
