"""Repository operations against a recording fake of the DTR client."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from dtrctl.backends.dtr.backend import DtrBackend
from dtrctl.backends.dtr.wire import create_body
from dtrctl.backends.dtr.writes import create_repository, set_immutability
from dtrctl.errors import (
    AuthenticationFailed,
    DtrctlError,
    ExitCode,
    InvalidResponse,
    NetworkError,
    PermissionDenied,
    RepositoryExists,
    RepositoryNotFound,
    RequestTimeout,
    ServerError,
    UsageError,
)
from dtrctl.records.changes import RepositorySettings
from dtrctl.records.repository import Repository
from dtrctl.reference import RepositoryName
from dtrctl.repos.bulk import common_failure, set_immutability_bulk

API = RepositoryName("engineering", "api")


class FakeRepositoryApi:
    """Keeps repositories in a dict and records every call as (method, argument)."""

    def __init__(self, *repositories: Repository) -> None:
        self.repositories = {RepositoryName(r.namespace, r.name): r for r in repositories}
        self.calls: list[tuple[str, object]] = []
        self.get_errors: dict[RepositoryName, DtrctlError] = {}
        self.patch_errors: dict[RepositoryName, DtrctlError] = {}
        self.before_get: dict[RepositoryName, Callable[[], object]] = {}
        # Stores the repository, then loses the answer: what a timeout after the POST looks like.
        self.lose_create_answer: DtrctlError | None = None
        # Rewrites the PATCH answer, like a registry that ignores part of the change.
        self.patch_answer: Callable[[Repository], Repository] = lambda stored: stored
        self._lock = threading.Lock()

    def _record(self, method: str, argument: object) -> None:
        with self._lock:
            self.calls.append((method, argument))

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def sent(self, method: str) -> list[Repository]:
        return [
            argument
            for m, argument in self.calls
            if m == method and isinstance(argument, Repository)
        ]

    def get_repository(self, name: RepositoryName) -> Repository:
        self._record("GET", name)
        if name in self.before_get:
            self.before_get[name]()
        if name in self.get_errors:
            raise self.get_errors[name]
        if name not in self.repositories:
            raise RepositoryNotFound(
                f"repository {name} does not exist", status=404, dtr_code="NO_SUCH_REPOSITORY"
            )
        return self.repositories[name]

    def create_repository(self, repository: Repository) -> Repository:
        self._record("POST", repository)
        name = RepositoryName(repository.namespace, repository.name)
        if name in self.repositories:
            raise RepositoryExists(f"repository {name} already exists", status=400)
        stored = repository.with_changes(id="generated-id")
        self.repositories[name] = stored
        if self.lose_create_answer is not None:
            raise self.lose_create_answer
        return stored

    def update_repository(self, repository: Repository) -> Repository:
        self._record("PATCH", repository)
        name = RepositoryName(repository.namespace, repository.name)
        if name in self.patch_errors:
            raise self.patch_errors[name]
        self.repositories[name] = repository
        return self.patch_answer(repository)


def existing(**changes: object) -> Repository:
    base = Repository(
        namespace="engineering",
        name="api",
        id="7c1d",
        visibility="public",
        scan_on_push=True,
        short_description="the API server",
        long_description="Built from main.",
        pulls=40,
        pushes=9,
    )
    return base.with_changes(**changes)


# create


def test_create_posts_the_full_wanted_repository() -> None:
    api = FakeRepositoryApi()
    settings = RepositorySettings(
        immutable=True, visibility="public", short_description="API", scan_on_push=True
    )
    outcome = create_repository(api, API, settings, exist_ok=False)
    assert api.methods() == ["POST"]
    assert create_body(api.sent("POST")[0]) == {
        "name": "api",
        "shortDescription": "API",
        "longDescription": "",
        "visibility": "public",
        "scanOnPush": True,
        "immutableTags": True,
        "enableManifestLists": False,
        "tagLimit": 0,
    }
    assert (outcome.created, outcome.changed) == (True, True)
    assert outcome.repository.id == "generated-id"


def test_create_defaults_to_a_private_mutable_repository() -> None:
    api = FakeRepositoryApi()
    create_repository(api, API, RepositorySettings(), exist_ok=False)
    body = create_body(api.sent("POST")[0])
    assert (body["visibility"], body["immutableTags"], body["tagLimit"]) == ("private", False, 0)


def test_create_of_an_existing_repository_fails_without_exist_ok() -> None:
    api = FakeRepositoryApi(existing())
    with pytest.raises(RepositoryExists) as caught:
        create_repository(api, API, RepositorySettings(immutable=True), exist_ok=False)
    assert caught.value.exit_code == ExitCode.FAILED
    assert api.methods() == ["POST"]
    assert api.repositories[API] == existing()


def test_exist_ok_applies_only_the_given_settings() -> None:
    api = FakeRepositoryApi(existing())
    outcome = create_repository(api, API, RepositorySettings(visibility="private"), exist_ok=True)
    assert api.methods() == ["POST", "GET", "PATCH"]
    assert api.sent("PATCH") == [existing(visibility="private")]
    assert (outcome.created, outcome.changed) == (False, True)


def test_exist_ok_immutable_turns_immutability_on_and_clears_the_tag_limit() -> None:
    api = FakeRepositoryApi(existing(tag_limit=20))
    outcome = create_repository(api, API, RepositorySettings(immutable=True), exist_ok=True)
    assert api.sent("PATCH") == [existing(immutable=True, tag_limit=0)]
    assert outcome.repository.immutable is True
    assert (outcome.created, outcome.changed) == (False, True)


@pytest.mark.parametrize(
    ("current", "settings"),
    [
        (existing(), RepositorySettings()),
        # Without --immutable, an immutable repository stays immutable.
        (existing(immutable=True), RepositorySettings()),
        (existing(immutable=True), RepositorySettings(immutable=True, visibility="public")),
        (existing(tag_limit=5), RepositorySettings(tag_limit=5, scan_on_push=True)),
    ],
)
def test_exist_ok_sends_no_patch_when_nothing_differs(
    current: Repository, settings: RepositorySettings
) -> None:
    api = FakeRepositoryApi(current)
    outcome = create_repository(api, API, settings, exist_ok=True)
    assert "PATCH" not in api.methods()
    assert outcome.repository == current
    assert (outcome.created, outcome.changed) == (False, False)


def test_exist_ok_patch_answer_that_ignores_immutability_is_invalid() -> None:
    api = FakeRepositoryApi(existing())
    api.patch_answer = lambda stored: stored.with_changes(immutable=False)
    with pytest.raises(InvalidResponse) as caught:
        create_repository(api, API, RepositorySettings(immutable=True), exist_ok=True)
    assert caught.value.exit_code == ExitCode.UNAVAILABLE


@pytest.mark.parametrize(
    "settings",
    [
        RepositorySettings(immutable=True, tag_limit=10),
        RepositorySettings(visibility="internal"),
        RepositorySettings(tag_limit=-1),
        RepositorySettings(short_description="x" * 141),
    ],
)
def test_invalid_settings_are_a_usage_error_before_any_call(
    settings: RepositorySettings,
) -> None:
    api = FakeRepositoryApi(existing())
    for exist_ok in (False, True):
        with pytest.raises(UsageError) as caught:
            create_repository(api, API, settings, exist_ok=exist_ok)
        assert caught.value.exit_code == ExitCode.USAGE
    assert api.calls == []


def test_immutable_with_tag_limit_explains_that_dtr_treats_them_as_exclusive() -> None:
    with pytest.raises(UsageError) as caught:
        RepositorySettings(immutable=True, tag_limit=3).validate()
    assert "exclusive" in (caught.value.hint or "")


def test_description_of_140_characters_is_accepted() -> None:
    api = FakeRepositoryApi()
    create_repository(api, API, RepositorySettings(short_description="x" * 140), exist_ok=False)
    assert api.methods() == ["POST"]


# A lost answer to the POST


@pytest.mark.parametrize(
    "lost",
    [
        RequestTimeout("timed out trying to create repository engineering/api"),
        NetworkError("connection reset"),
        InvalidResponse("the registry sent an empty answer", status=201),
    ],
)
def test_lost_create_answer_then_get_finds_the_repository_is_success(lost: DtrctlError) -> None:
    api = FakeRepositoryApi()
    api.lose_create_answer = lost
    outcome = create_repository(api, API, RepositorySettings(immutable=True), exist_ok=False)
    assert api.methods() == ["POST", "GET"]
    assert outcome.created is True
    assert outcome.repository.immutable is True


def test_lost_create_answer_and_no_repository_reraises_the_timeout() -> None:
    class NothingStoredApi(FakeRepositoryApi):
        def create_repository(self, repository: Repository) -> Repository:
            self._record("POST", repository)
            raise lost

    lost = RequestTimeout("timed out trying to create repository engineering/api")
    api = NothingStoredApi()
    with pytest.raises(RequestTimeout) as caught:
        create_repository(api, API, RepositorySettings(immutable=True), exist_ok=False)
    assert caught.value is lost
    assert api.methods() == ["POST", "GET"]


def test_lost_create_answer_with_different_settings_found_is_a_conflict() -> None:
    class RacedApi(FakeRepositoryApi):
        """Someone else created the repository, mutable, just before our POST was lost."""

        def create_repository(self, repository: Repository) -> Repository:
            self._record("POST", repository)
            self.repositories[API] = existing()
            raise RequestTimeout("timed out")

    api = RacedApi()
    with pytest.raises(RepositoryExists) as caught:
        create_repository(api, API, RepositorySettings(immutable=True), exist_ok=False)
    assert "lost" in caught.value.message
    assert api.methods().count("POST") == 1


# set-immutable


@pytest.mark.parametrize("immutable", [True, False])
def test_set_immutability_is_idempotent(immutable: bool) -> None:
    api = FakeRepositoryApi(existing(immutable=immutable))
    result = set_immutability(api, API, immutable)
    assert api.methods() == ["GET"]
    assert (result.repository, result.immutable, result.changed) == (
        "engineering/api",
        immutable,
        False,
    )
    assert result.error is None


def test_set_immutability_is_read_modify_write_preserving_other_fields() -> None:
    current = existing(tag_limit=0, long_description="keep me", visibility="public")
    api = FakeRepositoryApi(current)
    result = set_immutability(api, API, True)
    assert api.methods() == ["GET", "PATCH"]
    assert api.sent("PATCH") == [current.with_changes(immutable=True)]
    assert (result.immutable, result.changed, result.tag_limit_cleared) == (True, True, False)


def test_turning_immutability_on_clears_the_tag_limit_and_says_so() -> None:
    api = FakeRepositoryApi(existing(tag_limit=50))
    result = set_immutability(api, API, True)
    assert api.sent("PATCH") == [existing(immutable=True, tag_limit=0)]
    assert result.tag_limit_cleared is True


def test_turning_immutability_off_keeps_the_tag_limit() -> None:
    api = FakeRepositoryApi(existing(immutable=True, tag_limit=50))
    result = set_immutability(api, API, False)
    assert api.sent("PATCH") == [existing(immutable=False, tag_limit=50)]
    assert result.tag_limit_cleared is False


def test_patch_answer_not_reflecting_the_change_is_an_invalid_response() -> None:
    api = FakeRepositoryApi(existing())
    api.patch_answer = lambda stored: stored.with_changes(immutable=False)
    with pytest.raises(InvalidResponse, match="reports immutability off"):
        set_immutability(api, API, True)


def test_set_immutability_raises_and_the_bulk_runner_reports_it_per_repository() -> None:
    api = FakeRepositoryApi(existing())
    api.patch_errors[API] = PermissionDenied("user bob may not change the settings", status=403)
    with pytest.raises(PermissionDenied):
        set_immutability(api, API, True)
    results = set_immutability_bulk(
        DtrBackend(api),  # type: ignore[arg-type]  # the fake has only the calls used here
        [API],
        True,
    ).results
    assert isinstance(results[0].error, PermissionDenied)
    assert (results[0].immutable, results[0].changed) == (None, False)


def names(*texts: str) -> list[RepositoryName]:
    return [RepositoryName("engineering", text) for text in texts]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_bulk_set_immutability_keeps_order_and_isolates_failures(concurrency: int) -> None:
    first, missing, forbidden, already, last = names("first", "missing", "forbidden", "on", "last")
    api = FakeRepositoryApi(
        existing(name="first"),
        existing(name="forbidden"),
        existing(name="on", immutable=True),
        existing(name="last"),
    )
    api.patch_errors[forbidden] = PermissionDenied("user bob may not", status=403)
    if concurrency > 1:
        # The first repository finishes after the last one: the results still follow the input.
        last_started = threading.Event()
        api.before_get[last] = last_started.set
        api.before_get[first] = lambda: last_started.wait(timeout=10)

    results = set_immutability_bulk(
        DtrBackend(api),  # type: ignore[arg-type]  # the fake has only the calls used here
        [first, missing, forbidden, already, last],
        True,
        concurrency=concurrency,
    ).results

    assert [r.repository for r in results] == [
        "engineering/first",
        "engineering/missing",
        "engineering/forbidden",
        "engineering/on",
        "engineering/last",
    ]
    assert [r.changed for r in results] == [True, False, False, False, True]
    assert isinstance(results[1].error, RepositoryNotFound)
    assert isinstance(results[2].error, PermissionDenied)
    assert [r.error for r in (results[0], results[3], results[4])] == [None, None, None]
    assert api.repositories[first].immutable and api.repositories[last].immutable
    assert not api.repositories[forbidden].immutable


def test_common_failure_when_all_failed_alike() -> None:
    denied = [PermissionDenied("a"), AuthenticationFailed("b")]
    assert common_failure(denied) is denied[0]
    missing = [RepositoryNotFound("x"), RepositoryNotFound("y")]
    assert common_failure(missing) is missing[0]


@pytest.mark.parametrize(
    "errors",
    [
        [],
        [PermissionDenied("a"), RepositoryNotFound("b")],
        [ServerError("a"), UsageError("b"), ServerError("c")],
    ],
)
def test_no_common_failure_when_failures_differ(errors: list[DtrctlError]) -> None:
    assert common_failure(errors) is None
