"""`dtrctl push-check` through the CLI against a respx DTR: verdicts, exit codes, reports."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import respx

from tests.cli.conftest import DTR_URL, repository_body

HOST = "dtr.test"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REGISTRY_HEADERS = {"Docker-Distribution-API-Version": "registry/2.0"}
CONFIG = "sha256:" + "c" * 64


def manifest(seed: str, media_type: str = OCI_MANIFEST) -> tuple[str, bytes]:
    """A manifest body (an index for OCI_INDEX) and its digest, as a registry serves them."""
    body: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type}
    if media_type == OCI_INDEX:
        body["manifests"] = []
    else:
        config = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CONFIG}
        body |= {"config": {**config, "size": 2}, "layers": []}
    raw = json.dumps({**body, "annotations": {"seed": seed}}).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest(), raw


OLD, OLD_BODY = manifest("old")
NEW, NEW_BODY = manifest("new")
INDEX, INDEX_BODY = manifest("index", OCI_INDEX)
BODIES = {
    OLD: (OLD_BODY, OCI_MANIFEST),
    NEW: (NEW_BODY, OCI_MANIFEST),
    INDEX: (INDEX_BODY, OCI_INDEX),
}
JSON_KEYS = {
    "reference",
    "repository",
    "tag",
    "exists",
    "immutable",
    "remote_digest",
    "expected_digest",
    "verdict",
    "error",
}


@dataclass
class RemoteTag:
    digest: str
    author: str = "alice"

    @property
    def media_type(self) -> str:
        return BODIES[self.digest][1]


class FakeDtr:
    """DTR's API, token server and /v2 as respx routes over a small in-memory state."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.repositories: dict[str, bool] = {}
        # The user's access level per repository (DTR's repositoryAccess); default read-write.
        self.access: dict[str, str] = {}
        self.tags: dict[tuple[str, str], RemoteTag] = {}
        # Canned answers that replace the fake's own: (method, path) -> response.
        self.answers: dict[tuple[str, str], httpx.Response] = {}
        self.router = router
        self.repository_route = router.get(
            path__regex=r"^/api/v0/repositories/(?P<ns>[^/]+)/(?P<name>[^/]+)$"
        ).mock(side_effect=self._repository)
        self.access_route = router.get(
            path__regex=r"^/api/v0/accounts/(?P<user>[^/]+)/repositoryAccess/(?P<ns>[^/]+)/(?P<name>[^/]+)$"
        ).mock(side_effect=self._access)
        self.tag_route = router.get(
            path__regex=r"^/api/v0/repositories/(?P<ns>[^/]+)/(?P<name>[^/]+)/tags/(?P<tag>[^/]+)$"
        ).mock(side_effect=self._tag)
        self.ping_route = router.get("/v2/").respond(
            401,
            headers={"WWW-Authenticate": f'Bearer realm="{DTR_URL}/auth/token",service="{HOST}"'},
        )
        self.token_route = router.get("/auth/token").respond(200, json={"token": "tok"})
        self.manifest_route = router.get(
            path__regex=r"^/v2/(?P<ns>[^/]+)/(?P<name>[^/]+)/manifests/(?P<ref>[^/]+)$"
        ).mock(side_effect=self._manifest)

    def add(self, repository: str, *, immutable: bool, **tags: RemoteTag) -> None:
        self.repositories[repository] = immutable
        for tag, remote in tags.items():
            self.tags[(repository, tag)] = remote

    def _repository(self, request: httpx.Request, ns: str, name: str) -> httpx.Response:
        key = f"{ns}/{name}"
        if key not in self.repositories:
            return httpx.Response(
                404, json={"errors": [{"code": "NO_SUCH_REPOSITORY", "message": "not found"}]}
            )
        body = repository_body(ns, name, immutableTags=self.repositories[key])
        return httpx.Response(200, json=body)

    def _access(self, request: httpx.Request, user: str, ns: str, name: str) -> httpx.Response:
        answer = self._repository(request, ns, name)
        if answer.status_code != 200:
            return answer
        level = self.access.get(f"{ns}/{name}", "read-write")
        account = {"id": user, "name": user, "fullName": user, "isOrg": False}
        body = {"accessLevel": level, "user": account, "repository": answer.json()}
        return httpx.Response(200, json=body)

    def _tag(self, request: httpx.Request, ns: str, name: str, tag: str) -> httpx.Response:
        remote = self.tags.get((f"{ns}/{name}", tag))
        if remote is None:
            return httpx.Response(
                404, json={"errors": [{"code": "NO_SUCH_REF", "message": "no such tag"}]}
            )
        platforms = 2 if remote.media_type == OCI_INDEX else 1
        entry = {
            "name": tag,
            "digest": remote.digest,
            "author": remote.author,
            "createdAt": "2024-05-01T10:00:00Z",
            "updatedAt": "2024-05-02T11:00:00Z",
            "manifest": {"digest": remote.digest, "configDigest": CONFIG},
        }
        return httpx.Response(200, json=[entry] * platforms)

    def _manifest(self, request: httpx.Request, ns: str, name: str, ref: str) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer tok"
        if ("GET", request.url.path) in self.answers:
            return self.answers[("GET", request.url.path)]
        remote = self.tags.get((f"{ns}/{name}", ref))
        if remote is None:
            unknown = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
            return httpx.Response(404, json=unknown, headers=REGISTRY_HEADERS)
        body, media_type = BODIES[remote.digest]
        headers = {"Docker-Content-Digest": remote.digest, "Content-Type": media_type}
        return httpx.Response(200, content=body, headers={**headers, **REGISTRY_HEADERS})


