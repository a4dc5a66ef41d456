"""What the DTR API tells push-check: a repository's immutability and access, a tag's details."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dtrctl.errors import (
    AuthenticationFailed,
    DtrctlError,
    ExitCode,
    NoRegistryApi,
    NotFound,
    TagNotFound,
)
from dtrctl.records.push import RepositoryState, TagDetails, as_incomplete
from dtrctl.reference import RepositoryName

if TYPE_CHECKING:
    from dtrctl.backends.dtr.api import CheckedDtrApi

# What DTR's API says when a repository (or its namespace) is absent or not visible.
DTR_ABSENT_CODES = frozenset({"NO_SUCH_REPOSITORY", "NO_SUCH_ACCOUNT"})


def repository_state(
    api: CheckedDtrApi,
    name: RepositoryName,
    username: str | None,
    *,
    plain_fallback: bool = False,
    another_kind: Callable[[], bool] | None = None,
) -> RepositoryState:
    """What the DTR API says of `name`. `api` raises `NoRegistryApi` where no DTR answers: a
    plain registry when `plain_fallback` (a host named only by the references), else an error.
    `another_kind`: whether another kind of registry answers at the URL (detection's probe),
    so that a missing DTR API is said at once, without asking the repository call too."""
    if username is not None:
        # One call tells both immutability and whether this user may push at all.
        try:
            access = api.get_repository_access(username, name)
        except NotFound as error:
            if error.dtr_code == "NO_SUCH_REPOSITORY":
                return RepositoryState(found=False, immutable=None, has_api=True)
            # Another DTR "not found" (e.g. the user's account): the repository call decides.
        except NoRegistryApi as error:
            if another_kind is not None and another_kind():
                return _state_from_error(error)
            # No such endpoint (an older DTR, or no DTR at all): the repository call decides.
        except DtrctlError as error:
            if error.exit_code is not ExitCode.AUTH or isinstance(error, AuthenticationFailed):
                return _state_from_error(error)
            # A 403 here (a DTR that keeps this call for admins): the repository call decides.
        else:
            return RepositoryState(
                found=True,
                immutable=access.repository.immutable,
                has_api=True,
                user=username,
                may_push=access.may_push,
            )
    try:
        repository = api.get_repository(name)
    except NotFound as error:
        if error.dtr_code in DTR_ABSENT_CODES:
            return RepositoryState(found=False, immutable=None, has_api=True)
        return _state_from_error(error)
    except NoRegistryApi as error:
        if plain_fallback:
            return RepositoryState(found=True, immutable=None, has_api=False)
        return _state_from_error(error)
    except DtrctlError as error:
        return _state_from_error(error)
    return RepositoryState(found=True, immutable=repository.immutable, has_api=True)


def _state_from_error(error: DtrctlError) -> RepositoryState:
    return RepositoryState(found=True, immutable=None, has_api=True, error=as_incomplete(error))


def tag_details(api: CheckedDtrApi, name: RepositoryName, tag: str) -> TagDetails:
    try:
        entries = api.get_tag(name, tag)
    except TagNotFound:
        return TagDetails()
    except DtrctlError as error:
        return TagDetails(note=f"tag details unavailable from the DTR API: {error.message}")
    latest = max(entries, key=lambda entry: entry.updated_at or entry.created_at)
    return TagDetails(
        author=latest.author or None,
        pushed_at=latest.updated_at or latest.created_at or None,
    )
