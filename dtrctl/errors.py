"""Typed errors and the exit codes they map to.

Every failure dtrctl reports is a `DtrctlError`: it carries a stable machine word (`code`, used in
JSON output), the exit code, a message that says what happened and, where useful, a hint that says
what to do. The CLI layer renders them; nothing below it prints.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # conflict, check failed, partial failure of a bulk run
    USAGE = 2  # usage or bad input
    AUTH = 3  # authentication or permission
    NOT_FOUND = 4
    UNAVAILABLE = 5  # network, TLS, timeout, server error, garbled answer
    INTERRUPTED = 130


class DtrctlError(Exception):
    """Base of every error dtrctl reports to its user."""

    code: str = "error"
    exit_code: ExitCode = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        dtr_code: str | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.dtr_code = dtr_code
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (`error` object of the dtrctl/v1 schema)."""
        return {
            "code": self.code,
            "message": self.message if not self.hint else f"{self.message}. {self.hint}",
            "exit_code": int(self.exit_code),
            "status": self.status,
            "dtr_code": self.dtr_code,
        }


class UsageError(DtrctlError):
    code = "usage"
    exit_code = ExitCode.USAGE


class InvalidReference(UsageError):
    """A repository or image reference that does not follow DTR's grammar."""


class MissingSetting(UsageError):
    """A required setting (URL, credentials) was not supplied."""


class BadRequest(UsageError):
    """The server refused the request as invalid (4xx other than auth, not found, conflict)."""


class AuthenticationFailed(DtrctlError):
    code = "auth"
    exit_code = ExitCode.AUTH


class MissingCredentials(AuthenticationFailed):
    """No credential where one is needed: a write, a CI gate against a DTR, or a named user
    without a secret. Never turned into an anonymous run silently."""


class CredentialSourceUnusable(AuthenticationFailed):
    """A credential source dtrctl cannot read within its bounds: a file too large or not a
    file, a credential helper whose answer is too large. Named, never skipped silently."""


class PermissionDenied(DtrctlError):
    code = "permission"
    exit_code = ExitCode.AUTH


class NotFound(DtrctlError):
    code = "not_found"
    exit_code = ExitCode.NOT_FOUND


class RepositoryNotFound(NotFound):
    pass


class TagNotFound(NotFound):
    pass


class Conflict(DtrctlError):
    code = "conflict"
    exit_code = ExitCode.FAILED


class RepositoryExists(Conflict):
    pass


class NetworkError(DtrctlError):
    code = "network"
    exit_code = ExitCode.UNAVAILABLE


class TLSVerificationError(DtrctlError):
    code = "tls"
    exit_code = ExitCode.UNAVAILABLE


class RequestTimeout(DtrctlError):
    code = "timeout"
    exit_code = ExitCode.UNAVAILABLE


class CredentialSourceTimeout(RequestTimeout):
    """A credential helper or the system keyring that did not answer in time."""


class ServerError(DtrctlError):
    code = "server"
    exit_code = ExitCode.UNAVAILABLE


class NoRegistryApi(ServerError):
    """The URL answers, but not with the registry API expected there (e.g. no DTR `/api/v0`)."""

    code = "no_api"


class InvalidResponse(ServerError):
    """A 2xx answer that is empty or not the JSON expected: never read as success."""


class ResponseTooLarge(InvalidResponse):
    """An answer larger than dtrctl reads for its kind: a broken or hostile server, or a proxy."""


class Interrupted(DtrctlError):
    code = "interrupted"
    exit_code = ExitCode.INTERRUPTED