@pytest.fixture
def fake(dtr: respx.MockRouter, dtr_env: None) -> FakeDtr:
    return FakeDtr(dtr)


def run_json(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("push-check", *args, "-o", "json")
    return result.exit_code, json.loads(result.stdout)


def test_each_verdict_in_text_with_dtrs_refusal_message(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.4.2": RemoteTag(OLD), "1.4": RemoteTag(NEW)})
    fake.add("engineering/web", immutable=False, latest=RemoteTag(OLD, author="bob"))

    result = cli(
        "push-check",
        "engineering/api:1.4.2",
        "engineering/api:1.4",
        "engineering/api:1.5",
        "engineering/web",
        "--digest",
        NEW,
    )

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"collision  dtr.test/engineering/api:1.4.2  {OLD[:19]}")
    assert "pushed 2024-05-02T11:00:00Z by alice" in lines[0]
    assert lines[0].endswith(
        "push would be refused: tag=1.4.2 cannot be overwritten because "
        "dtr.test/engineering/api is an immutable repository"
    )
    assert lines[1].startswith(f"present    dtr.test/engineering/api:1.4  {NEW[:19]}")
    assert lines[2] == "free       dtr.test/engineering/api:1.5"
    assert lines[3].startswith("overwrite  dtr.test/engineering/web:latest")
    assert "by bob" in lines[3]
    assert "4 tags: 1 collision, 1 present, 1 free, 1 overwrite" in result.stderr


def test_json_document_shape_and_order(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})

    code, document = run_json(cli, "engineering/api:2.0", "dtr.test:443/engineering/api:1.0")

    assert code == 1
    assert document["schema"] == "dtrctl/v1"
    assert document["ok"] is False
    free, collision = document["results"]
    assert free.keys() >= JSON_KEYS
    assert free == {
        **free,
        "reference": "dtr.test/engineering/api:2.0",
        "repository": "engineering/api",
        "tag": "2.0",
        "exists": False,
        "immutable": True,
        "remote_digest": None,
        "expected_digest": None,
        "verdict": "free",
        "error": None,
    }
    assert collision["reference"] == "dtr.test/engineering/api:1.0"
    assert (collision["exists"], collision["remote_digest"]) == (True, OLD)
    assert collision["verdict"] == "collision"
    assert collision["author"] == "alice"


