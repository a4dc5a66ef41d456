"""push-check on Harbor predicts a push refused for want of the right, as on DTR: from the
registry token's `access` claim, else from Harbor's permission list; never `free` when the
right is missing or unknown, and `present` stays `present`."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from dtrctl.backends.harbor.push_facts import push_right
from dtrctl.backends.harbor.wire import HarborProject
from dtrctl.client.distribution import OCI_MANIFEST, Manifest
from dtrctl.client.token_claims import granted_actions
from dtrctl.errors import DtrctlError, ExitCode, PermissionDenied, ServerError
from dtrctl.push_check.expected import DigestKind, ExpectedContent
from dtrctl.push_check.gather import CheckOptions, run_checks
from dtrctl.push_check.verdicts import PushVerdict, exit_code_for
from dtrctl.records.push import RepositoryState, TagDetails
from dtrctl.reference import ImageReference, RepositoryName

APP = RepositoryName("library", "app")
DIGEST = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64


def jwt(claims: Any) -> str:
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def access(name: str, *actions: str) -> dict[str, Any]:
    return {"access": [{"type": "repository", "name": name, "actions": list(actions)}]}


class TestTheAccessClaim:
    def test_the_actions_granted_on_the_repository(self) -> None:
        token = jwt(access("library/app", "pull", "push"))
        assert granted_actions(token, "library/app") == frozenset({"pull", "push"})

    def test_a_claim_for_another_repository_grants_nothing_here(self) -> None:
        token = jwt(access("library/other", "pull", "push"))
        assert granted_actions(token, "library/app") == frozenset()

    def test_a_null_claim_grants_nothing(self) -> None:
        assert granted_actions(jwt({"access": None}), "library/app") == frozenset()

    @pytest.mark.parametrize(
        "token",
        [
            "opaque-token",
            "a.b.c",
            "a.!!!.c",
            jwt({"sub": "alice"}),  # no access claim at all
            jwt({"access": "pull"}),
            jwt({"access": ["pull"]}),
            jwt({"access": [{"type": "repository", "name": "library/app", "actions": "push"}]}),
            jwt(["not", "an", "object"]),
        ],
    )
    def test_a_token_that_does_not_say_is_unknown(self, token: str) -> None:
        assert granted_actions(token, "library/app") is None


class PermissionsApi:
    def __init__(self, permissions: list[tuple[str, str]] | DtrctlError) -> None:
        self.permissions = permissions
        self.scopes: list[str | None] = []

    def get_project(self, project: str) -> HarborProject:
        return HarborProject(project, 7)

    def current_permissions(self, scope: str | None = None) -> list[tuple[str, str]]:
        self.scopes.append(scope)
        if isinstance(self.permissions, DtrctlError):
            raise self.permissions
        return self.permissions


class TestHarborPushRight:
    def test_the_claim_decides_without_asking_harbor(self) -> None:
        api = PermissionsApi(ServerError("not asked"))
        assert push_right(api, APP, frozenset({"pull"})) is False  # type: ignore[arg-type]
        assert push_right(api, APP, frozenset({"pull", "push"})) is True  # type: ignore[arg-type]
        assert push_right(api, APP, frozenset({"*"})) is True  # type: ignore[arg-type]
        assert api.scopes == []

    def test_without_a_claim_harbor_s_permission_list_of_the_project_decides(self) -> None:
        guest = PermissionsApi([("repository", "pull"), ("repository", "read")])
        assert push_right(guest, APP, None) is False  # type: ignore[arg-type]
        assert guest.scopes == ["/project/7"]
        developer = PermissionsApi([("repository", "pull"), ("repository", "push")])
        assert push_right(developer, APP, None) is True  # type: ignore[arg-type]

    def test_a_failed_look_up_is_returned_never_allowed(self) -> None:
        api = PermissionsApi(ServerError("down", status=503))
        assert isinstance(push_right(api, APP, None), ServerError)  # type: ignore[arg-type]


class RightsBackend:
    kind = "harbor"

    def __init__(self, right: bool | DtrctlError) -> None:
        self.right = right
        self.granted: list[frozenset[str] | None] = []

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return RepositoryState(found=True, immutable=None, has_api=True)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return TagDetails(immutable=False, found=tag != "new")

    def push_right(
        self, name: RepositoryName, granted: frozenset[str] | None
    ) -> bool | DtrctlError:
        self.granted.append(granted)
        return self.right


class Registry:
    def get_manifest(self, name: RepositoryName, reference: str) -> Manifest | None:
        return None if reference == "new" else Manifest(DIGEST, OCI_MANIFEST, {})

    def granted_actions(self, name: RepositoryName) -> frozenset[str] | None:
        return frozenset({"pull"})


def check(backend: RightsBackend, *tags: str, username: str | None = "bob") -> Any:
    references = [ImageReference(None, APP, tag) for tag in tags]
    options = CheckOptions(ExpectedContent(OTHER, DigestKind.MANIFEST, "--digest"))
    registry = Registry()
    return run_checks(backend, registry, "msr.example.com", references, options, username)  # type: ignore[arg-type]


def test_a_push_the_registry_would_refuse_is_a_permission_error_never_free() -> None:
    backend = RightsBackend(False)
    results = check(backend, "new", "latest")
    assert [r.verdict for r in results] == [PushVerdict.ERROR, PushVerdict.ERROR]
    assert all(isinstance(r.error, PermissionDenied) for r in results)
    assert "user bob may not push to library/app" in results[0].reason
    assert exit_code_for(results, strict=False) is ExitCode.AUTH
    # The token's claim was read once for the repository, not once per tag.
    assert backend.granted == [frozenset({"pull"})]


def test_present_stays_present_without_the_push_right() -> None:
    backend = RightsBackend(False)
    options = CheckOptions(ExpectedContent(DIGEST, DigestKind.MANIFEST, "--digest"))
    references = [ImageReference(None, APP, "latest")]
    (result,) = run_checks(backend, Registry(), "h", references, options, "bob")  # type: ignore[arg-type]
    assert result.verdict is PushVerdict.PRESENT


def test_a_failed_rights_look_up_is_an_error_never_free() -> None:
    results = check(RightsBackend(ServerError("down", status=503)), "new")
    assert results[0].verdict is PushVerdict.ERROR
    assert exit_code_for(results, strict=False) is ExitCode.UNAVAILABLE


def test_with_the_push_right_the_verdicts_stand() -> None:
    results = check(RightsBackend(True), "new", "latest")
    assert [r.verdict for r in results] == [PushVerdict.FREE, PushVerdict.OVERWRITE]


def test_an_anonymous_check_does_not_predict_rights() -> None:
    backend = RightsBackend(False)
    (result,) = check(backend, "new", username=None)
    assert result.verdict is PushVerdict.FREE and backend.granted == []
