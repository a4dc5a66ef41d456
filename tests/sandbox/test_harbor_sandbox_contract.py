"""The Harbor flavor's requests and answers validate against the Harbor 2.13 Swagger excerpt."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from dtrctl.sandbox.accounts import ADMIN
from dtrctl.sandbox.harbor.seed import canonical_rule

API = "/api/v2.0"
ADMIN_AUTH = (ADMIN.username, ADMIN.password)
CI_ROBOT_AUTH = ("robot$engineering+ci", "sandbox-robot-ci-secret")
BY_NAME = {"X-Is-Resource-Name": "true"}


def validate(swagger: dict[str, Any], name: str, instance: Any, array: bool = False) -> None:
    schema: dict[str, Any] = {"$ref": f"#/definitions/{name}"}
    if array:
        schema = {"type": "array", "items": schema}
    jsonschema.Draft4Validator({**schema, "definitions": swagger["definitions"]}).validate(instance)
    for item in instance if array else [instance]:
        # Extra fields pass the schema silently; a misspelt field must not.
        assert set(item) <= set(swagger["definitions"][name]["properties"]), name


@pytest.fixture
def admin(harbor_for):
    return harbor_for(ADMIN_AUTH)


@pytest.mark.parametrize("auth", [None, ADMIN_AUTH])
def test_system_info_is_general_info(harbor_swagger, harbor_for, auth):
    validate(harbor_swagger, "GeneralInfo", harbor_for(auth).get(f"{API}/systeminfo").json())


def test_projects_are_project(harbor_swagger, admin):
    validate(harbor_swagger, "Project", admin.get(f"{API}/projects").json(), array=True)
    one = admin.get(f"{API}/projects/engineering", headers=BY_NAME).json()
    validate(harbor_swagger, "Project", one)
    validate(harbor_swagger, "ProjectMetadata", one["metadata"])


def test_a_project_request_is_project_req(harbor_swagger, admin):
    body = {"project_name": "contract", "metadata": {"public": "false"}}
    validate(harbor_swagger, "ProjectReq", body)
    assert admin.post(f"{API}/projects", json=body).status_code == 201


def test_rules_sent_and_listed_are_immutable_rule(harbor_swagger, admin):
    rules = f"{API}/projects/engineering/immutabletagrules"
    sent = canonical_rule("web")
    validate(harbor_swagger, "ImmutableRule", sent)
    assert admin.post(rules, json=sent, headers=BY_NAME).status_code == 201
    listed = admin.get(rules, headers=BY_NAME).json()
    validate(harbor_swagger, "ImmutableRule", listed, array=True)
    for rule in listed:
        validate(harbor_swagger, "ImmutableSelector", rule["tag_selectors"], array=True)


def test_repositories_are_repository(harbor_swagger, admin):
    validate(harbor_swagger, "Repository", admin.get(f"{API}/repositories").json(), array=True)
    one = admin.get(f"{API}/projects/engineering/repositories/team%252Fapp").json()
    validate(harbor_swagger, "Repository", one)


@pytest.mark.parametrize(
    "repository",
    [
        "engineering/repositories/api",
        "engineering/repositories/team%252Fapp",
        "library/repositories/alpine",
    ],
)
def test_artifacts_and_their_tags_are_artifact_and_tag(harbor_swagger, admin, repository):
    path = f"{API}/projects/{repository}/artifacts"
    params = {"with_tag": "true", "with_immutable_status": "true"}
    listed = admin.get(path, params=params).json()
    validate(harbor_swagger, "Artifact", listed, array=True)
    # The multi-platform index of library/alpine shows its platforms as references.
    assert any("references" in artifact for artifact in listed) == repository.endswith("alpine")
    for artifact in listed:
        validate(harbor_swagger, "Tag", artifact["tags"], array=True)
        for reference in artifact.get("references", []):
            validate(harbor_swagger, "Reference", reference)
        one = admin.get(f"{path}/{artifact['digest']}", params=params).json()
        validate(harbor_swagger, "Artifact", one)
        tags = admin.get(f"{path}/{artifact['digest']}/tags", params=params).json()
        validate(harbor_swagger, "Tag", tags, array=True)


def test_the_current_user_and_permissions(harbor_swagger, admin):
    validate(harbor_swagger, "UserResp", admin.get(f"{API}/users/current").json())
    permissions = admin.get(
        f"{API}/users/current/permissions", params={"scope": "/project/2", "relative": "true"}
    ).json()
    validate(harbor_swagger, "Permission", permissions, array=True)


@pytest.mark.parametrize(
    ("auth", "method", "path"),
    [
        (None, "GET", f"{API}/projects/engineering/immutabletagrules"),
        (ADMIN_AUTH, "GET", f"{API}/projects/nope"),
        (ADMIN_AUTH, "POST", f"{API}/projects"),
        (CI_ROBOT_AUTH, "GET", f"{API}/users/current"),
    ],
)
def test_errors_are_errors(harbor_swagger, harbor_for, auth, method, path):
    answer = harbor_for(auth).request(method, path, json={"project_name": "library"})
    assert answer.status_code >= 400
    validate(harbor_swagger, "Errors", answer.json())
