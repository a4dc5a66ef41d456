"""What the Harbor client sends, checked against Harbor v2.13's Swagger excerpt (`/api/v2.0`).

Every request must use a path, method, query parameters and headers the excerpt lists, and every
body must validate against the schema of that operation's body parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import jsonschema
import pytest
import respx

from dtrctl.backends.harbor.api import HarborClient
from dtrctl.backends.harbor.rules import canonical_rule
from dtrctl.client.transport import TransportOptions, build_http_client

BASE = "https://msr.example.com"
HARBOR_SWAGGER_PATH = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "harbor-api"
    / "harbor-2.13-swagger-excerpt.json"
)
DIGEST = "sha256:" + "e" * 64


@pytest.fixture(scope="module")
def swagger() -> dict[str, Any]:
    if not HARBOR_SWAGGER_PATH.is_file():
        pytest.skip(f"the Harbor Swagger excerpt is not beside the checkout: {HARBOR_SWAGGER_PATH}")
    return json.loads(HARBOR_SWAGGER_PATH.read_text())


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with build_http_client(TransportOptions(retries=0)) as client:
        yield client


def parameters(swagger: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    resolved = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = swagger["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        resolved.append(parameter)
    return resolved


def documented_operation(swagger: dict[str, Any], method: str, raw_path: str) -> dict[str, Any]:
    """The operation for this request; path segments compared as Harbor's router sees them."""
    path = raw_path.partition("?")[0].removeprefix(swagger["basePath"])
    segments = [unquote(segment) for segment in path.split("/")]
    matches = []
    for template, operations in swagger["paths"].items():
        parts = template.split("/")
        if method.lower() in operations and len(parts) == len(segments):
            fixed = zip(parts, segments, strict=True)
            if all(part.startswith("{") or part == segment for part, segment in fixed):
                matches.append(operations[method.lower()])
    assert len(matches) == 1, f"{method} {raw_path}: {len(matches)} operations in the excerpt"
    return matches[0]


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if request.method == "POST" and path.endswith("/immutabletagrules"):
        return httpx.Response(201, headers={"Location": f"{path}/7"})
    if request.method in ("POST", "PUT", "DELETE", "HEAD"):
        return httpx.Response(201 if request.method == "POST" else 200)
    if path.endswith("/immutabletagrules"):
        return httpx.Response(200, json=[{"id": 1, **canonical_rule("app").to_api()}])
    if "/artifacts/" in path:
        return httpx.Response(200, json={"digest": DIGEST, "tags": [{"name": "1.0"}]})
    if path.endswith("/repositories"):
        return httpx.Response(200, json=[{"name": "library/team/app"}])
    if path.endswith("/projects"):
        return httpx.Response(200, json=[{"name": "library", "project_id": 1}])
    if path.endswith("/permissions"):
        return httpx.Response(200, json=[])
    if "/repositories/" in path:
        return httpx.Response(200, json={"name": "library/team/app"})
    return httpx.Response(200, json={"name": "library", "project_id": 1, "auth_mode": "db_auth"})


def every_client_request(http: httpx.Client) -> list[httpx.Request]:
    harbor = HarborClient(http, BASE, ("robot$dtrctl", "secret"))
    rule = canonical_rule("team/app")
    with respx.mock(base_url=BASE) as router:
        route = router.route().mock(side_effect=answer)
        harbor.system_info()
        harbor.check_credentials()
        harbor.current_permissions("/project/1")
        harbor.project_exists("library")
        harbor.get_project("library")
        harbor.create_project("team", public=True)
        list(harbor.list_projects())
        harbor.list_rules("library")
        harbor.create_rule("library", rule)
        harbor.update_rule("library", replace(rule, id=7, disabled=True))
        harbor.delete_rule("library", 7)
        list(harbor.list_repositories())
        list(harbor.list_repositories("library"))
        harbor.get_repository("library", "team/app")
        harbor.update_repository_description("library", "team/app", "Team app")
        harbor.get_artifact("library", "team/app", "1.0")
    return [call.request for call in route.calls]


def test_every_request_is_a_documented_operation_with_valid_parameters_and_body(
    swagger: dict[str, Any], http: httpx.Client
) -> None:
    requests = every_client_request(http)
    assert len(requests) == 16
    for request in requests:
        operation = documented_operation(swagger, request.method, request.url.raw_path.decode())
        declared = parameters(swagger, operation)
        query = {p["name"] for p in declared if p["in"] == "query"}
        assert set(request.url.params) <= query, (request.method, request.url)
        headers = {p["name"].lower() for p in declared if p["in"] == "header"}
        if "x-is-resource-name" in request.headers:
            assert "x-is-resource-name" in headers, request.url
        body_parameters = [p for p in declared if p["in"] == "body"]
        if request.content:
            (body_parameter,) = body_parameters
            schema = {**body_parameter["schema"], "definitions": swagger["definitions"]}
            jsonschema.Draft4Validator(schema).validate(json.loads(request.content))


def test_a_project_name_in_the_path_always_says_it_is_a_name(
    swagger: dict[str, Any], http: httpx.Client
) -> None:
    for request in every_client_request(http):
        operation = documented_operation(swagger, request.method, request.url.raw_path.decode())
        takes_name_or_id = any(
            p["name"] == "project_name_or_id" for p in parameters(swagger, operation)
        )
        if takes_name_or_id:
            assert request.headers.get("X-Is-Resource-Name") == "true", request.url


def test_a_wrong_body_is_refused_by_the_check(swagger: dict[str, Any]) -> None:
    """The check can fail: metadata.public must be a string."""
    schema = {"$ref": "#/definitions/ProjectReq", "definitions": swagger["definitions"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(
            {"project_name": "x", "metadata": {"public": True}}
        )


def test_repository_names_are_encoded_twice_as_the_excerpt_says(
    swagger: dict[str, Any], http: httpx.Client
) -> None:
    described = swagger["parameters"]["repositoryName"]["description"]
    assert re.search(r"a%252Fb", described)
    paths = [r.url.raw_path.decode() for r in every_client_request(http)]
    assert any("/repositories/team%252Fapp" in path for path in paths)
