"""Which backend serves a session: the kind the user named (option, environment, profile)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dtrctl.errors import UsageError

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.session import Session


def backend_for(session: Session) -> Backend:
    """The backend for the session's registry, by `--backend` (default: auto)."""
    kind = session.settings.backend or "auto"
    if kind == "registry":
        from dtrctl.backends.registry import PlainRegistryBackend

        return PlainRegistryBackend()
    if kind in ("auto", "dtr"):
        from dtrctl.backends.dtr.backend import DtrBackend

        # Only a host named by push-check's references, not the configured DTR, may turn out
        # to be a plain registry: a configured DTR that stops answering like one is an error.
        plain_fallback = kind == "auto" and session.url_from_reference
        return DtrBackend(session.dtr, url=session.url, plain_fallback=plain_fallback)
    raise UsageError(f"--backend {kind} is not available yet")
