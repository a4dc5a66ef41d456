"""One place that builds HTTP clients: TLS, timeouts, retries, User-Agent and redacted logging."""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import getproxies_environment

import httpx

from dtrctl import __version__
from dtrctl.client.bounded import ACCEPT_ENCODING, BoundedTransport
from dtrctl.client.httpcore_loading import HTTP2_VARIABLE
from dtrctl.client.limits import POOL_CONNECTIONS, retry_window
from dtrctl.client.pool import ConnectionPool
from dtrctl.client.retry import RetryPolicy, RetryTransport
from dtrctl.errors import UsageError

USER_AGENT = f"dtrctl/{__version__}"
RETRY_STATUSES = (429, 502, 503, 504)
# PATCH is safe to repeat here: dtrctl always sends the full repository settings.
RETRY_METHODS = ("GET", "HEAD", "PATCH")
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransportOptions:
    """How requests are sent: timeouts, retries and TLS trust."""

    # The deadline of each attempt of a request, its answer's body included.
    timeout: float = 30.0
    # A request and its retries end within timeout * (retries + 1) seconds (`retry_window`).
    retries: int = 3
    ca_file: str | None = None
    bundle: str | None = None
    insecure: bool = False
    # Upper bound of all retries of one request, so a flaky registry cannot stall CI for long.
    retry_deadline: float = 120.0
    # Waits of up to 0.5, 1, 2, 4 ... seconds (full jitter) unless the server sends Retry-After.
    backoff_factor: float = 0.25
    # Offer HTTP/2 by ALPN (DTRCTL_HTTP2=1). Off by default: with it on, httpx queues every
    # request behind the first connection's handshake to learn whether it can multiplex, which
    # costs a server that speaks only HTTP/1.1 three round trips (see docs/performance.md).
    http2: bool = field(default_factory=lambda: os.environ.get(HTTP2_VARIABLE) == "1")


def system_trust_context() -> ssl.SSLContext:
    """A context that trusts what the machine trusts, as docker and curl do.

    On Linux the system store is OpenSSL's own (the distribution's CA directory, where
    `update-ca-certificates` puts an admin's DTR CA): the standard context reads it once.
    truststore does the same there but re-reads the bundle on every handshake, one handshake
    at a time, so it is kept for macOS and Windows (keychain, certificate store) and for a
    Python whose OpenSSL does not know where the system's CAs are.
    """
    if sys.platform.startswith("linux") and _openssl_knows_system_cas():
        return SystemTrustContext()
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class SystemTrustContext(ssl.SSLContext):
    """`ssl.create_default_context()`, except that OpenSSL's system CAs are read at the first
    TLS handshake rather than when the client is built.

    Parsing the distribution's bundle costs about 15 ms, a tenth of a push-check; a run against
    an http:// URL (the sandbox, a registry on a private network) never needs it. Both ways
    TLS starts load the CAs first: `wrap_socket` (dtrctl's pool) and `wrap_bio` (httpcore's TLS
    through an https:// proxy).
    """

    def __new__(cls) -> SystemTrustContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        super().__init__()
        self.verify_mode = ssl.CERT_REQUIRED
        self.check_hostname = True
        # What create_default_context() adds from Python 3.13 on.
        if sys.version_info >= (3, 13):
            self.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            self.keylog_filename = keylog
        self.system_cas_loaded = False
        # Handshakes of concurrent look-ups may begin together; the CAs are loaded once.
        self._lock = threading.Lock()

    def load_system_cas(self) -> None:
        with self._lock:
            # As create_default_context(): nothing to trust when nothing is verified.
            if not self.system_cas_loaded and self.verify_mode != ssl.CERT_NONE:
                directory = hashed_ca_directory()
                if directory is not None:
                    self.load_verify_locations(capath=directory)
                else:
                    self.load_default_certs(ssl.Purpose.SERVER_AUTH)
            self.system_cas_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_system_cas()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_system_cas()
        return super().wrap_bio(*args, **kwargs)


