"""Everything dtrctl reads from outside, fuzzed: a garbled answer, file or variable never crashes.

A registry answer, a config file, a docker config or a build's metadata file may be anything: a
proxy's error page, a truncated body, the wrong JSON, a hostile server's deep nesting. Whatever
the input, each reader returns a value or raises a typed dtrctl error (`DtrctlError`, which the
CLI turns into a message and an exit code); the models raise the `ValueError` they document.
Examples are derandomized and not stored, so every run checks the same inputs.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dtrctl.auth.docker_config import DockerLookup, find_docker_credential
from dtrctl.auth.secret_store import get_secret
from dtrctl.backends.dtr.api import DtrClient
from dtrctl.backends.dtr.wire import (
    access_from_api,
    manifest_from_api,
    manifest_to_api,
    repository_from_api,
    repository_to_api,
    tag_from_api,
    tag_to_api,
)
from dtrctl.client.distribution import Manifest, RegistryClient
from dtrctl.client.http import (
    ErrorBody,
    RequestContext,
    error_for_response,
    json_body,
    parse_error_body,
)
from dtrctl.client.registry_auth import Challenge, parse_challenge
from dtrctl.config import Config, ConfigError, load_config
from dtrctl.errors import DtrctlError, InvalidResponse, UsageError
from dtrctl.push_check.expected import digest_from_metadata_file, digest_from_oci_layout
from dtrctl.records.repository import Repository, RepositoryAccess, Tag, TagManifest
from dtrctl.reference import (
    RepositoryName,
    parse_image_reference,
    parse_registry,
    parse_repository_name,
    validate_digest,
    validate_tag,
)
from dtrctl.repos.name_cache import RepositoryNameCache
from dtrctl.repos.policy import Policy, parse_policy
from dtrctl.repos.selection import parse_name_list, parse_pattern
from dtrctl.settings import normalize_url
from tests.conftest import hypothesis_examples

FUZZ = settings(
    max_examples=hypothesis_examples(200),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASE = "https://dtr.test"
API = RepositoryName("engineering", "api")
CONTEXT = RequestContext("read repository engineering/api", "engineering/api", "engineering")
DIGEST = "sha256:" + "a" * 64

# What hostile or broken servers send that generated text rarely hits.
DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
HUGE_NUMBER = b'{"tagLimit": ' + b"9" * 5_000 + b"}"

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def almost(keys: tuple[str, ...], good: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Objects with the expected keys, each either right or anything: reach every check."""
    field = {key: st.just(value) | json_values for key, value in good.items()}
    extra = {key: json_values for key in keys if key not in good}
    objects = st.fixed_dictionaries({}, optional={**field, **extra})
    return objects | json_values


