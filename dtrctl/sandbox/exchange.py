"""The sandbox's view of one HTTP exchange, independent of the socket server."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    # Header names lower-cased.
    headers: dict[str, str]
    body: bytes
    scheme: str
    # The Host header, else the server's own address.
    host: str

    @classmethod
    def parse(
        cls,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        scheme: str,
        default_host: str,
    ) -> Request:
        split = urllib.parse.urlsplit(target)
        lowered = {name.lower(): value for name, value in headers.items()}
        return cls(
            method=method.upper(),
            path=split.path or "/",
            query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
            headers=lowered,
            body=body,
            scheme=scheme,
            host=lowered.get("host") or default_host,
        )

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def basic_credentials(self) -> tuple[str, str] | None:
        """The Basic credentials sent, None when there is no Authorization header.

        Raises ValueError for another scheme or a malformed value.
        """
        value = self.headers.get("authorization")
        if value is None:
            return None
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            raise ValueError(f"authorization scheme {scheme!r} is not accepted here")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError("malformed Basic credentials") from None
        username, separator, password = decoded.partition(":")
        if not separator:
            raise ValueError("malformed Basic credentials")
        return username, password


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def json_response(
    status: int, value: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(value, separators=(",", ":")).encode() + b"\n"
    return Response(status, body, [("Content-Type", "application/json"), *(headers or [])])


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "detail": detail}]}


class ApiError(Exception):
    """An answer in the error envelope, raised from anywhere in a handler."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: Any = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers or []

    def response(self) -> Response:
        return json_response(
            self.status, error_body(self.code, self.message, self.detail), self.headers
        )
