"""What a backend tells push-check about a repository and a tag, before any verdict."""

from __future__ import annotations

from typing import NamedTuple

from dtrctl.errors import DtrctlError, ExitCode, InvalidResponse


class RepositoryState(NamedTuple):
    """What the DTR API said about a repository."""

    found: bool
    immutable: bool | None  # None: the registry cannot tell (no DTR API)
    has_api: bool
    error: DtrctlError | None = None
    # Whether `user` may push here: None when unknown (anonymous, or no DTR API).
    user: str | None = None
    may_push: bool | None = None
    # Why a push would fail, or why whether it would is unknown (a failed rights look-up):
    # the verdict of a tag the push would write (free, overwrite); other verdicts stand.
    push_error: DtrctlError | None = None

    @property
    def note(self) -> str | None:
        if self.has_api:
            return None
        return "no DTR API on this registry: the verdict uses existence and digest only"


class TagDetails(NamedTuple):
    """Author and push time from the tag API: for people; on Harbor also the per-tag verdict."""

    author: str | None = None
    pushed_at: str | None = None
    note: str | None = None
    # Per-tag immutability, from a registry that decides per tag (Harbor); None: not told here,
    # the repository's immutability applies.
    immutable: bool | None = None
    # Whether the tag API found the tag (None: not asked); checked against the registry's answer.
    found: bool | None = None
    # A per-tag lookup the verdict depends on failed: the check cannot complete.
    error: DtrctlError | None = None


def as_incomplete(error: DtrctlError) -> DtrctlError:
    """An error that stops a check: kept when it is auth or availability, else garbled (5)."""
    if error.exit_code in (ExitCode.AUTH, ExitCode.UNAVAILABLE):
        return error
    return InvalidResponse(
        error.message, hint=error.hint, status=error.status, dtr_code=error.dtr_code
    )
