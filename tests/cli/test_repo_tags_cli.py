"""`dtrctl repo tags NS/NAME` through the CLI: every page, text, JSON and CSV, exit codes."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.usefixtures("dtr_env")

TAGS_PATH = "/api/v0/repositories/engineering/api/tags"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def tag_body(name: str, digest: str, arch: str = "amd64", author: str = "alice") -> dict[str, Any]:
    return {
        "name": name,
        "digest": digest,
        "author": author,
        "createdAt": "2024-01-02T03:04:05Z",
        "updatedAt": "2024-02-03T04:05:06Z",
        "inNotary": False,
        "hashMismatch": False,
        "manifest": {
            "digest": digest,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "os": "linux",
            "architecture": arch,
        },
    }


@pytest.fixture
def two_pages(dtr: Any) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["pageSize"] == "100"
        if request.url.params.get("pageStart") == "2.0":
            return httpx.Response(200, json=[tag_body("2.0", DIGEST_B, "arm64", "ci-bot")])
        return httpx.Response(
            200, json=[tag_body("1.0", DIGEST_A)], headers={"X-Next-Page-Start": "2.0"}
        )

    return dtr.get(TAGS_PATH).mock(side_effect=answer)


def test_json_lists_every_page_with_platform_pusher_and_push_time(cli: Any, two_pages: Any) -> None:
    result = cli("repo", "tags", "engineering/api", "-o", "json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["schema"] == "dtrctl/v1"
    assert document["repository"] == "engineering/api"
    assert [tag["name"] for tag in document["tags"]] == ["1.0", "2.0"]
    second = document["tags"][1]
    assert second["digest"] == DIGEST_B
    assert second["platform"] == "linux/arm64"
    assert second["pusher"] == "ci-bot"
    assert second["pushed_at"] == "2024-02-03T04:05:06Z"
    assert two_pages.call_count == 2


def test_text_is_a_table_and_a_count_on_stderr(cli: Any, two_pages: Any) -> None:
    result = cli("repo", "tags", "engineering/api")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TAG", "DIGEST", "PLATFORM", "PUSHER", "PUSHED"]
    assert lines[1].split() == ["1.0", DIGEST_A, "linux/amd64", "alice", "2024-02-03T04:05:06Z"]
    assert "2 tags in engineering/api" in result.stderr


def test_csv_has_a_header_and_one_row_per_tag(cli: Any, two_pages: Any) -> None:
    result = cli("repo", "tags", "engineering/api", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["name"], row["platform"], row["pusher"]) for row in rows] == [
        ("1.0", "linux/amd64", "alice"),
        ("2.0", "linux/arm64", "ci-bot"),
    ]


def test_missing_repository_exits_4(dtr: Any, cli: Any) -> None:
    dtr.get(TAGS_PATH).respond(
        404, json={"errors": [{"code": "NO_SUCH_REPOSITORY", "message": "no such repository"}]}
    )
    result = cli("repo", "tags", "engineering/api")
    assert result.exit_code == 4
    assert "engineering/api" in result.stderr


def test_refused_credentials_exit_3_not_an_empty_list(dtr: Any, cli: Any) -> None:
    dtr.get(TAGS_PATH).respond(401, json={"errors": [{"code": "NOT_AUTHENTICATED"}]})
    result = cli("repo", "tags", "engineering/api", "-o", "json")
    assert result.exit_code == 3
    assert "tags" not in result.json()


def test_a_malformed_name_is_a_usage_error(cli: Any) -> None:
    assert cli("repo", "tags", "no-slash").exit_code == 2


def test_csv_cells_from_the_server_never_become_formulas(dtr: Any, cli: Any) -> None:
    dtr.get(TAGS_PATH).respond(200, json=[tag_body("1.0", DIGEST_A, author="=HYPERLINK(1)")])
    result = cli("repo", "tags", "engineering/api", "-o", "csv")
    assert result.exit_code == 0
    assert "'=HYPERLINK(1)" in result.stdout
    assert ",=HYPERLINK" not in result.stdout
