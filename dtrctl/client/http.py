"""Sending requests and turning every failure into a typed dtrctl error."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx

from dtrctl.client.bounded import MAX_BYTES, AnswerTooLarge
from dtrctl.client.limits import API_ANSWER_MAX_BYTES, describe_size
from dtrctl.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    DtrctlError,
    InvalidResponse,
    NetworkError,
    NotFound,
    PermissionDenied,
    RepositoryExists,
    RepositoryNotFound,
    RequestTimeout,
    ResponseTooLarge,
    ServerError,
    TagNotFound,
    TLSVerificationError,
)

CREDENTIALS_HINT = (
    "Supply credentials with DTRCTL_USERNAME and DTRCTL_PASSWORD (a UCP password or a DTR "
    "access token), `dtrctl login`, or `docker login`"
)
TLS_HINT = (
    "DTR often uses its own self-signed CA: fetch it with `dtrctl ca fetch` or pass it with "
    "--ca-file (DTRCTL_CA_FILE); --insecure skips verification (not recommended)"
)

CLIENT_CERTIFICATE_HINT = (
    "The server asks for a TLS client certificate: pass a UCP client bundle (cert.pem and "
    "key.pem) with --bundle"
)
# TLS alerts by which a server refuses the client certificate (or its absence).
CLIENT_CERTIFICATE_ALERTS = (
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "TLSV1_ALERT_UNKNOWN_CA",
)
# What OpenSSL says when a plain-HTTP server answers its TLS greeting.
NOT_TLS_ERRORS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG")


class ErrorBody(NamedTuple):
    """The code, message and detail of an error answer, where it has them."""

    code: str | None
    message: str | None
    detail: Any = None


def parse_error_body(response: httpx.Response) -> ErrorBody:
    """DTR's `{"errors": [...]}` envelope, the bare `{"code", "message"}` form, or nothing."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ErrorBody(None, None)
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        body = body["errors"][0]
    if isinstance(body, dict):
        code, message = body.get("code"), body.get("message")
        return ErrorBody(
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else None,
            body.get("detail"),
        )
    return ErrorBody(None, None)


class RequestContext(NamedTuple):
    """What the request was for, so errors can say it in the user's terms."""

    action: str  # e.g. "read repository engineering/api"
    repository: str | None = None
    namespace: str | None = None
    username: str | None = None


def error_for_response(response: httpx.Response, context: RequestContext) -> DtrctlError:
    status = response.status_code
    body = parse_error_body(response)
    kwargs: dict[str, Any] = {"status": status, "dtr_code": body.code, "detail": body.detail}
    said = f": {body.message}" if body.message else ""
    who = f"user {context.username}" if context.username else "an anonymous user"
    if status == 401:
        if context.username:
            message = f"the registry did not accept the credentials of user {context.username}"
        else:
            message = f"cannot {context.action} without credentials"
        return AuthenticationFailed(message, hint=CREDENTIALS_HINT, **kwargs)
    if status == 403:
        return PermissionDenied(
            f"{who} may not {context.action}{said}",
            hint="Ask a repository or organization admin for the permission",
            **kwargs,
        )
    if status == 404:
        if body.code == "NO_SUCH_ACCOUNT" and context.namespace:
            return NotFound(f"namespace {context.namespace} does not exist", **kwargs)
        if body.code == "NO_SUCH_REF":
            return TagNotFound(f"cannot {context.action}: the tag does not exist", **kwargs)
        if context.repository and body.code in (None, "NO_SUCH_REPOSITORY", "NAME_UNKNOWN"):
            return RepositoryNotFound(
                f"repository {context.repository} does not exist, or {who} may not see it",
                **kwargs,
            )
        return NotFound(f"cannot {context.action}: not found{said}", **kwargs)
    if status == 400 and body.code == "REPOSITORY_EXISTS":
        return RepositoryExists(f"repository {context.repository} already exists", **kwargs)
    if status == 409:
        return Conflict(f"cannot {context.action}: conflict{said}", **kwargs)
    if 400 <= status < 500:
        return BadRequest(
            f"the registry refused to {context.action} (HTTP {status}){said}", **kwargs
        )
    if status >= 500:
        return ServerError(
            f"the registry failed to {context.action} (HTTP {status}){said}",
            hint="Try again later; DTRCTL_RETRIES sets how often dtrctl retries",
            **kwargs,
        )
    return InvalidResponse(
        f"unexpected HTTP {status} from the registry while trying to {context.action}", **kwargs
    )