REPOSITORY_BODY = repository_to_api(Repository("engineering", "api"))
TAG_BODY = tag_to_api(Tag("1.0", DIGEST))
bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda value: json.dumps(value).encode())
    | almost((), REPOSITORY_BODY).map(lambda value: json.dumps(value).encode())
    | st.sampled_from([b"", b"{", b"<html>502 Bad Gateway</html>", DEEP_ARRAY, HUGE_NUMBER])
)
statuses = st.sampled_from([200, 201, 204, 302, 400, 401, 403, 404, 409, 429, 500, 503]) | (
    st.integers(100, 999)
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
CHALLENGES = [
    'Bearer realm="https://dtr.test/auth/token",service="dtr.test"',
    'Bearer realm="http://dtr.test/auth/token"',
    'Bearer realm="https://[::1/token"',
    'Bearer realm="https://bad host/token"',
    'Basic realm="Registry"',
    "Bearer",
    "Negotiate",
]
header_values = {
    "WWW-Authenticate": st.sampled_from(CHALLENGES) | header_text,
    "Docker-Content-Digest": st.sampled_from([DIGEST, " " + DIGEST, "sha256:xyz"]) | header_text,
    "Docker-Distribution-API-Version": st.just("registry/2.0") | header_text,
    "Content-Type": st.sampled_from(["application/json", "text/html"]) | header_text,
    "X-Next-Page-Start": header_text,
}
headers = st.fixed_dictionaries({}, optional=header_values)


@st.composite
def answers(draw: st.DrawFn) -> httpx.Response:
    return httpx.Response(draw(statuses), headers=draw(headers), content=draw(bodies))


def answered(response: httpx.Response) -> httpx.Response:
    response.request = httpx.Request("GET", f"{BASE}/api/v0/repositories/engineering/api")
    return response


def only_typed_errors(call: Callable[[], Any]) -> Any:
    """`call()`'s value, or None when it raised a typed dtrctl error; anything else fails."""
    try:
        return call()
    except DtrctlError as error:
        assert error.message
        return None


# Response parsing


@FUZZ
@given(answers())
def test_error_bodies_and_statuses_become_typed_errors(response: httpx.Response) -> None:
    answered(response)
    assert isinstance(parse_error_body(response), ErrorBody)
    error = error_for_response(response, CONTEXT)
    assert isinstance(error, DtrctlError)
    assert error.to_dict()["exit_code"] in (1, 2, 3, 4, 5)


@FUZZ
@given(bodies)
@example(DEEP_ARRAY)
@example(HUGE_NUMBER)
def test_json_body_is_json_or_invalid_response(content: bytes) -> None:
    response = answered(httpx.Response(200, content=content))
    try:
        json_body(response, CONTEXT)
    except InvalidResponse as error:
        assert error.exit_code == 5


@FUZZ
@given(almost(("id",), REPOSITORY_BODY))
def test_repository_from_api_takes_dtrs_answer_or_raises_value_error(body: Any) -> None:
    try:
        repository = repository_from_api(body)
    except ValueError:
        return
    assert isinstance(repository.immutable, bool)
    assert isinstance(repository.tag_limit, int) and not isinstance(repository.tag_limit, bool)


@FUZZ
@given(almost((), {"accessLevel": "read-write", "repository": REPOSITORY_BODY}))
def test_repository_access_from_api_takes_dtrs_answer_or_raises_value_error(body: Any) -> None:
    try:
        access = access_from_api(body)
    except ValueError:
        return
    assert isinstance(access.may_push, bool)
    assert isinstance(access.repository, Repository)


@FUZZ
@given(almost(("manifest",), TAG_BODY), almost((), manifest_to_api(TagManifest(DIGEST))))
def test_tag_and_manifest_from_api_take_dtrs_answer_or_raise_value_error(
    tag: Any, manifest: Any
) -> None:
    for parse, body in ((tag_from_api, tag), (manifest_from_api, manifest)):
        try:
            parse(body)
        except ValueError:
            continue


@FUZZ
@given(st.sampled_from(CHALLENGES) | header_text | st.text())
def test_challenge_parsing_never_raises(header: str) -> None:
    challenge = parse_challenge(header)
    assert challenge is None or challenge.scheme in ("basic", "bearer")


def mock_client(routes: dict[str, httpx.Response], default: httpx.Response) -> httpx.Client:
    """A client whose answers are fixed per path (a realm elsewhere gets `default`)."""

    def handler(request: httpx.Request) -> httpx.Response:
        answer = routes.get(request.url.path, default)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)


@FUZZ
@given(ping=answers(), token=answers(), manifest=answers())
@example(
    ping=httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="https://[::1/token"'}),
    token=httpx.Response(200, json={"token": "t"}),
    manifest=httpx.Response(200),
)
@example(
    ping=httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="https://bad host/t"'}),
    token=httpx.Response(200, json={"token": "t"}),
    manifest=httpx.Response(200),
)
def test_registry_answers_become_a_digest_absent_or_a_typed_error(
    ping: httpx.Response, token: httpx.Response, manifest: httpx.Response
) -> None:
    path = "/v2/engineering/api/manifests/1.0"
    with mock_client({"/v2/": ping, path: manifest}, default=token) as http:
        registry = RegistryClient(http, BASE, ("alice", "secret"))
        fetched = only_typed_errors(lambda: registry.get_manifest(API, "1.0"))
        assert fetched is None or isinstance(fetched, Manifest)
        challenge = only_typed_errors(registry.challenge)
        assert challenge is None or isinstance(challenge, Challenge)


