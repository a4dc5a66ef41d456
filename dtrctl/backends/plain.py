"""`PlainRegistryBackend`: a plain Docker registry (`--backend registry`), which has no API for
repository settings.

push-check still works on `/v2` alone: every repository counts as present (a plain registry
creates repositories on push), immutability is unknown, and an existing tag is `overwrite` with a
note, never `free`. Every other command is a usage error (exit 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from dtrctl.errors import UsageError
from dtrctl.records.push import RepositoryState, TagDetails

if TYPE_CHECKING:
    from dtrctl.reference import RepositoryName

NO_API_MESSAGE = (
    "a plain registry has no API for repository settings: a plain registry supports push-check only"
)
NO_API_HINT = (
    "--backend registry (DTRCTL_BACKEND, the profile's backend) names one; use --backend dtr, "
    "harbor or auto for a DTR or MSR 4"
)


def refuse_administration() -> NoReturn:
    """What every command but push-check meets on a plain registry, once, before any request."""
    raise UsageError(NO_API_MESSAGE, hint=NO_API_HINT)


class PlainRegistryBackend:
    """push-check's facts only (`PushCheckFacts`): there is no administration to offer."""

    kind = "registry"

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return RepositoryState(found=True, immutable=None, has_api=False)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return TagDetails()

    def push_right(self, name: RepositoryName, granted: frozenset[str] | None) -> None:
        return None  # a plain registry's rights are not known before the push

    def token_endpoint(self, url: str) -> None:
        # A plain registry names its token server only in its challenge (often another host).
        return None
