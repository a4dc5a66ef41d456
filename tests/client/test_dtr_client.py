"""The DTR client on the wire: exact requests, pagination, error mapping, retries, logging."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
import respx

from dtrctl import __version__
from dtrctl.backends.dtr.api import DtrClient
from dtrctl.backends.dtr.wire import repository_to_api, tag_to_api
from dtrctl.client.transport import TransportOptions, build_http_client, environment_proxies
from dtrctl.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    DtrctlError,
    ExitCode,
    InvalidResponse,
    NetworkError,
    NotFound,
    PermissionDenied,
    RepositoryExists,
    RepositoryNotFound,
    RequestTimeout,
    ServerError,
    TagNotFound,
)
from dtrctl.records.repository import Repository, Tag
from dtrctl.reference import RepositoryName

BASE = "https://dtr.example.com"
USERNAME = "alice"
PASSWORD = "hunter2-Ü-token"
API = RepositoryName("engineering", "api")
DIGEST = "sha256:" + "c" * 64
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def repository(name: str = "api", namespace: str = "engineering", **changes: Any) -> Repository:
    return Repository(namespace=namespace, name=name, id=f"id-{name}", **changes)


def tag_body(name: str, architecture: str = "amd64") -> dict[str, Any]:
    return tag_to_api(Tag(name=name, digest=DIGEST)) | {
        "manifest": {"digest": DIGEST, "os": "linux", "architecture": architecture}
    }


def envelope(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "detail": detail}]}


@pytest.fixture(autouse=True)
def no_proxy_from_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with build_http_client(TransportOptions(retries=0)) as client:
        yield client


@pytest.fixture
def dtr(http: httpx.Client) -> DtrClient:
    return DtrClient(http, BASE + "/", (USERNAME, PASSWORD))


@pytest.fixture
def anonymous(http: httpx.Client) -> DtrClient:
    return DtrClient(http, BASE)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def raised(call: Any, *args: Any) -> DtrctlError:
    with pytest.raises(DtrctlError) as caught:
        result = call(*args)
        if isinstance(result, Iterator):
            list(result)
    return caught.value


# The requests


def test_get_repository_sends_credentials_user_agent_and_accept(
    dtr: DtrClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_to_api(repository(immutable=True))
    )
    assert dtr.get_repository(API) == repository(immutable=True)
    request = route.calls.last.request
    assert request.headers["Authorization"] == basic(USERNAME, PASSWORD)
    assert request.headers["User-Agent"] == f"dtrctl/{__version__}"
    assert request.headers["Accept"] == "application/json"
    assert request.url.query == b""


def test_anonymous_client_sends_no_authorization(
    anonymous: DtrClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_to_api(repository())
    )
    anonymous.get_repository(API)
    assert "Authorization" not in route.calls.last.request.headers


def test_create_posts_the_full_body_to_the_namespace(
    dtr: DtrClient, mock: respx.MockRouter
) -> None:
    wanted = Repository("engineering", "api", immutable=True, visibility="public")
    route = mock.post("/api/v0/repositories/engineering").respond(
        201, json=repository_to_api(wanted.with_changes(id="new"))
    )
    created = dtr.create_repository(wanted)
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == basic(USERNAME, PASSWORD)
    assert json.loads(request.content) == {
        "name": "api",
        "shortDescription": "",
        "longDescription": "",
        "visibility": "public",
        "scanOnPush": False,
        "immutableTags": True,
        "enableManifestLists": False,
        "tagLimit": 0,
    }
    assert created.id == "new"


def test_update_patches_every_writable_field(dtr: DtrClient, mock: respx.MockRouter) -> None:
    wanted = repository(immutable=True, short_description="API", scan_on_push=True)
    route = mock.patch("/api/v0/repositories/engineering/api").respond(
        200, json=repository_to_api(wanted)
    )
    assert dtr.update_repository(wanted) == wanted
    assert json.loads(route.calls.last.request.content) == {
        "shortDescription": "API",
        "longDescription": "",
        "visibility": "private",
        "scanOnPush": True,
        "immutableTags": True,
        "enableManifestLists": False,
        "tagLimit": 0,
    }


@pytest.mark.parametrize(
    ("namespace", "path"),
    [(None, "/api/v0/repositories"), ("engineering", "/api/v0/repositories/engineering")],
)
def test_list_repositories_always_sends_page_size(
    dtr: DtrClient, mock: respx.MockRouter, namespace: str | None, path: str
) -> None:
    route = mock.get(path).respond(200, json={"repositories": [repository_to_api(repository())]})
    assert list(dtr.list_repositories(namespace)) == [repository()]
    request = route.calls.last.request
    # The first page asks the total too (checked at the end, where DTR sends it).
    assert dict(request.url.params) == {"pageSize": "100", "count": "true"}
    assert request.headers["Authorization"] == basic(USERNAME, PASSWORD)


def test_list_tags(dtr: DtrClient, mock: respx.MockRouter) -> None:
    route = mock.get("/api/v0/repositories/engineering/api/tags").respond(
        200, json=[tag_body("1.0"), tag_body("latest")]
    )
    assert [tag.name for tag in dtr.list_tags(API)] == ["1.0", "latest"]
    assert dict(route.calls.last.request.url.params) == {"pageSize": "100", "count": "true"}


def test_get_tag_returns_one_entry_per_platform(dtr: DtrClient, mock: respx.MockRouter) -> None:
    route = mock.get("/api/v0/repositories/engineering/api/tags/1.0").respond(
        200, json=[tag_body("1.0", "amd64"), tag_body("1.0", "arm64")]
    )
    tags = dtr.get_tag(API, "1.0")
    assert [tag.manifest.architecture for tag in tags] == ["amd64", "arm64"]
    assert route.calls.last.request.headers["Accept"] == "application/json"


# Pagination


def test_pagination_returns_2500_repositories_whole_and_in_order(
    dtr: DtrClient, mock: respx.MockRouter
) -> None:
    names = [f"repo-{number:04d}" for number in range(2500)]
    cursors = [None] + [f"opaque+{page}/=" for page in range(1, 25)]

    def page(request: httpx.Request) -> httpx.Response:
        index = cursors.index(request.url.params.get("pageStart"))
        size = int(request.url.params["pageSize"])
        chunk = names[index * 100 : index * 100 + size]
        last = index + 1 == len(cursors) and size == 100
        headers = {} if last else {"X-Next-Page-Start": "opaque-within-the-page"}
        if index + 1 < len(cursors) and size == 100:
            headers = {"X-Next-Page-Start": str(cursors[index + 1])}
        body = {"repositories": [repository_to_api(repository(name)) for name in chunk]}
        return httpx.Response(200, json=body, headers=headers)

    route = mock.get("/api/v0/repositories").mock(side_effect=page)
    assert [r.name for r in dtr.list_repositories()] == names
    # The last page is full and names no cursor: one entry from its start confirms the end.
    assert route.call_count == 26
    sent = [call.request.url.params for call in route.calls]
    assert [params.get("pageStart") for params in sent] == [*cursors, cursors[-1]]
    assert [params["pageSize"] for params in sent] == ["100"] * 25 + ["1"]


@pytest.mark.parametrize("last_page_headers", [{}, {"X-Next-Page-Start": ""}])
def test_pagination_stops_when_the_cursor_is_empty_or_absent(
    dtr: DtrClient, mock: respx.MockRouter, last_page_headers: dict[str, str]
) -> None:
    route = mock.get("/api/v0/repositories/engineering/api/tags").mock(
        side_effect=[
            httpx.Response(200, json=[tag_body("a")], headers={"X-Next-Page-Start": "b"}),
            httpx.Response(200, json=[tag_body("b")], headers=last_page_headers),
        ]
    )
    assert [tag.name for tag in dtr.list_tags(API)] == ["a", "b"]
    assert route.call_count == 2


def test_a_repeated_page_cursor_is_an_error_not_a_loop(
    dtr: DtrClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/api/v0/repositories").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json={"repositories": [repository_to_api(repository())]},
            headers={"X-Next-Page-Start": "a" if request.url.params.get("pageStart") else "b"},
        )
    )
    error = raised(dtr.list_repositories)
    assert isinstance(error, InvalidResponse)
    assert "repeated a page cursor" in error.message
    assert route.call_count == 3


# Error mapping

HTML_502 = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


@pytest.mark.parametrize(
    ("response", "kind", "exit_code", "dtr_code"),
    [
        (
            httpx.Response(401, json=envelope("NOT_AUTHENTICATED", "not authenticated")),
            AuthenticationFailed,
            ExitCode.AUTH,
            "NOT_AUTHENTICATED",
        ),
        (
            httpx.Response(403, json={"code": "NOT_AUTHORIZED", "message": "not authorized"}),
            PermissionDenied,
            ExitCode.AUTH,
            "NOT_AUTHORIZED",
        ),
        (
            httpx.Response(404, json=envelope("NO_SUCH_REPOSITORY", "no such repository")),
            RepositoryNotFound,
            ExitCode.NOT_FOUND,
            "NO_SUCH_REPOSITORY",
        ),
        (
            httpx.Response(404, json={"code": "NO_SUCH_REPOSITORY", "message": "gone"}),
            RepositoryNotFound,
            ExitCode.NOT_FOUND,
            "NO_SUCH_REPOSITORY",
        ),
        (
            httpx.Response(404, text="<html>404 Not Found</html>"),
            RepositoryNotFound,
            ExitCode.NOT_FOUND,
            None,
        ),
        (httpx.Response(404), RepositoryNotFound, ExitCode.NOT_FOUND, None),
        (
            httpx.Response(400, json=envelope("INVALID_PARAMETERS", "bad")),
            BadRequest,
            ExitCode.USAGE,
            "INVALID_PARAMETERS",
        ),
        (httpx.Response(406, text="Not Acceptable"), BadRequest, ExitCode.USAGE, None),
        (
            httpx.Response(500, json=envelope("INTERNAL_ERROR", "database locked")),
            ServerError,
            ExitCode.UNAVAILABLE,
            "INTERNAL_ERROR",
        ),
        (
            httpx.Response(502, text=HTML_502, headers={"Content-Type": "text/html"}),
            ServerError,
            ExitCode.UNAVAILABLE,
            None,
        ),
        (httpx.Response(503), ServerError, ExitCode.UNAVAILABLE, None),
        (httpx.Response(200), InvalidResponse, ExitCode.UNAVAILABLE, None),
        (
            httpx.Response(200, text="<html>login</html>"),
            InvalidResponse,
            ExitCode.UNAVAILABLE,
            None,
        ),
        (httpx.Response(200, json=["api"]), InvalidResponse, ExitCode.UNAVAILABLE, None),
        (
            httpx.Response(200, json=repository_to_api(repository()) | {"immutableTags": "yes"}),
            InvalidResponse,
            ExitCode.UNAVAILABLE,
            None,
        ),
        (
            httpx.Response(302, headers={"Location": "https://sso.example.com/login"}),
            InvalidResponse,
            ExitCode.UNAVAILABLE,
            None,
        ),
    ],
)
def test_answers_map_to_typed_errors_and_exit_codes(
    dtr: DtrClient,
    mock: respx.MockRouter,
    response: httpx.Response,
    kind: type[DtrctlError],
    exit_code: ExitCode,
    dtr_code: str | None,
) -> None:
    mock.get("/api/v0/repositories/engineering/api").mock(return_value=response)
    error = raised(dtr.get_repository, API)
    assert type(error) is kind
    assert error.exit_code == exit_code
    assert error.dtr_code == dtr_code
    if response.status_code != 200:
        assert error.status == response.status_code
    assert error.to_dict()["exit_code"] == exit_code


def test_not_found_says_the_repository_may_be_invisible_to_the_user(
    dtr: DtrClient, anonymous: DtrClient, mock: respx.MockRouter
) -> None:
    mock.get("/api/v0/repositories/engineering/api").respond(
        404, json=envelope("NO_SUCH_REPOSITORY", "repository does not exist")
    )
    assert raised(dtr.get_repository, API).message == (
        "repository engineering/api does not exist, or user alice may not see it"
    )
    assert "or an anonymous user may not see it" in raised(anonymous.get_repository, API).message


def test_bad_credentials_name_the_user_and_how_to_supply_credentials(
    dtr: DtrClient, anonymous: DtrClient, mock: respx.MockRouter
) -> None:
    mock.get("/api/v0/repositories/engineering/api").respond(
        401, json=envelope("NOT_AUTHENTICATED", "The client is not authenticated.")
    )
    error = raised(dtr.get_repository, API)
    assert "user alice" in error.message
    assert "DTRCTL_PASSWORD" in (error.hint or "")
    assert error.to_dict()["code"] == "auth"
    anonymous_error = raised(anonymous.get_repository, API)
    assert "without credentials" in anonymous_error.message
    assert "DTRCTL_USERNAME" in (anonymous_error.hint or "")


def test_permission_denied_says_who_may_not_do_what(dtr: DtrClient, mock: respx.MockRouter) -> None:
    mock.patch("/api/v0/repositories/engineering/api").respond(
        403, json=envelope("NOT_AUTHORIZED", "The client is not authorized.")
    )
    error = raised(dtr.update_repository, repository(immutable=True))
    assert isinstance(error, PermissionDenied)
    assert error.message == (
        "user alice may not change the settings of repository engineering/api: "
        "The client is not authorized."
    )
    assert error.to_dict()["code"] == "permission"


def test_create_of_an_existing_repository_is_a_conflict(
    dtr: DtrClient, mock: respx.MockRouter
) -> None:
    mock.post("/api/v0/repositories/engineering").respond(
        400, json=envelope("REPOSITORY_EXISTS", "A repository with the same name already exists.")
    )
    error = raised(dtr.create_repository, repository())
    assert isinstance(error, RepositoryExists)
    assert error.exit_code == ExitCode.FAILED
    assert error.message == "repository engineering/api already exists"
    assert error.to_dict()["code"] == "conflict"


def test_invalid_input_keeps_the_servers_message_code_and_detail(
    dtr: DtrClient, mock: respx.MockRouter
) -> None:
    mock.post("/api/v0/repositories/engineering").respond(
        400,
        json=envelope(
            "INVALID_REPOSITORY_SHORT_DESCRIPTION", "too long", detail={"maxLength": 140}
        ),
    )
    error = raised(dtr.create_repository, repository())
    assert isinstance(error, BadRequest)
    assert error.exit_code == ExitCode.USAGE
    assert error.message.endswith("(HTTP 400): too long")
    assert error.dtr_code == "INVALID_REPOSITORY_SHORT_DESCRIPTION"
    assert error.detail == {"maxLength": 140}


def test_tag_in_notary_is_a_conflict(dtr: DtrClient, mock: respx.MockRouter) -> None:
    mock.patch("/api/v0/repositories/engineering/api").respond(
        409, json=envelope("TAG_IN_NOTARY", "tag is signed")
    )
    error = raised(dtr.update_repository, repository())
    assert type(error) is Conflict
    assert error.exit_code == ExitCode.FAILED


def test_missing_namespace_is_named(dtr: DtrClient, mock: respx.MockRouter) -> None:
    mock.get("/api/v0/repositories/nobody").respond(
        404, json=envelope("NO_SUCH_ACCOUNT", "An account with the given name does not exist.")
    )
    error = raised(dtr.list_repositories, "nobody")
    assert type(error) is NotFound
    assert error.message == "namespace nobody does not exist"


def test_missing_tag_is_tag_not_found(dtr: DtrClient, mock: respx.MockRouter) -> None:
    mock.get("/api/v0/repositories/engineering/api/tags/9.9").respond(
        404, json=envelope("NO_SUCH_REF", "no such ref")
    )
    error = raised(dtr.get_tag, API, "9.9")
    assert isinstance(error, TagNotFound)
    assert error.exit_code == ExitCode.NOT_FOUND
    assert error.message == "cannot read tag engineering/api:9.9: the tag does not exist"


@pytest.mark.parametrize(
    ("path", "call", "body"),
    [
        ("/api/v0/repositories", "list_repositories", {"repos": []}),
        ("/api/v0/repositories", "list_repositories", []),
        ("/api/v0/repositories", "list_repositories", {"repositories": [{"name": "x"}]}),
        ("/api/v0/repositories/engineering/api/tags", "list_tags", {"tags": []}),
        ("/api/v0/repositories/engineering/api/tags", "list_tags", [{"digest": DIGEST}]),
        ("/api/v0/repositories/engineering/api/tags/1.0", "get_tag", []),
        ("/api/v0/repositories/engineering/api/tags/1.0", "get_tag", tag_body("1.0")),
    ],
)
def test_answers_of_the_wrong_shape_are_invalid_responses(
    dtr: DtrClient, mock: respx.MockRouter, path: str, call: str, body: Any
) -> None:
    mock.get(path).respond(200, json=body)
    arguments = {"list_repositories": (), "list_tags": (API,), "get_tag": (API, "1.0")}[call]
    error = raised(getattr(dtr, call), *arguments)
    assert isinstance(error, InvalidResponse)
    assert error.exit_code == ExitCode.UNAVAILABLE


def test_redirects_are_not_followed(dtr: DtrClient, mock: respx.MockRouter) -> None:
    elsewhere = mock.get("https://sso.example.com/login").respond(200, json={})
    mock.get("/api/v0/repositories/engineering/api").respond(
        302, headers={"Location": "https://sso.example.com/login"}
    )
    error = raised(dtr.get_repository, API)
    assert error.status == 302
    assert not elsewhere.called


@pytest.mark.parametrize("timeout", [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.PoolTimeout])
def test_timeouts_are_request_timeouts(
    dtr: DtrClient, mock: respx.MockRouter, timeout: type[httpx.TimeoutException]
) -> None:
    mock.get("/api/v0/repositories/engineering/api").mock(side_effect=timeout)
    error = raised(dtr.get_repository, API)
    assert isinstance(error, RequestTimeout)
    assert error.exit_code == ExitCode.UNAVAILABLE
    assert (
        error.message
        == "timed out trying to read repository engineering/api at dtr.example.com:443"
    )
    assert "--timeout" in (error.hint or "")


def test_broken_answer_is_an_invalid_response(dtr: DtrClient, mock: respx.MockRouter) -> None:
    mock.get("/api/v0/repositories/engineering/api").mock(side_effect=httpx.RemoteProtocolError)
    error = raised(dtr.get_repository, API)
    assert isinstance(error, InvalidResponse)
    assert error.exit_code == ExitCode.UNAVAILABLE


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_refused_is_a_network_error(http: httpx.Client) -> None:
    port = closed_port()
    dtr = DtrClient(http, f"https://127.0.0.1:{port}", (USERNAME, PASSWORD))
    error = raised(dtr.get_repository, API)
    assert isinstance(error, NetworkError)
    assert error.exit_code == ExitCode.UNAVAILABLE
    assert error.message.startswith(f"cannot reach 127.0.0.1:{port}: ")
    assert "refused" in error.message.lower()
    assert error.to_dict()["code"] == "network"


# Retries


@pytest.fixture
def retrying() -> Iterator[DtrClient]:
    with build_http_client(TransportOptions(retries=2, backoff_factor=0)) as client:
        yield DtrClient(client, BASE, (USERNAME, PASSWORD))


UNAVAILABLE = httpx.Response(503, headers={"Retry-After": "0"}, text="Service Unavailable")


def test_get_is_retried_on_503(retrying: DtrClient, mock: respx.MockRouter) -> None:
    route = mock.get("/api/v0/repositories/engineering/api").mock(
        side_effect=[UNAVAILABLE, httpx.Response(200, json=repository_to_api(repository()))]
    )
    assert retrying.get_repository(API) == repository()
    assert route.call_count == 2


def test_get_gives_up_after_the_configured_retries(
    retrying: DtrClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/api/v0/repositories/engineering/api").mock(return_value=UNAVAILABLE)
    error = raised(retrying.get_repository, API)
    assert isinstance(error, ServerError)
    assert error.status == 503
    assert route.call_count == 3


def test_get_is_retried_after_a_connection_error(
    retrying: DtrClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/api/v0/repositories/engineering/api").mock(
        side_effect=[
            httpx.ConnectError("reset"),
            httpx.Response(200, json=repository_to_api(repository())),
        ]
    )
    assert retrying.get_repository(API) == repository()
    assert route.call_count == 2


@pytest.mark.parametrize("failure", [UNAVAILABLE, httpx.ReadTimeout("lost")])
def test_post_is_never_retried(
    retrying: DtrClient, mock: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = mock.post("/api/v0/repositories/engineering").mock(
        side_effect=[failure, httpx.Response(201, json=repository_to_api(repository()))]
    )
    error = raised(retrying.create_repository, repository())
    assert error.exit_code == ExitCode.UNAVAILABLE
    assert route.call_count == 1


def test_patch_is_retried_on_503(retrying: DtrClient, mock: respx.MockRouter) -> None:
    wanted = repository(immutable=True)
    route = mock.patch("/api/v0/repositories/engineering/api").mock(
        side_effect=[UNAVAILABLE, httpx.Response(200, json=repository_to_api(wanted))]
    )
    assert retrying.update_repository(wanted) == wanted
    assert route.call_count == 2
    first, second = (call.request for call in route.calls)
    assert first.content == second.content


# Logging (-v)


def test_verbose_log_never_shows_the_password(
    mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dtrctl")
    options = TransportOptions(retries=1, backoff_factor=0)
    mock.get("/api/v0/repositories/engineering/api").mock(
        side_effect=[UNAVAILABLE, httpx.Response(200, json=repository_to_api(repository()))]
    )
    with build_http_client(options) as client:
        DtrClient(client, BASE, (USERNAME, PASSWORD)).get_repository(API)
    text = caplog.text
    assert f"> GET {BASE}/api/v0/repositories/engineering/api (retry 1)" in caplog.messages
    secrets = [
        PASSWORD,
        basic(USERNAME, PASSWORD).split(" ", 1)[1],
        base64.b64encode(PASSWORD.encode()).decode(),
    ]
    assert not [secret for secret in secrets if secret in text]
    assert text.count("Authorization: Basic [redacted]") == 2
    assert "> GET https://dtr.example.com/api/v0/repositories/engineering/api (retry 1)" in text
    assert "< 503 GET https://dtr.example.com/api/v0/repositories/engineering/api" in text
    assert f"User-Agent: dtrctl/{__version__}" in text


# Proxies from the environment


class ProxyHandler(BaseHTTPRequestHandler):
    """Answers every request with a repository; records the request target it was sent."""

    targets: list[str]

    def do_GET(self) -> None:
        type(self).targets.append(self.path)
        body = json.dumps(repository_to_api(repository())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def plain_server() -> Iterator[tuple[str, list[str]]]:
    handler: type[ProxyHandler] = type("Handler", (ProxyHandler,), {"targets": []})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.targets
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_requests_go_through_the_proxy_from_the_environment_with_logging(
    plain_server: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, targets = plain_server
    monkeypatch.setenv("HTTP_PROXY", proxy)
    caplog.set_level(logging.DEBUG, logger="dtrctl")
    with build_http_client(TransportOptions(retries=0)) as client:
        DtrClient(client, "http://dtr.example.test", (USERNAME, PASSWORD)).get_repository(API)
    assert targets == ["http://dtr.example.test/api/v0/repositories/engineering/api"]
    assert "> GET http://dtr.example.test/api/v0/repositories/engineering/api" in caplog.messages


def test_requests_are_not_logged_unless_debug_is_enabled(
    mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dtrctl")
    mock.get("/api/v0/repositories/engineering/api").respond(
        200, json=repository_to_api(repository())
    )
    with build_http_client(TransportOptions(retries=0)) as client:
        DtrClient(client, BASE, (USERNAME, PASSWORD)).get_repository(API)
    assert caplog.records == []


def test_no_proxy_hosts_are_reached_directly(
    plain_server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, targets = plain_server
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("NO_PROXY", "dtr.example.com,127.0.0.1")
    with build_http_client(TransportOptions(retries=0)) as client:
        DtrClient(client, url, (USERNAME, PASSWORD)).get_repository(API)
    assert targets == ["/api/v0/repositories/engineering/api"]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, {}),
        (
            {"HTTPS_PROXY": "proxy.corp:3128", "NO_PROXY": "localhost, .corp.example,10.0.0.5,::1"},
            {
                "https://": "http://proxy.corp:3128",
                "all://localhost": None,
                "all://*.corp.example": None,
                "all://10.0.0.5": None,
                "all://[::1]": None,
            },
        ),
        ({"ALL_PROXY": "http://proxy.corp:3128", "NO_PROXY": "*"}, {}),
    ],
)
def test_environment_proxies_follow_the_usual_rules(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: dict[str, str | None]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert environment_proxies() == expected
