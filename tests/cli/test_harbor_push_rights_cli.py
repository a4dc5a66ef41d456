"""push-check on Harbor when the registry token does not say what it grants: Harbor's own list
of the user's permissions in the project decides, and a failure there is an error, never
`free`."""

from __future__ import annotations

import pytest

from tests.cli.test_harbor_cli import on_harbor

pytestmark = pytest.mark.usefixtures("dtr_env", "on_harbor")
__all__ = ["on_harbor"]


@pytest.fixture
def opaque_token(dtr):
    """A tag that does not exist, read with a token that is no JWT."""
    dtr.get("/service/token").respond(200, json={"token": "opaque"})
    dtr.get("/api/v2.0/projects/library/repositories/app/artifacts/new").respond(
        404, json={"errors": [{"code": "NOT_FOUND", "message": "artifact not found"}]}
    )
    dtr.get("/v2/library/app/manifests/new").respond(
        404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
    )


@pytest.mark.usefixtures("opaque_token")
def test_without_the_push_permission_the_check_is_a_permission_error(dtr, cli) -> None:
    permissions = dtr.get("/api/v2.0/users/current/permissions").respond(
        200, json=[{"resource": "repository", "action": "pull"}]
    )
    result = cli("push-check", "library/app:new", "-o", "json")
    assert result.exit_code == 3, result.stdout
    assert result.json()["results"][0]["error"]["code"] == "permission"
    assert dict(permissions.calls.last.request.url.params) == {
        "scope": "/project/1",
        "relative": "true",
    }


@pytest.mark.usefixtures("opaque_token")
def test_with_it_the_tag_is_free(dtr, cli) -> None:
    dtr.get("/api/v2.0/users/current/permissions").respond(
        200, json=[{"resource": "repository", "action": "push"}]
    )
    result = cli("push-check", "library/app:new", "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.json()["results"][0]["verdict"] == "free"


@pytest.mark.usefixtures("opaque_token")
def test_a_failed_permission_look_up_is_an_error_never_free(dtr, cli) -> None:
    dtr.get("/api/v2.0/users/current/permissions").respond(503)
    result = cli("push-check", "library/app:new", "-o", "json")
    assert result.exit_code == 5, result.stdout
    assert result.json()["results"][0]["verdict"] == "error"
