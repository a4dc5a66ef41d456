"""What Harbor's API tells push-check: whether the project exists, and each tag's immutability.

Immutability is decided per tag from the artifact API with `with_immutable_status=true` (Harbor's
own verdict from the current rules, which readers that cannot list rules get too), never from the
rules alone. A failed look-up is an error, never "absent" or "mutable".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dtrctl.backends.harbor.doublestar import V1_3_4, GlobVersion
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


def push_right(
    api: HarborApi, name: RepositoryName, granted: frozenset[str] | None
) -> bool | DtrctlError:
    """From the registry token's `access` claim when it was readable; else Harbor's own list
    of the caller's permissions in the project (two calls). A failure is returned, never
    "allowed"."""
    from dtrctl.client.token_claims import may_push

    if granted is not None:
        return may_push(granted)
    try:
        project = api.get_project(name.namespace)
        if project.project_id < 1:
            raise InvalidResponse(f"Harbor sent project {name.namespace} without its id")
        permissions = api.current_permissions(f"/project/{project.project_id}")
    except DtrctlError as error:
        return error
    return ("repository", "push") in permissions


def tag_details(
    api: HarborApi,
    name: RepositoryName,
    tag: str,
    glob: Callable[[], GlobVersion | None] = lambda: V1_3_4,
) -> TagDetails:
    """The tag's immutability and push time; any failure is kept as the check's error. `glob`:
    the server's doublestar version, asked only when Harbor's answer lacks the verdict."""
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
    if entry.immutable is None:
        return _by_the_rules(api, (name, tag), entry.push_time or None, glob)
    return TagDetails(pushed_at=entry.push_time or None, immutable=entry.immutable, found=True)


def _by_the_rules(
    api: HarborApi,
    reference: tuple[RepositoryName, str],
    pushed_at: str | None,
    glob: Callable[[], GlobVersion | None],
) -> TagDetails:
    """A tag Harbor sent without its `immutable` field: the project's rules, evaluated here as
    Harbor evaluates them, decide; rules that cannot be read, or a verdict that depends on a
    Harbor version the server does not tell, leave the check incomplete."""
    from dtrctl.backends.harbor.doublestar import GLOB_VERSIONS
    from dtrctl.backends.harbor.rules import tag_is_immutable

    name, tag = reference
    missing = f"Harbor's answer for tag {name}:{tag} has no 'immutable' field"
    try:
        rules = api.list_rules(name.namespace)
        version = glob()
    except DtrctlError as error:
        return TagDetails(
            error=InvalidResponse(
                f"{missing}, and the rules of project {name.namespace} cannot be read to decide "
                f"whether it is immutable: {error.message}",
                hint="An older Harbor or a proxy may drop the field: check with a user who may "
                "list the project's immutability rules (maintainer or above)",
            )
        )
    verdicts = {
        tag_is_immutable(rules, name.name, tag, each)
        for each in ((version,) if version is not None else GLOB_VERSIONS)
    }
    if len({verdict.immutable for verdict in verdicts}) > 1:
        return TagDetails(
            error=InvalidResponse(
                f"{missing}, and the project's rules give a different answer on Harbor "
                "versions before and after 2.10.3, while the server does not say its version",
                hint="Check with a user the server tells its version (systeminfo)",
            )
        )
    verdict = next(iter(verdicts))
    if verdict.matched_rule is not None:
        decided = f"rule {verdict.matched_rule.id} makes it immutable"
    elif verdict.stopped_at is not None:
        decided = f"Harbor stops at rule {verdict.stopped_at.id} ({verdict.stop_reason})"
    else:
        decided = "no rule makes it immutable"
    note = f"{missing}: dtrctl evaluated the rules of project {name.namespace}: {decided}"
    return TagDetails(pushed_at=pushed_at, immutable=verdict.immutable, found=True, note=note)
