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
    one = f"{API}/projects/engineering/repositories/team%252Fapp"
    assert admin.put(one, json={"description": "Team app"}).status_code == 200
    validate(harbor_swagger, "Repository", admin.get(f"{API}/repositories").json(), array=True)
    validate(harbor_swagger, "Repository", admin.get(one).json())
    assert admin.get(one).json()["description"] == "Team app"


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


REPOSITORY = "/projects/{project_name}/repositories/{repository_name}"
# Answers Harbor gives beyond the Swagger's list (FACTS.md): an immutable tag refuses the
# delete of its artifact or repository, and a copy onto it, with 412.
REFUSED_WITH_412 = {
    ("delete", REPOSITORY),
    ("delete", f"{REPOSITORY}/artifacts/{{reference}}"),
    ("post", f"{REPOSITORY}/artifacts"),
}


@pytest.mark.parametrize(
    ("method", "template", "url", "body", "params", "expected"),
    [
        ("put", REPOSITORY, "engineering/repositories/web", {"description": "d"}, None, 200),
        ("put", REPOSITORY, "engineering/repositories/nope", {"description": "d"}, None, 404),
        ("delete", REPOSITORY, "engineering/repositories/web", None, None, 200),
        ("delete", REPOSITORY, "engineering/repositories/api", None, None, 412),
        (
            "delete",
            f"{REPOSITORY}/artifacts/{{reference}}",
            "engineering/repositories/web/artifacts/v1",
            None,
            None,
            200,
        ),
        (
            "delete",
            f"{REPOSITORY}/artifacts/{{reference}}",
            "engineering/repositories/api/artifacts/1.0.0",
            None,
            None,
            412,
        ),
        (
            "post",
            f"{REPOSITORY}/artifacts/{{reference}}/tags",
            "engineering/repositories/web/artifacts/v1/tags",
            {"name": "v2"},
            None,
            201,
        ),
        (
            "post",
            f"{REPOSITORY}/artifacts/{{reference}}/tags",
            "engineering/repositories/web/artifacts/v1/tags",
            {"name": "v1"},
            None,
            409,
        ),
        (
            "post",
            f"{REPOSITORY}/artifacts",
            "engineering/repositories/web/artifacts",
            None,
            {"from": "library/nginx:1.25"},
            201,
        ),
        (
            "post",
            f"{REPOSITORY}/artifacts",
            "engineering/repositories/api/artifacts",
            None,
            {"from": "engineering/web:v1"},
            201,
        ),
        (
            "post",
            f"{REPOSITORY}/artifacts",
            "engineering/repositories/web/artifacts",
            None,
            {"from": "x"},
            400,
        ),
    ],
)
def test_repository_writes_follow_the_swagger(
    harbor_swagger, admin, method, template, url, body, params, expected
):
    operation = harbor_swagger["paths"][template][method]
    for parameter in operation["parameters"]:
        if parameter.get("in") == "body":
            validate(harbor_swagger, parameter["schema"]["$ref"].rsplit("/", 1)[1], body)
    answer = admin.request(method.upper(), f"{API}/projects/{url}", json=body, params=params)
    assert answer.status_code == expected, answer.text
    allowed = set(operation["responses"]) | (
        {"412"} if (method, template) in REFUSED_WITH_412 else set()
    )
    assert str(answer.status_code) in allowed
    if answer.status_code >= 400:
        validate(harbor_swagger, "Errors", answer.json())
    else:
        assert answer.content == b""
    if answer.status_code == 201 and template.endswith("/artifacts"):
        assert answer.headers["Location"].startswith(f"{API}/projects/{url}/")