def test_all_clear_is_exit_0_and_ok(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(NEW)})
    fake.add("engineering/web", immutable=False, latest=RemoteTag(OLD))
    code, document = run_json(
        cli, "engineering/api:1.0", "engineering/api:1.1", "engineering/web", "--digest", NEW
    )
    assert code == 0
    assert document["ok"] is True
    assert [item["verdict"] for item in document["results"]] == ["present", "free", "overwrite"]


def test_strict_makes_overwrite_a_failure(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/web", immutable=False, latest=RemoteTag(OLD))
    code, document = run_json(cli, "engineering/web:latest", "--strict", "--digest", NEW)
    assert code == 1
    assert document["ok"] is False
    assert document["results"][0]["verdict"] == "overwrite"


def test_protect_makes_matching_tags_write_once(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/web", immutable=False, latest=RemoteTag(OLD), v2=RemoteTag(OLD))
    result = cli("push-check", "engineering/web:v2", "engineering/web:latest", "--protect", "v*")
    assert result.exit_code == 1
    protected, latest = result.stdout.splitlines()
    assert protected.startswith("collision")
    assert "matches --protect 'v*'" in protected
    assert latest.startswith("overwrite")


def test_missing_repository_is_no_repo_whatever_v2_says(fake: FakeDtr, cli: Any) -> None:
    # /v2 is asked at the same time as the DTR API (no waiting), but DTR's answer decides.
    fake.answers[("GET", "/v2/engineering/ghost/manifests/1.0")] = httpx.Response(
        401, json={"errors": [{"code": "UNAUTHORIZED", "message": "no such repository"}]}
    )
    code, document = run_json(cli, "engineering/ghost:1.0")
    assert code == 4
    (missing,) = document["results"]
    assert (missing["verdict"], missing["exists"], missing["immutable"]) == ("no-repo", False, None)


def test_collision_outranks_no_repo(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    code, _ = run_json(cli, "engineering/ghost:1.0", "engineering/api:1.0")
    assert code == 1


def test_unavailable_registry_wins_and_is_never_absent(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    fake.add("engineering/web", immutable=False)
    fake.answers[("GET", "/v2/engineering/web/manifests/1.0")] = httpx.Response(503)

    result = cli(
        "--retries", "0", "push-check", "engineering/web:1.0", "engineering/api:1.0", "-o", "json"
    )

    assert result.exit_code == 5
    broken, collision = json.loads(result.stdout)["results"]
    assert broken["verdict"] == "error"
    assert broken["exists"] is None
    assert broken["error"]["code"] == "server"
    assert broken["error"]["status"] == 503
    assert collision["verdict"] == "collision"


def test_proxy_404_on_v2_is_exit_5_not_free(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/web", immutable=False)
    fake.answers[("GET", "/v2/engineering/web/manifests/1.0")] = httpx.Response(404)
    fake.answers[("GET", "/v2/engineering/web/manifests/1.0")] = httpx.Response(
        404, html="<h1>Not Found</h1>"
    )
    code, document = run_json(cli, "engineering/web:1.0")
    assert code == 5
    assert document["results"][0]["verdict"] == "error"


def test_bad_credentials_are_exit_3(fake: FakeDtr, cli: Any) -> None:
    refused = httpx.Response(
        401, json={"errors": [{"code": "NOT_AUTHENTICATED", "message": "bad"}]}
    )
    fake.access_route.mock(return_value=refused)
    fake.repository_route.mock(return_value=refused)
    result = cli("push-check", "engineering/api:1.0", "engineering/web:1.0")
    assert result.exit_code == 3
    assert result.stdout.startswith("error      dtr.test/engineering/api:1.0")
    assert "DTRCTL_USERNAME" in result.stderr


def test_auth_failure_outranks_unavailable(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True)
    fake.add("engineering/web", immutable=False)
    fake.answers[("GET", "/v2/engineering/web/manifests/1.0")] = httpx.Response(500)
    fake.answers[("GET", "/v2/engineering/api/manifests/1.0")] = httpx.Response(403)
    result = cli(
        "--retries=0", "push-check", "engineering/web:1.0", "engineering/api:1.0", "-o", "json"
    )
    assert result.exit_code == 3
    assert [item["error"]["exit_code"] for item in result.json()["results"]] == [5, 3]


def test_requests_are_economical(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    result = cli(
        "push-check", "engineering/api:1.0", "engineering/api:1.1", "engineering/api:latest"
    )
    assert result.exit_code == 1
    # One API call tells immutability and the user's right to push.
    assert fake.access_route.call_count == 1
    assert fake.repository_route.call_count == 0
    # DTR's token endpoint is known: no GET /v2/ for the challenge; one GET per manifest. GET
    # /v2/ only opens connections beside the token request, for the GETs of the tags but one.
    assert fake.ping_route.call_count == 2
    assert fake.token_route.call_count == 1
    assert fake.manifest_route.call_count == 3
    assert {call.request.url.params["scope"] for call in fake.token_route.calls} == {
        "repository:engineering/api:pull"
    }


def test_a_connection_opened_ahead_that_fails_changes_no_verdict(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    references = ("engineering/api:1.0", "engineering/api:1.1", "engineering/api:latest")
    expected = cli("push-check", *references, "-o", "json").json()
    fake.ping_route.side_effect = httpx.ConnectError("refused")
    result = cli("push-check", *references, "-o", "json")
    # Each once (not retried): it must not keep the GET it serves waiting.
    assert fake.ping_route.call_count == 4
    assert result.exit_code == 1
    assert result.json() == expected


def test_junit_report(fake: FakeDtr, cli: Any, tmp_path: Path) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    report = tmp_path / "push-check.xml"
    result = cli(
        "push-check",
        "engineering/api:1.0",
        "engineering/api:2.0",
        "ci/ghost",
        "--junit",
        str(report),
    )
    assert result.exit_code == 1
    root = ElementTree.parse(report).getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert list(cases) == [
        "dtr.test/engineering/api:1.0",
        "dtr.test/engineering/api:2.0",
        "dtr.test/ci/ghost:latest",
    ]
    assert cases["dtr.test/engineering/api:1.0"].get("classname") == "engineering/api"
    assert cases["dtr.test/engineering/api:1.0"].find("failure") is not None
    assert cases["dtr.test/engineering/api:2.0"].find("failure") is None
    assert cases["dtr.test/ci/ghost:latest"].find("failure") is not None


def test_github_actions_annotations_in_text_mode_only(
    fake: FakeDtr, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD), "1.1": RemoteTag(OLD)})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    text = cli("push-check", "engineering/api:1.0", "engineering/api:2.0")
    annotations = [line for line in text.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1
    assert "dtr.test/engineering/api:1.0: push would be refused: tag=1.0" in annotations[0]
    as_json = cli("push-check", "engineering/api:1.0", "-o", "json")
    assert "::error" not in as_json.stdout
    json.loads(as_json.stdout)
    # Under -o json the annotations go to stderr: GitHub reads workflow commands there too.
    (annotation,) = [line for line in as_json.stderr.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=push-check collision")


def test_github_warning_for_overwrite_and_error_for_every_failing_verdict(
    fake: FakeDtr, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add("engineering/api", immutable=False, **{"1.0": RemoteTag(OLD)})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("push-check", "engineering/api:1.0", "ci/ghost:1", "engineering/api:2.0")
    assert result.exit_code == 4
    levels = [line.split(" title=")[0] for line in result.stdout.splitlines() if line[:2] == "::"]
    assert levels == ["::warning", "::error"]
    strict = cli("push-check", "engineering/api:1.0", "--strict")
    assert strict.exit_code == 1
    assert "::error title=push-check overwrite" in strict.stdout


def test_step_summary_whenever_the_variable_is_set(
    fake: FakeDtr, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for output in ("text", "json"):
        result = cli("push-check", "engineering/api:1.0", "engineering/api:2.0", "-o", output)
        assert result.exit_code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n### dtrctl push-check: 1 of 2 would fail\n")
    collision = f"| ❌ collision | ` dtr.test/engineering/api:1.0 ` | ` {OLD[:19]} ` |"
    assert text.count(collision) == 2
    assert "| ✅ free | ` dtr.test/engineering/api:2.0 ` | - | - |" in text


def test_no_annotations_outside_github_actions(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    assert "::error" not in cli("push-check", "engineering/api:1.0").stdout


def test_config_digest_from_the_tag_api(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    code, document = run_json(cli, "engineering/api:1.0", "--config-digest", CONFIG)
    assert code == 0
    (present,) = document["results"]
    assert present["verdict"] == "present"
    assert present["expected_digest"] == CONFIG
    assert present["remote_config_digest"] == CONFIG
    assert present["remote_digest"] == OLD


def test_config_digest_of_a_multi_platform_tag_cannot_be_compared(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(INDEX)})
    result = cli("push-check", "engineering/api:1.0", "--config-digest", CONFIG)
    assert result.exit_code == 1
    assert result.stdout.startswith("collision")
    assert "multi-platform tag" in result.stderr
    assert "--config-digest" in result.stderr


def plain_registry(router: respx.MockRouter) -> None:
    """A plain v2 registry: /api/v0 is a bare 404; library/app:1.0 exists, 2.0 does not."""
    router.get(path__startswith="/api/v0/").respond(404, text="404 page not found\n")
    # Nor Harbor's system information: the kind's probe finds neither.
    router.get("/api/v2.0/systeminfo").respond(404, text="404 page not found\n")
    # DTR's token endpoint may be tried first; a plain registry has none, and its /v2/ decides.
    router.get("/auth/token").respond(404, text="404 page not found\n")
    router.get("/v2/").respond(200, json={})
    router.get("/v2/library/app/manifests/1.0").respond(
        200, content=OLD_BODY, headers={"Docker-Content-Digest": OLD, **REGISTRY_HEADERS}
    )
    router.get("/v2/library/app/manifests/2.0").respond(
        404,
        json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]},
        headers=REGISTRY_HEADERS,
    )


def assert_plain_verdicts(cli: Any, *args: str) -> None:
    code, document = run_json(cli, *args, "library/app:1.0", "library/app:2.0")
    assert code == 0
    existing, absent = document["results"]
    assert (existing["verdict"], existing["immutable"]) == ("overwrite", None)
    assert absent["verdict"] == "free"
    assert any("no DTR API" in note for note in existing["notes"])

    code, document = run_json(
        cli, *args, "library/app:1.0", "library/app:2.0", "--assume-immutable"
    )
    assert code == 1
    assert [item["verdict"] for item in document["results"]] == ["collision", "free"]


def test_the_configured_dtr_answering_a_bare_404_is_exit_5_not_a_plain_registry(
    dtr: respx.MockRouter, dtr_env: None, cli: Any
) -> None:
    plain_registry(dtr)
    # Under `auto`, the run asks once whether Harbor answers there instead: it does not.
    probe = dtr.get("/api/v2.0/systeminfo").respond(404, text="404 page not found")
    result = cli("push-check", "library/app:1.0", "library/app:2.0")
    assert result.exit_code == 5
    assert probe.call_count == 1
    assert result.stdout.splitlines()[0].startswith("error")
    assert "serves no DTR API" in result.stdout
    assert "--backend registry" in result.stderr
    assert "overwrite" not in result.stdout and "free" not in result.stdout


def test_backend_registry_declares_the_configured_url_plain(
    dtr: respx.MockRouter, dtr_env: None, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_registry(dtr)
    monkeypatch.setenv("DTRCTL_BACKEND", "registry")
    monkeypatch.delenv("DTRCTL_PASSWORD")
    monkeypatch.delenv("DTRCTL_USERNAME")
    # Anonymous without --anonymous: a plain registry needs no credentials.
    assert_plain_verdicts(cli)
    assert not [call for call in dtr.calls if call.request.url.path.startswith("/api/v0")]


def test_backend_registry_has_no_api_for_other_commands(
    dtr: respx.MockRouter, dtr_env: None, cli: Any
) -> None:
    for command in (["repo", "show", "library/app"], ["repo", "create", "library/app"]):
        result = cli("--backend", "registry", *command)
        assert result.exit_code == 2
        assert "a plain registry has no API for repository settings" in result.stderr
    assert not dtr.calls


def test_a_host_named_only_by_the_references_may_be_a_plain_registry(
    dtr: respx.MockRouter, cli: Any
) -> None:
    plain_registry(dtr)
    code, document = run_json(cli, f"{HOST}/library/app:1.0", f"{HOST}/library/app:2.0")
    assert code == 0
    assert [item["verdict"] for item in document["results"]] == ["overwrite", "free"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["other.test/engineering/api:1.0"], "other.test"),
        (["dtr.test:5000/engineering/api:1.0"], "dtr.test:5000"),
        (["engineering/api@" + OLD], "--digest"),
        (["engineering/api:1.0", "--digest", NEW, "--config-digest", CONFIG], "cannot be combined"),
        (["engineering/api:1.0", "--digest", "sha256:short"], "invalid digest"),
        (["engineering/api:-bad"], "invalid tag"),
    ],
)
def test_usage_errors_are_exit_2_before_any_request(
    fake: FakeDtr, cli: Any, args: list[str], message: str
) -> None:
    result = cli("push-check", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not fake.router.calls


def test_without_url_the_host_of_the_references_is_used(
    dtr: respx.MockRouter, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "admin")
    monkeypatch.setenv("DTRCTL_PASSWORD", "pw")
    fake = FakeDtr(dtr)
    fake.add("engineering/api", immutable=True)
    code, document = run_json(cli, "dtr.test/engineering/api:1.0")
    assert code == 0
    assert document["results"][0]["verdict"] == "free"
    assert fake.access_route.calls.last.request.url.host == HOST


def test_without_url_or_host_is_exit_2_naming_the_setting(dtr: respx.MockRouter, cli: Any) -> None:
    result = cli("push-check", "engineering/api:1.0")
    assert result.exit_code == 2
    assert "--url" in result.stderr
    assert "DTRCTL_URL" in result.stderr
    assert not dtr.calls


def test_read_only_user_is_told_the_push_would_be_refused(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=False, **{"1.0": RemoteTag(OLD)})
    fake.access["engineering/api"] = "read-only"
    result = cli(
        "push-check", "engineering/api:1.0", "engineering/api:2.0", "--digest", OLD, "-o", "json"
    )
    present, free = result.json()["results"]
    # Already published: nothing to push, so the missing right does not matter.
    assert present["verdict"] == "present"
    assert free["verdict"] == "error"
    assert free["error"]["code"] == "permission"
    assert "may not push" in free["error"]["message"]
    assert result.exit_code == 3


def test_without_the_access_call_the_repository_call_decides(fake: FakeDtr, cli: Any) -> None:
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    fake.access_route.mock(
        return_value=httpx.Response(
            403, json={"errors": [{"code": "NOT_AUTHORIZED", "message": "admins only"}]}
        )
    )
    code, document = run_json(cli, "engineering/api:1.0", "--digest", NEW)
    assert code == 1
    assert document["results"][0]["verdict"] == "collision"
    assert fake.repository_route.call_count == 1
