"""The Harbor client on the wire: exact requests (resource-name header, double-encoded names,
rule pages of 10, Location ids), no cookies kept, and Harbor's errors mapped to dtrctl's."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from dtrctl.backends.harbor.api import HarborClient
from dtrctl.backends.harbor.rules import canonical_rule
from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RepositoryNotFound,
    ServerError,
)

BASE = "https://msr.example.com"
API = f"{BASE}/api/v2.0"
ROBOT = ("robot$engineering+ci", "robot-secret")
DIGEST = "sha256:" + "a" * 64


def harbor_error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]})


def rule_body(rule_id: int, path: str = "app") -> dict[str, Any]:
    return {"id": rule_id, **canonical_rule(path).to_api()}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with build_http_client(TransportOptions(retries=0)) as client:
        yield client


@pytest.fixture
def harbor(http: httpx.Client) -> HarborClient:
    return HarborClient(http, BASE, ROBOT)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as router:
        yield router


class TestRequests:
    def test_robot_accounts_authenticate_with_basic(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.get(f"{API}/users/current/permissions").respond(200, json=[])
        harbor.check_credentials()
        expected = base64.b64encode(b"robot$engineering+ci:robot-secret").decode()
        assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"

    def test_a_numeric_project_name_is_sent_as_a_name(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.get(f"{API}/projects/2024").respond(
            200, json={"project_id": 7, "name": "2024", "metadata": {"public": "true"}}
        )
        project = harbor.get_project("2024")
        assert route.calls.last.request.headers["X-Is-Resource-Name"] == "true"
        assert (project.name, project.project_id, project.public) == ("2024", 7, True)

    def test_project_creation_sends_public_as_a_string(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.post(f"{API}/projects").respond(201)
        harbor.create_project("team")
        body = json.loads(route.calls.last.request.content)
        assert body == {"project_name": "team", "metadata": {"public": "false"}}

    def test_project_existence_is_a_head_by_name(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.head(f"{API}/projects", params={"project_name": "team"}).respond(200)
        mock.head(f"{API}/projects", params={"project_name": "gone"}).respond(404)
        assert harbor.project_exists("team") is True
        assert harbor.project_exists("gone") is False

    def test_rules_are_read_ten_a_page_following_the_link(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        url = f"{API}/projects/library/immutabletagrules"
        first = mock.get(url, params={"page": "1", "page_size": "10"}).respond(
            200,
            json=[rule_body(number) for number in range(1, 11)],
            headers={
                "X-Total-Count": "12",
                "Link": f'<{url}?page=2&page_size=10>; rel="next"',
            },
        )
        second = mock.get(url, params={"page": "2", "page_size": "10"}).respond(
            200,
            json=[rule_body(11), rule_body(12)],
            headers={"X-Total-Count": "12", "Link": f'<{url}?page=1&page_size=10>; rel="prev"'},
        )
        rules = harbor.list_rules("library")
        assert [rule.id for rule in rules] == list(range(1, 13))
        for route in (first, second):
            assert route.calls.last.request.headers["X-Is-Resource-Name"] == "true"

    def test_a_created_rule_s_id_comes_from_the_location_header(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.post(f"{API}/projects/library/immutabletagrules").respond(
            201, headers={"Location": "/api/v2.0/projects/library/immutabletagrules/42"}
        )
        assert harbor.create_rule("library", canonical_rule("team/app")) == 42
        request = route.calls.last.request
        assert request.headers["X-Is-Resource-Name"] == "true"
        body = json.loads(request.content)
        assert "id" not in body
        assert body["scope_selectors"]["repository"][0]["pattern"] == "team/app"

    def test_an_identical_rule_is_already_there(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.post(f"{API}/projects/library/immutabletagrules").mock(
            return_value=harbor_error(409, "CONFLICT", "immutable rule already exists")
        )
        assert harbor.create_rule("library", canonical_rule("app")) is None

    def test_a_created_rule_without_a_location_is_an_error(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.post(f"{API}/projects/library/immutabletagrules").respond(201)
        with pytest.raises(InvalidResponse, match="Location"):
            harbor.create_rule("library", canonical_rule("app"))

    def test_an_update_sends_the_path_id_in_the_body(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.put(f"{API}/projects/library/immutabletagrules/5").respond(200)
        from dataclasses import replace

        harbor.update_rule("library", replace(canonical_rule("app"), id=5, disabled=True))
        body = json.loads(route.calls.last.request.content)
        assert body["id"] == 5 and body["disabled"] is True
        assert route.calls.last.request.headers["X-Is-Resource-Name"] == "true"

    def test_a_rule_is_deleted_by_id(self, harbor: HarborClient, mock: respx.MockRouter) -> None:
        route = mock.delete(f"{API}/projects/library/immutabletagrules/5").respond(200)
        harbor.delete_rule("library", 5)
        assert route.called

    def test_a_412_on_a_rule_delete_is_a_conflict_saying_why(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.delete(f"{API}/projects/library/immutabletagrules/5").mock(
            return_value=harbor_error(412, "PRECONDITION", "the rule is in use")
        )
        with pytest.raises(Conflict) as refused:
            harbor.delete_rule("library", 5)
        assert refused.value.exit_code == 1
        assert refused.value.status == 412
        assert refused.value.message == (
            "Harbor refused to delete immutability rule 5 of project library: a precondition "
            "failed (HTTP 412), so the rule stays: the rule is in use"
        )

    def test_a_repository_path_with_a_slash_is_encoded_twice(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.get(url__regex=r".*/repositories/.*").respond(
            200, json={"name": "engineering/team/app", "pull_count": 3}
        )
        found = harbor.get_repository("engineering", "team/app")
        raw = route.calls.last.request.url.raw_path.decode()
        assert raw == "/api/v2.0/projects/engineering/repositories/team%252Fapp"
        assert (found.project, found.path, found.pull_count) == ("engineering", "team/app", 3)

    def test_an_artifact_is_asked_for_with_tags_and_their_immutability(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.get(url__regex=r".*/artifacts/1\.0.*").respond(
            200,
            json={"digest": DIGEST, "tags": [{"name": "1.0", "immutable": True}]},
        )
        artifact = harbor.get_artifact("engineering", "team/app", "1.0")
        request = route.calls.last.request
        assert request.url.raw_path.decode() == (
            "/api/v2.0/projects/engineering/repositories/team%252Fapp/artifacts/1.0"
            "?with_tag=true&with_immutable_status=true"
        )
        assert artifact is not None and artifact.tag("1.0").immutable is True  # type: ignore[union-attr]

    def test_repositories_of_all_projects_are_read_page_by_page(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        url = f"{API}/repositories"
        mock.get(url, params={"page": "1", "page_size": "100"}).respond(
            200,
            json=[{"name": f"library/app{n}"} for n in range(100)],
            headers={"X-Total-Count": "101"},
        )
        mock.get(url, params={"page": "2", "page_size": "100"}).respond(
            200, json=[{"name": "engineering/team/app"}], headers={"X-Total-Count": "101"}
        )
        names = [repository.full_name for repository in harbor.list_repositories()]
        assert len(names) == 101 and names[-1] == "engineering/team/app"


class TestNoCookies:
    def test_a_session_cookie_harbor_sets_is_never_sent_back(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.get(f"{API}/users/current/permissions").respond(
            200, json=[], headers={"Set-Cookie": "sid=abc123; Path=/; HttpOnly"}
        )
        write = mock.post(f"{API}/projects/library/immutabletagrules").respond(
            201, headers={"Location": "/api/v2.0/projects/library/immutabletagrules/3"}
        )
        harbor.check_credentials()
        harbor.create_rule("library", canonical_rule("app"))
        assert "cookie" not in write.calls.last.request.headers


class TestErrors:
    def test_a_missing_project_is_named(self, harbor: HarborClient, mock: respx.MockRouter) -> None:
        mock.get(url__regex=r".*/immutabletagrules.*").mock(
            return_value=harbor_error(404, "NOT_FOUND", "project team not found")
        )
        with pytest.raises(NotFound, match="project team does not exist on Harbor"):
            harbor.list_rules("team")

    def test_a_missing_repository_is_named(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.get(url__regex=r".*/repositories/app$").mock(
            return_value=harbor_error(404, "NOT_FOUND", "repository library/app not found")
        )
        with pytest.raises(RepositoryNotFound, match="repository library/app does not exist"):
            harbor.get_repository("library", "app")

    def test_an_absent_tag_is_none_only_in_harbor_s_own_words(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.get(url__regex=r".*/artifacts/.*")
        route.mock(return_value=harbor_error(404, "NOT_FOUND", "artifact not found"))
        assert harbor.get_artifact("library", "app", "1.0") is None
        route.mock(return_value=httpx.Response(404, text="<html>nginx</html>"))
        with pytest.raises(InvalidResponse, match="not Harbor's answer"):
            harbor.get_artifact("library", "app", "1.0")

    @pytest.mark.parametrize(
        ("status", "error"),
        [(401, AuthenticationFailed), (403, PermissionDenied), (500, ServerError)],
    )
    def test_refusals_and_failures_are_never_absent(
        self, harbor: HarborClient, mock: respx.MockRouter, status: int, error: type
    ) -> None:
        mock.get(url__regex=r".*/artifacts/.*").mock(return_value=harbor_error(status, "X", "no"))
        with pytest.raises(error):
            harbor.get_artifact("library", "app", "1.0")

    def test_a_garbled_rule_list_is_an_error(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.get(url__regex=r".*/immutabletagrules.*").respond(200, json={"rules": []})
        with pytest.raises(InvalidResponse):
            harbor.list_rules("library")


class TestListTags:
    """`repo tags` on Harbor: the artifact list with tags, through the backend."""

    URL = f"{API}/projects/engineering/repositories/team%252Fapp/artifacts"

    def test_every_tag_of_every_artifact_with_digest_platform_and_push_time(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        from dtrctl.backends.harbor.backend import HarborBackend
        from dtrctl.reference import RepositoryName

        image = {
            "digest": DIGEST,
            "manifest_media_type": "application/vnd.oci.image.manifest.v1+json",
            "extra_attrs": {"os": "linux", "architecture": "amd64"},
            "tags": [
                {"name": "1.0", "push_time": "2026-01-02T03:04:05Z"},
                {"name": "latest", "push_time": "2026-01-03T00:00:00Z"},
            ],
        }
        index = {"digest": "sha256:" + "b" * 64, "tags": [{"name": "multi"}], "extra_attrs": {}}
        untagged = {"digest": "sha256:" + "c" * 64, "tags": None}
        first = mock.get(self.URL, params={"page": "1", "page_size": "100"}).respond(
            200, json=[image, index], headers={"X-Total-Count": "3"}
        )
        mock.get(self.URL, params={"page": "2", "page_size": "100"}).respond(
            200, json=[untagged], headers={"X-Total-Count": "3"}
        )
        tags = list(HarborBackend(harbor).list_tags(RepositoryName("engineering", "team/app")))
        assert first.calls.last.request.url.params["with_tag"] == "true"
        assert [(tag.name, tag.digest) for tag in tags] == [
            ("1.0", DIGEST),
            ("latest", DIGEST),
            ("multi", "sha256:" + "b" * 64),
        ]
        assert (tags[0].manifest.os, tags[0].manifest.architecture) == ("linux", "amd64")
        assert tags[0].updated_at == "2026-01-02T03:04:05Z"
        assert tags[2].manifest.os == ""

    def test_an_empty_list_of_a_missing_repository_is_not_found(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        from dtrctl.backends.harbor.backend import HarborBackend
        from dtrctl.reference import RepositoryName

        mock.get(self.URL).respond(200, json=[], headers={"X-Total-Count": "0"})
        mock.get(f"{API}/projects/engineering/repositories/team%252Fapp").mock(
            return_value=harbor_error(404, "NOT_FOUND", "repository not found")
        )
        backend = HarborBackend(harbor)
        with pytest.raises(RepositoryNotFound):
            list(backend.list_tags(RepositoryName("engineering", "team/app")))

    def test_harbor_s_404_is_not_found_and_a_foreign_404_is_an_error(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.get(self.URL)
        route.return_value = harbor_error(404, "NOT_FOUND", "project engineering not found")
        with pytest.raises(RepositoryNotFound):
            list(harbor.list_artifacts("engineering", "team/app"))
        route.return_value = httpx.Response(404, text="404 page not found")
        with pytest.raises(InvalidResponse):
            list(harbor.list_artifacts("engineering", "team/app"))

    def test_a_refusal_is_never_an_empty_list(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.get(self.URL).mock(return_value=harbor_error(403, "FORBIDDEN", "forbidden"))
        with pytest.raises(PermissionDenied):
            list(harbor.list_artifacts("engineering", "team/app"))


class TestHarborVersion:
    """`harbor_version` of systeminfo decides which doublestar dtrctl matches with (#20)."""

    def test_the_version_is_read_from_systeminfo_with_credentials(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        route = mock.get(f"{API}/systeminfo").respond(
            200, json={"auth_mode": "db_auth", "harbor_version": "v2.10.2-9e5b5b1e"}
        )
        assert harbor.harbor_version() == "v2.10.2-9e5b5b1e"
        assert route.calls.last.request.headers["Authorization"].startswith("Basic ")

    @pytest.mark.parametrize("body", [{"auth_mode": "db_auth"}, {"harbor_version": 2}])
    def test_a_missing_or_garbled_version_is_unknown(
        self, harbor: HarborClient, mock: respx.MockRouter, body: dict[str, Any]
    ) -> None:
        mock.get(f"{API}/systeminfo").respond(200, json=body)
        assert harbor.harbor_version() is None

    def test_no_system_information_leaves_the_version_unknown(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.get(f"{API}/systeminfo").mock(return_value=harbor_error(404, "NOT_FOUND", "no"))
        assert harbor.harbor_version() is None

    def test_a_failing_server_is_an_error_never_an_unknown_version(
        self, harbor: HarborClient, mock: respx.MockRouter
    ) -> None:
        mock.get(f"{API}/systeminfo").mock(return_value=harbor_error(503, "X", "down"))
        with pytest.raises(ServerError):
            harbor.harbor_version()
