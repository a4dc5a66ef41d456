"""Which backend serves a session: the kind the user named (option, environment, profile), or
the kind detected once when it is `auto`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dtrctl.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dtrctl.backends.base import Backend
    from dtrctl.push_check.verdicts import CheckResult
    from dtrctl.session import Session


def backend_for(session: Session) -> Backend:
    """The backend for the session's registry, by `--backend` (default: auto, see `auto`)."""
    kind = session.settings.backend or "auto"
    if kind == "auto":
        from dtrctl.backends.auto import AutoBackend
        from dtrctl.client.detect import answers_harbor

        return AutoBackend(
            backend_of_kind(session, "dtr", auto=True),
            lambda: backend_of_kind(session, "harbor"),
            lambda: answers_harbor(session.http, session.url),
            session.url,
        )
    return backend_of_kind(session, kind)


def backend_of_kind(session: Session, kind: str, *, auto: bool = False) -> Backend:
    """`auto`: the kind was not named, so a host named only by push-check's references may turn
    out to be a plain registry."""
    if kind == "registry":
        from dtrctl.backends.registry import PlainRegistryBackend

        return PlainRegistryBackend()
    if kind == "dtr":
        from dtrctl.backends.dtr.backend import DtrBackend

        # Only a host named by push-check's references, not the configured DTR, may turn out
        # to be a plain registry: a configured DTR that stops answering like one is an error.
        plain_fallback = auto and session.url_from_reference
        return DtrBackend(session.dtr, url=session.url, plain_fallback=plain_fallback)
    if kind == "harbor":
        from dtrctl.backends.harbor.backend import HarborBackend
        from dtrctl.client.harbor import HarborClient

        return HarborBackend(HarborClient(session.http, session.url, session.auth))
    raise UsageError(f"--backend {kind} is not available yet")


def harbor_instead(session: Session, results: Sequence[CheckResult]) -> Backend | None:
    """push-check under `auto`: when the DTR API was not there (a 404 DTR did not send), Harbor
    if the URL answers as Harbor. A host only the references name is read as a plain registry
    by the DTR backend instead (never "free"); `--backend harbor` or a profile that recorded the
    kind checks it per tag."""
    if (session.settings.backend or "auto") != "auto":
        return None
    if not any(result.error is not None and result.error.code == "no_api" for result in results):
        return None
    from dtrctl.client.detect import answers_harbor

    return backend_of_kind(session, "harbor") if answers_harbor(session.http, session.url) else None