def hashed_ca_directory() -> str | None:
    """OpenSSL's system CA directory when it is hashed (`update-ca-certificates` and `c_rehash`
    keep it beside the bundle, with the same CAs: Debian, Ubuntu, Alpine), else None.

    From a hashed directory OpenSSL reads only the CA a handshake asks for, where the bundle is
    parsed whole first (about 15 ms for 150 CAs, a tenth of a push-check's time off the
    network). Where SSL_CERT_FILE or SSL_CERT_DIR is set, or the directory has no hashed names
    (the bundle is all there is, as on Fedora), the default applies: the bundle and directory.
    """
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return None
    directory = ssl.get_default_verify_paths().capath
    if not directory:
        return None
    try:
        with os.scandir(directory) as entries:
            if any(_is_hashed_name(entry.name) for entry in entries):
                return directory
    except OSError:
        pass
    return None


def _is_hashed_name(name: str) -> bool:
    """How `c_rehash` names a CA: its subject hash (8 hex digits), a dot and a counter."""
    stem, dot, counter = name.partition(".")
    hexadecimal = all(character in "0123456789abcdef" for character in stem)
    return len(stem) == 8 and hexadecimal and bool(dot) and counter.isdigit()


def _openssl_knows_system_cas() -> bool:
    paths = ssl.get_default_verify_paths()
    if paths.cafile and Path(paths.cafile).is_file():
        return True
    return bool(paths.capath) and Path(paths.capath).is_dir() and any(Path(paths.capath).iterdir())


def build_ssl_context(options: TransportOptions) -> ssl.SSLContext:
    """System trust plus the DTR CA file and a UCP client bundle's CA and client certificate."""
    bundle = Path(options.bundle) if options.bundle else None
    if bundle is not None:
        _check_client_bundle(bundle)
    context = system_trust_context()
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    extra_cas = [options.ca_file] if options.ca_file else []
    if bundle is not None:
        if (bundle / "ca.pem").is_file():
            extra_cas.append(str(bundle / "ca.pem"))
        _load_client_certificate(context, bundle / "cert.pem", bundle / "key.pem")
    for ca_file in extra_cas:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as error:
            raise UsageError(
                f"cannot read CA file {ca_file}: {error}",
                hint="Give a PEM file with --ca-file or DTRCTL_CA_FILE",
            ) from None
    return context


def _check_client_bundle(bundle: Path) -> None:
    """A UCP client bundle has the client certificate and key (ca.pem is trusted if there);
    a directory without them was silently ignored before, and the handshake failed later."""
    hint = (
        "Give the directory a UCP client bundle was unpacked in (ca.pem, cert.pem, key.pem) "
        "with --bundle or DTRCTL_BUNDLE"
    )
    if not bundle.is_dir():
        raise UsageError(f"the client bundle {bundle} is not a directory", hint=hint)
    missing = [name for name in ("cert.pem", "key.pem") if not (bundle / name).is_file()]
    if missing:
        raise UsageError(
            f"{bundle} is not a UCP client bundle: {' and '.join(missing)} missing", hint=hint
        )


def _load_client_certificate(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except (OSError, ssl.SSLError) as error:
        raise UsageError(f"cannot load the client certificate {cert}: {error}") from None


def redact_headers(headers: httpx.Headers) -> str:
    shown = []
    # The raw items keep the names as sent (`Authorization`, not httpx's lowercased form).
    for raw_name, raw_value in headers.raw:
        name, value = raw_name.decode(headers.encoding), raw_value.decode(headers.encoding)
        if name.lower() in SENSITIVE_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} [redacted]".strip()
        shown.append(f"{name}: {value}")
    return ", ".join(shown)


