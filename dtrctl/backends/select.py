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
    if kind in ("auto", "dtr"):
        from dtrctl.backends.dtr.backend import DtrBackend

        return DtrBackend(session.dtr)
    raise UsageError(f"--backend {kind} is not available yet")