def host_port(url: httpx.URL) -> str:
    """`host:port` of a URL, the port always shown (the default one of its scheme if none)."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{host}:{port}"


def error_for_exception(error: httpx.HTTPError, context: RequestContext) -> DtrctlError:
    url = error.request.url
    where = host_port(url)
    if isinstance(error, AnswerTooLarge):
        return ResponseTooLarge(
            f"the answer to {error.request.method} {url.copy_with(query=None)} is larger than "
            f"{describe_size(error.limit)} while trying to {context.action}",
            hint="dtrctl reads no more for this kind of answer: check the URL, and any proxy "
            "in front of the registry",
        )
    if isinstance(error, httpx.TimeoutException):
        return RequestTimeout(
            f"timed out trying to {context.action} at {where}",
            hint="Check the network, or raise --timeout (DTRCTL_TIMEOUT)",
        )
    if url.scheme == "https" and _cause_mentions(error, NOT_TLS_ERRORS):
        return TLSVerificationError(
            f"the server at {where} does not speak TLS: is the URL http://?",
            hint="A plain-HTTP registry on another host also needs --allow-http",
        )
    if _is_certificate_failure(error):
        return TLSVerificationError(
            f"cannot verify the TLS certificate of {where}: {_root_cause(error)}",
            hint=TLS_HINT,
        )
    if _cause_mentions(error, CLIENT_CERTIFICATE_ALERTS):
        return TLSVerificationError(
            f"{where} refused the TLS client certificate: {_root_cause(error)}",
            hint=CLIENT_CERTIFICATE_HINT,
        )
    if isinstance(error, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return InvalidResponse(f"the answer of {where} was broken while trying to {context.action}")
    if isinstance(error, httpx.TransportError):
        return NetworkError(
            f"cannot reach {where}: {_root_cause(error)}",
            hint="Check the URL, DNS, proxy settings (HTTPS_PROXY, NO_PROXY) and that DTR is up",
        )
    return NetworkError(f"request to {where} failed while trying to {context.action}: {error}")


def _root_cause(error: BaseException) -> str:
    cause: BaseException = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause) or type(cause).__name__
    return text


def is_tls_failure(error: BaseException) -> bool:
    """A certificate that failed verification, a refused client certificate, or a server that
    speaks no TLS: the same request fails the same way again."""
    return _is_certificate_failure(error) or _cause_mentions(
        error, CLIENT_CERTIFICATE_ALERTS + NOT_TLS_ERRORS
    )


def _is_certificate_failure(error: BaseException) -> bool:
    return _cause_mentions(error, ("CERTIFICATE_VERIFY_FAILED",), ssl.SSLCertVerificationError)


def _cause_mentions(
    error: BaseException, words: tuple[str, ...], kind: type[BaseException] | None = None
) -> bool:
    """Whether the error or one of its causes is of `kind` or names one of `words`."""
    cause: BaseException | None = error
    while cause is not None:
        if (kind is not None and isinstance(cause, kind)) or any(
            word in str(cause) for word in words
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def send(
    http: httpx.Client,
    method: str,
    url: str,
    context: RequestContext,
    *,
    ok: Callable[[int], bool] = lambda status: 200 <= status < 300,
    max_bytes: int = API_ANSWER_MAX_BYTES,
    extensions: dict[str, Any] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; a failure or an unexpected status becomes a typed error.

    The answer is read up to `max_bytes` (one of the bounds in `limits`).
    """
    try:
        response = http.request(
            method, url, extensions={**(extensions or {}), MAX_BYTES: max_bytes}, **kwargs
        )
    except httpx.HTTPError as error:
        raise error_for_exception(error, context) from None
    if not ok(response.status_code):
        raise error_for_response(response, context)
    return response


def json_body(response: httpx.Response, context: RequestContext) -> Any:
    """The JSON of a 2xx answer; empty or garbled is an error, never success."""
    if not response.content:
        raise InvalidResponse(
            f"the registry sent an empty answer while trying to {context.action}",
            status=response.status_code,
        )
    try:
        return json.loads(response.content)
    # RecursionError: nesting deeper than the parser goes, as a hostile answer may send.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidResponse(
            f"the registry's answer is not JSON while trying to {context.action} "
            "(a proxy in front of DTR?)",
            status=response.status_code,
        ) from None


def parse_model(parser: Callable[[Any], Any], body: Any, context: RequestContext) -> Any:
    try:
        return parser(body)
    except ValueError as error:
        raise InvalidResponse(
            f"the registry's answer is not what DTR sends while trying to {context.action}: {error}"
        ) from None