class LoggingTransport(httpx.BaseTransport):
    """Logs every attempt (retries included) at debug level (-v), with secrets redacted."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = request.extensions.get("dtrctl_attempt", 0) + 1
        request.extensions["dtrctl_attempt"] = attempt
        again = f" (retry {attempt - 1})" if attempt > 1 else ""
        logger.debug(f"> {request.method} {request.url}{again}")
        logger.debug(f">   {redact_headers(request.headers)}")
        try:
            response = self._inner.handle_request(request)
        except httpx.HTTPError as error:
            logger.debug(f"< {request.method} {request.url}: {type(error).__name__}: {error}")
            raise
        logger.debug(f"< {response.status_code} {request.method} {request.url}")
        return response

    def close(self) -> None:
        self._inner.close()


def environment_proxies() -> dict[str, str | None]:
    """URL patterns → proxy URL (None: connect directly), from HTTP(S)_PROXY, ALL_PROXY, NO_PROXY.

    httpx reads these only when it builds its own transport; dtrctl builds its own (TLS, retries,
    logging), so it reads them here, with httpx's and curl's rules.
    """
    found = getproxies_environment()
    patterns: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if found.get(scheme):
            proxy = found[scheme]
            patterns[f"{scheme}://"] = proxy if "://" in proxy else f"http://{proxy}"
    for host in (entry.strip() for entry in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            patterns[host] = None
        elif _is_ip_address(host):
            patterns[f"all://[{host}]" if ":" in host else f"all://{host}"] = None
        elif host.lower() == "localhost":
            patterns[f"all://{host}"] = None
        else:
            # `example.com` covers the host and its subdomains, `.example.com` subdomains only.
            patterns[f"all://*{host}"] = None
    return patterns


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def build_http_client(
    options: TransportOptions,
    *,
    max_connections: int = POOL_CONNECTIONS,
) -> httpx.Client:
    """The one HTTP client of a run: one connection pool, keep-alive, retries in the transport.

    HTTP/1.1 by default, one keep-alive connection per concurrent request; with
    `TransportOptions.http2`, HTTP/2 where the server offers it (ALPN over TLS), all requests
    then sharing one connection.

    Requests through a proxy from the environment get the same TLS, retries and logging; the
    logging transport is there only when this module's logger is enabled for debug (-v).
    """
    log_requests = logger.isEnabledFor(logging.DEBUG)
    context = build_ssl_context(options)
    if options.http2:
        _require_h2()

    def transport(proxy: str | None) -> httpx.BaseTransport:
        stack: httpx.BaseTransport = BoundedTransport(
            connection_pool(context, max_connections, proxy=proxy, http2=options.http2),
            options.timeout,
        )
        if log_requests:
            stack = LoggingTransport(stack)
        if options.retries > 0:
            stack = RetryTransport(stack, retry_policy(options))
        return stack

    return httpx.Client(
        transport=transport(None),
        mounts={
            pattern: None if proxy is None else transport(proxy)
            for pattern, proxy in environment_proxies().items()
        },
        timeout=httpx.Timeout(options.timeout),
        # Only encodings dtrctl decodes itself, within the size bound of each answer.
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        # Redirects are not followed: credentials must never travel to another host.
        follow_redirects=False,
    )


def connection_pool(
    context: ssl.SSLContext, max_connections: int, *, proxy: str | None, http2: bool
) -> httpx.BaseTransport:
    """dtrctl's own pool (HTTP/1.1, directly or through an http:// proxy); httpx's transport
    (httpcore, imported only then) for HTTP/2 and for SOCKS and https:// proxies."""
    proxy_url = None if proxy is None else httpx.URL(proxy)
    if not http2 and (proxy_url is None or proxy_url.scheme == "http"):
        return ConnectionPool(context, max_connections, proxy=proxy_url)
    from dtrctl.client.httpcore_transport import deadline_http_transport

    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return deadline_http_transport(verify=context, limits=limits, proxy=proxy, http2=http2)


def _require_h2() -> None:
    import importlib.util

    if importlib.util.find_spec("h2") is None:
        raise UsageError(
            f"{HTTP2_VARIABLE}=1 needs the h2 package, which is not installed",
            # Never the bare name: dtrctl is not on PyPI, and whatever is there is not dtrctl.
            hint=(
                "Install the http2 extra from the wheel or checkout dtrctl came from: "
                "pip install './dtrctl-VERSION-py3-none-any.whl[http2]' (in a checkout: "
                "pip install '.[http2]')"
            ),
        )


def retry_policy(options: TransportOptions) -> RetryPolicy:
    return RetryPolicy(
        retries=options.retries,
        methods=frozenset(RETRY_METHODS),
        statuses=frozenset(RETRY_STATUSES),
        backoff_factor=options.backoff_factor,
        max_wait=30.0,
        deadline=options.retry_deadline,
        window=retry_window(options.timeout, options.retries),
    )
