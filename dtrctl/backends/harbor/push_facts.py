"""What Harbor's API tells push-check: whether the project exists, and each tag's immutability.

Immutability is decided per tag from the artifact API with `with_immutable_status=true` (Harbor's
own verdict from the current rules, which readers that cannot list rules get too), never from the
rules alone. A failed look-up is an error, never "absent" or "mutable".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dtrctl.errors import DtrctlError, InvalidResponse
from dtrctl.records.push import RepositoryState, TagDetails, as_incomplete
from dtrctl.reference import RepositoryName

if TYPE_CHECKING:
    from dtrctl.backends.harbor.backend import HarborApi


def repository_state(api: HarborApi, name: RepositoryName) -> RepositoryState:
    """A missing project is `no-repo`; a missing repository in an existing project is not (the
    push creates it). Immutability is per tag (`tag_details`), so it is None here."""
    try:
        exists = api.project_exists(name.namespace)
    except DtrctlError as error:
        return RepositoryState(found=True, immutable=None, has_api=True, error=as_incomplete(error))
    return RepositoryState(found=exists, immutable=None, has_api=True)


def tag_details(api: HarborApi, name: RepositoryName, tag: str) -> TagDetails:
    """The tag's immutability and push time; any failure is kept as the check's error."""
    try:
        artifact = api.get_artifact(name.namespace, name.name, tag)
    except DtrctlError as error:
        return TagDetails(error=as_incomplete(error))
    if artifact is None:
        return TagDetails(found=False)
    entry = artifact.tag(tag)
    if entry is None:
        return TagDetails(
            error=InvalidResponse(
                f"Harbor answered for tag {name}:{tag} with an artifact that does not carry it"
            )
        )
    return TagDetails(pushed_at=entry.push_time or None, immutable=entry.immutable, found=True)
