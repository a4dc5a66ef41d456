"""What the client sends, checked against DTR 2.7's Swagger excerpt (the /api/v0 contract).

Every request the client makes must use a path, method and query parameters the excerpt lists,
and every body must validate against the schema of that operation's body parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtrctl.backends.dtr.api import DtrClient
from dtrctl.backends.dtr.wire import (
    create_body,
    repository_from_api,
    repository_to_api,
    tag_from_api,
    tag_to_api,
)
from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.records.repository import VISIBILITIES, Repository, Tag
from dtrctl.reference import RepositoryName
from tests.conftest import hypothesis_examples

BASE = "https://dtr.example.com"
API = RepositoryName("engineering", "api")
DIGEST = "sha256:" + "d" * 64


def validator(swagger: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft4Validator:
    """Swagger 2.0 schemas are JSON Schema draft 4; `#/definitions/...` resolve in the whole file.

    No format checker: formats are annotations then, so the excerpt's `"format": "integer"` (not
    a JSON Schema format) is accepted while `"type": "integer"` still refuses booleans.
    """
    return jsonschema.Draft4Validator({**schema, "definitions": swagger["definitions"]})


def definition(swagger: dict[str, Any], name: str) -> jsonschema.Draft4Validator:
    return validator(swagger, {"$ref": f"#/definitions/{name}"})


def check_body(swagger: dict[str, Any], name: str, body: dict[str, Any]) -> None:
    definition(swagger, name).validate(body)
    declared = set(swagger["definitions"][name]["properties"])
    assert set(body) <= declared, f"fields not in {name}: {set(body) - declared}"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with build_http_client(TransportOptions(retries=0)) as client:
        yield client


@pytest.fixture(scope="module")
def dtr(http: httpx.Client) -> DtrClient:
    return DtrClient(http, BASE, ("alice", "secret"))


def sent_body(dtr: DtrClient, send: Callable[[DtrClient], Any]) -> dict[str, Any]:
    """The JSON body of the one request `send` makes; the server echoes a repository."""
    with respx.mock(base_url=BASE) as router:
        route = router.route().respond(
            200, json=repository_to_api(Repository("engineering", "api"))
        )
        send(dtr)
    assert route.call_count == 1
    body = json.loads(route.calls.last.request.content)
    assert isinstance(body, dict)
    return body


# Bodies

components = st.from_regex(r"[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,6}){0,2}", fullmatch=True)
repositories = st.builds(
    Repository,
    namespace=components,
    name=components,
    immutable=st.booleans(),
    visibility=st.sampled_from(VISIBILITIES),
    scan_on_push=st.booleans(),
    tag_limit=st.integers(min_value=0, max_value=100_000),
    short_description=st.text(max_size=140),
    long_description=st.text(max_size=300),
    id=st.text(max_size=36),
    namespace_type=st.sampled_from(("user", "organization")),
    pulls=st.integers(min_value=0, max_value=2**40),
    pushes=st.integers(min_value=0, max_value=2**40),
    enable_manifest_lists=st.booleans(),
)

EXAMPLES = [
    Repository("engineering", "api"),
    Repository("engineering", "api", immutable=True, visibility="public", scan_on_push=True),
    Repository("team-1", "web.app_2", tag_limit=50, short_description="x" * 140),
    Repository("engineering", "api", enable_manifest_lists=True, long_description="ünïcødé\n"),
]


@pytest.mark.parametrize("repository", EXAMPLES)
def test_create_body_validates_against_forms_create_repo(
    swagger: dict[str, Any], dtr: DtrClient, repository: Repository
) -> None:
    body = sent_body(dtr, lambda client: client.create_repository(repository))
    check_body(swagger, "forms.CreateRepo", body)
    # Every field is sent, not only the ones the spec requires.
    assert set(body) == set(swagger["definitions"]["forms.CreateRepo"]["properties"])


@pytest.mark.parametrize("repository", EXAMPLES)
def test_update_body_validates_against_forms_update_repo(
    swagger: dict[str, Any], dtr: DtrClient, repository: Repository
) -> None:
    body = sent_body(dtr, lambda client: client.update_repository(repository))
    check_body(swagger, "forms.UpdateRepo", body)
    assert set(body) == set(swagger["definitions"]["forms.UpdateRepo"]["properties"])


@settings(
    max_examples=hypothesis_examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(repository=repositories)
def test_generated_repositories_give_valid_bodies(
    swagger: dict[str, Any], dtr: DtrClient, repository: Repository
) -> None:
    check_body(
        swagger, "forms.CreateRepo", sent_body(dtr, lambda c: c.create_repository(repository))
    )
    check_body(
        swagger, "forms.UpdateRepo", sent_body(dtr, lambda c: c.update_repository(repository))
    )


def test_a_boolean_where_the_spec_wants_an_integer_is_refused(swagger: dict[str, Any]) -> None:
    """The check itself can fail: the lenient format handling keeps the type check."""
    body = create_body(Repository("engineering", "api")) | {"tagLimit": True}
    with pytest.raises(jsonschema.ValidationError):
        definition(swagger, "forms.CreateRepo").validate(body)


# Paths, methods and query parameters


def documented_operation(
    swagger: dict[str, Any], method: str, path: str
) -> tuple[str, dict[str, Any]]:
    """The path template and operation the excerpt has for this request (exactly one)."""
    matches = [
        (template, operations[method.lower()])
        for template, operations in swagger["paths"].items()
        if method.lower() in operations
        and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path)
    ]
    assert len(matches) == 1, f"{method} {path} matches {[m[0] for m in matches]} in the excerpt"
    return matches[0]


def every_client_request(dtr: DtrClient) -> list[httpx.Request]:
    repository = repository_to_api(Repository("engineering", "api", immutable=True))
    tag = tag_to_api(Tag("1.0", DIGEST))

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        first_page = "pageStart" not in request.url.params
        more = {"X-Next-Page-Start": "next-page"} if first_page else {}
        if path.endswith("/tags"):
            return httpx.Response(200, json=[tag], headers=more)
        if path.endswith("/tags/1.0"):
            return httpx.Response(200, json=[tag])
        if "/repositoryAccess/" in path:
            account = {"id": "u1", "name": "alice", "fullName": "Alice", "isOrg": False}
            access = {"accessLevel": "read-write", "user": account, "repository": repository}
            return httpx.Response(200, json=access)
        if request.method == "GET" and path.count("/") <= 4:
            return httpx.Response(200, json={"repositories": [repository]}, headers=more)
        return httpx.Response(201 if request.method == "POST" else 200, json=repository)

    with respx.mock(base_url=BASE) as router:
        route = router.route().mock(side_effect=answer)
        name = API
        dtr.get_repository(name)
        dtr.create_repository(Repository(name.namespace, name.name))
        dtr.update_repository(Repository(name.namespace, name.name, immutable=True))
        list(dtr.list_repositories())
        list(dtr.list_repositories("engineering"))
        list(dtr.list_tags(name))
        dtr.get_tag(name, "1.0")
        dtr.get_repository_access("alice", name)
    return [call.request for call in route.calls]


def test_every_request_uses_a_documented_path_method_and_query(
    swagger: dict[str, Any], dtr: DtrClient
) -> None:
    requests = every_client_request(dtr)
    used = set()
    for request in requests:
        template, operation = documented_operation(swagger, request.method, request.url.path)
        query_names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert set(request.url.params) <= query_names, (request.method, template)
        if request.content:
            assert "application/json" in operation.get("consumes", ["application/json"])
            [body_parameter] = [p for p in operation["parameters"] if p["in"] == "body"]
            validator(swagger, body_parameter["schema"]).validate(json.loads(request.content))
        used.add((request.method, template, tuple(sorted(request.url.params))))
    assert used == {
        ("GET", "/api/v0/repositories/{namespace}/{reponame}", ()),
        ("POST", "/api/v0/repositories/{namespace}", ()),
        ("PATCH", "/api/v0/repositories/{namespace}/{reponame}", ()),
        ("GET", "/api/v0/repositories", ("count", "pageSize")),
        ("GET", "/api/v0/repositories", ("pageSize", "pageStart")),
        ("GET", "/api/v0/repositories/{namespace}", ("count", "pageSize")),
        ("GET", "/api/v0/repositories/{namespace}", ("pageSize", "pageStart")),
        ("GET", "/api/v0/repositories/{namespace}/{reponame}/tags", ("count", "pageSize")),
        ("GET", "/api/v0/repositories/{namespace}/{reponame}/tags", ("pageSize", "pageStart")),
        ("GET", "/api/v0/repositories/{namespace}/{reponame}/tags/{reference}", ()),
        ("GET", "/api/v0/accounts/{username}/repositoryAccess/{namespace}/{reponame}", ()),
    }


# Answers: the models accept every body the spec allows DTR to send


@pytest.mark.parametrize(
    ("name", "parse", "body"),
    [
        ("responses.Repository", repository_from_api, repository_to_api(Repository("a", "b"))),
        ("responses.ListTag", tag_from_api, tag_to_api(Tag("1.0", DIGEST))),
        ("responses.Tag", tag_from_api, tag_to_api(Tag("1.0", DIGEST))),
    ],
)
def test_models_need_only_what_the_spec_requires(
    swagger: dict[str, Any], name: str, parse: Callable[[Any], Any], body: dict[str, Any]
) -> None:
    schema = swagger["definitions"][name]
    definition(swagger, name).validate(body)
    for optional in set(body) - set(schema["required"]):
        parse({key: value for key, value in body.items() if key != optional})
    manifest_required = set(swagger["definitions"]["responses.Manifest"]["required"])
    if "manifest" in body:
        minimal_manifest = {key: body["manifest"][key] for key in manifest_required}
        parse(body | {"manifest": minimal_manifest})