@FUZZ
@given(repository=answers(), listing=answers(), tag=answers())
def test_dtr_api_answers_become_models_or_typed_errors(
    repository: httpx.Response, listing: httpx.Response, tag: httpx.Response
) -> None:
    routes = {
        "/api/v0/repositories/engineering/api": repository,
        "/api/v0/accounts/alice/repositoryAccess/engineering/api": repository,
        "/api/v0/repositories": listing,
        "/api/v0/repositories/engineering/api/tags/1.0": tag,
        "/api/v0/repositories/engineering/api/tags": tag,
    }
    with mock_client(routes, default=listing) as http:
        dtr = DtrClient(http, BASE, ("alice", "secret"))
        found = only_typed_errors(lambda: dtr.get_repository(API))
        assert found is None or isinstance(found, Repository)
        access = only_typed_errors(lambda: dtr.get_repository_access("alice", API))
        assert access is None or isinstance(access, RepositoryAccess)
        only_typed_errors(lambda: list(dtr.list_repositories()))
        only_typed_errors(lambda: dtr.get_tag(API, "1.0"))
        only_typed_errors(lambda: list(dtr.list_tags(API)))


# Files and variables

CONFIG_LINES = [
    "[profiles.prod]",
    "[profiles]",
    "[[profiles.prod]]",
    "[other]",
    'default_profile = "prod"',
    "default_profile = 3",
    "profiles = 1",
    'url = "https://dtr.example.com"',
    "url = 1",
    "insecure = true",
    'insecure = "yes"',
    'protect = ["v*"]',
    "protect = [1]",
    "protect = 'v*'",
    "username = {}",
    "typo = 1",
    "profiles.inline = { url = 2 }",
    "a = " + "[" * 2_000,
    "b = " + "1" * 5_000,
]
toml_texts = st.lists(st.sampled_from(CONFIG_LINES) | st.text(max_size=30), max_size=8).map(
    "\n".join
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(text=toml_texts, raw=st.binary(max_size=40) | st.none())
@example(text="a = " + "[" * 2_000, raw=None)
@example(text="b = " + "1" * 5_000, raw=None)
def test_config_files_load_or_name_the_file(scratch: Path, text: str, raw: bytes | None) -> None:
    path = scratch / "config.toml"
    if raw is None:
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(raw)
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as error:
        assert error.message.startswith(f"{path}")
        assert error.exit_code == 2


@FUZZ
@given(text=toml_texts)
@example(text="a = " + "[" * 2_000)
@example(text="b = " + "1" * 5_000)
def test_a_garbled_credentials_file_means_no_secret(scratch: Path, text: str) -> None:
    path = scratch / "credentials.toml"
    path.write_text(text, encoding="utf-8")
    secret, where = get_secret("dtrctl:https://dtr.test", "alice", store_path=path)
    assert (secret is None) == (where == "")


POLICY_LINES = [
    "[defaults]",
    "[[repository]]",
    "[repository]",
    'name = "engineering/api"',
    'name = "Engineering/API"',
    "name = 1",
    "immutable = true",
    "immutable = 1",
    'visibility = "secret"',
    "description = 5",
    "extra = 1",
    "defaults = 3",
]


@FUZZ
@given(st.lists(st.sampled_from(POLICY_LINES) | st.text(max_size=30), max_size=8).map("\n".join))
@example("a = " + "{b=" * 2_000)
@example("a = " + "9" * 5_000)
def test_policy_files_parse_or_are_usage_errors(text: str) -> None:
    try:
        assert isinstance(parse_policy(text, "policy.toml"), Policy)
    except UsageError as error:
        assert "policy.toml" in error.message


HOST_KEYS = ["dtr.test", "https://dtr.test/v1/", "http://dtr.test:443", "dtr.test:5000", "[::1"]
docker_entries = st.fixed_dictionaries(
    {},
    optional={
        "auth": st.sampled_from([base64.b64encode(b"alice:pw").decode(), "é", "!!"]) | st.text(),
        "username": json_values,
        "password": json_values,
        "identitytoken": json_values,
    },
)
docker_documents = st.fixed_dictionaries(
    {},
    optional={
        "auths": st.dictionaries(st.sampled_from(HOST_KEYS) | st.text(), docker_entries | scalars)
        | json_values,
        "credHelpers": st.dictionaries(st.sampled_from(HOST_KEYS), st.text()) | json_values,
        "credsStore": st.text() | json_values,
    },
)


@FUZZ
@given(
    document=docker_documents.map(json.dumps) | st.text() | st.sampled_from(["[" * 100_000]),
    host=st.sampled_from(["dtr.test", "dtr.test:5000"]) | st.text(max_size=20),
)
def test_docker_configs_give_a_credential_or_notes(
    scratch: Path, caplog: pytest.LogCaptureFixture, document: str, host: str
) -> None:
    environ = {"DOCKER_AUTH_CONFIG": document, "DOCKER_CONFIG": str(scratch), "PATH": ""}
    caplog.set_level(logging.DEBUG, logger="dtrctl.auth")
    caplog.clear()  # one caplog for all the examples
    lookup = find_docker_credential(host, environ=environ)
    assert isinstance(lookup, DockerLookup)
    assert caplog.messages


layout_entries = almost(
    ("annotations",), {"digest": DIGEST, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
)
index_documents = st.fixed_dictionaries(
    {}, optional={"manifests": st.lists(layout_entries, max_size=3) | json_values}
)


@FUZZ
@given(
    content=index_documents.map(json.dumps) | st.text() | st.just("[" * 100_000),
    ref=st.sampled_from(["", ":latest", ":"]) | st.text(max_size=8).map(lambda ref: f":{ref}"),
)
def test_oci_layouts_give_a_digest_or_a_usage_error(scratch: Path, content: str, ref: str) -> None:
    layout = scratch / "layout"
    layout.mkdir(exist_ok=True)
    (layout / "index.json").write_text(content, encoding="utf-8")
    try:
        assert validate_digest(digest_from_oci_layout(f"{layout}{ref}"))
    except UsageError as error:
        assert "--oci-layout" in error.message


@FUZZ
@given(
    almost(("containerimage.descriptor",), {"containerimage.digest": DIGEST}).map(json.dumps)
    | st.text()
)
def test_metadata_files_give_a_digest_or_a_usage_error(scratch: Path, content: str) -> None:
    path = scratch / "metadata.json"
    path.write_text(content, encoding="utf-8")
    try:
        assert validate_digest(digest_from_metadata_file(path))
    except UsageError as error:
        assert "--metadata-file" in error.message


@FUZZ
@given(
    almost(
        ("fetched_at",),
        {"format": 1, "url": BASE, "username": "alice", "namespace": None, "repositories": []},
    ).map(json.dumps)
    | st.binary(max_size=50).map(lambda raw: raw.decode("latin-1"))
)
def test_a_garbled_completion_cache_is_a_miss(scratch: Path, content: str) -> None:
    cache = RepositoryNameCache(scratch / "cache", BASE, "alice")
    cache.path(None).parent.mkdir(exist_ok=True)
    cache.path(None).write_text(content, encoding="utf-8")
    names = cache.read(None, now=0.0)
    assert names is None or all(isinstance(name, str) for name in names)


# What users type


@FUZZ
@given(st.text(max_size=60))
def test_names_references_and_urls_parse_or_are_usage_errors(text: str) -> None:
    for parse in (
        parse_repository_name,
        parse_image_reference,
        parse_registry,
        validate_digest,
        validate_tag,
        parse_pattern,
        normalize_url,
        lambda text: parse_name_list(text, "names.txt"),
    ):
        try:
            parse(text)
        except UsageError as error:
            assert error.exit_code == 2
