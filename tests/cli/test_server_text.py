"""Server text is data, never commands: hostile descriptions, authors and error messages.

A server (or anyone who may edit a description) controls these strings. In text output they
must not drive a terminal (OSC 52, clear screen) or a CI runner (a line starting `::add-mask::`
is a GitHub workflow command); a lone surrogate (valid JSON) must not crash any output; JUnit
reports stay well-formed XML; CSV cells are no formulas; JSON keeps the exact data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.dom import minidom
from xml.etree import ElementTree

import httpx
import pytest
import respx

from dtrctl.cli import output
from tests.cli.conftest import repository_body
from tests.cli.test_push_check_cli import CONFIG, OLD, FakeDtr, RemoteTag

HOSTILE = (
    "web\x1b]52;c;ZXZpbA==\x07 \x1b[2J\x9b31m\n::add-mask::x\r\n::error::x\n"
    "::stop-commands::x\n##[error]x \ud800 end"
)
SGR = re.compile(r"\x1b\[[0-9;]*m")


def json_response(status: int, body: Any) -> httpx.Response:
    """JSON as a server sends it: `\\ud800` escaped, which httpx's own encoder cannot write."""
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


def assert_inert(text: str) -> None:
    """No control character but line breaks (and Rich's own colours), no workflow command."""
    plain = SGR.sub("", text)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", plain), repr(plain)
    for line in plain.splitlines():
        assert not line.lstrip().startswith(("::", "##[")), repr(line)


@pytest.fixture
def hostile_repositories(dtr: respx.MockRouter, dtr_env: None) -> None:
    body = repository_body("engineering", "api", shortDescription=HOSTILE, longDescription=HOSTILE)
    formula = repository_body("engineering", "web", shortDescription='=HYPERLINK("x")')
    # DTR would refuse such a name; a hostile server (or proxy) sends it anyway.
    named = repository_body("engineering", "x\x1b]52;c;ZXZpbA==\x07\ud800\n::error::x")
    dtr.get("/api/v0/repositories/engineering/api").mock(return_value=json_response(200, body))
    dtr.get("/api/v0/repositories").mock(
        return_value=json_response(200, {"repositories": [body, formula, named]})
    )


@pytest.mark.usefixtures("hostile_repositories")
def test_repo_show_escapes_server_text(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout)
    assert "web\\x1b]52;c;ZXZpbA==\\x07 \\x1b[2J\\x9b31m\\n::add-mask::x\\r\\n" in result.stdout
    assert "\\ud800 end" in result.stdout


@pytest.mark.usefixtures("hostile_repositories")
def test_repo_show_on_a_terminal_passes_no_escape_sequence(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "is_terminal", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "400")
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout)
    assert "\\x1b]52;c;ZXZpbA==" in result.stdout


@pytest.mark.usefixtures("hostile_repositories")
@pytest.mark.parametrize("terminal", [False, True])
def test_repo_list_table_escapes_server_text(
    cli: Any, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    monkeypatch.setattr(output, "is_terminal", lambda stream: terminal)
    monkeypatch.setenv("COLUMNS", "400")
    result = cli("repo", "list")
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout)
    assert "engineering/x\\x1b]52;c;ZXZpbA==\\x07\\ud800\\n::error::x" in result.stdout


@pytest.mark.usefixtures("hostile_repositories")
def test_repo_list_csv_defuses_formulas_and_controls(cli: Any) -> None:
    result = cli("repo", "list", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout)
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert lines[2] == 'engineering/web,false,private,0,"\'=HYPERLINK(""x"")"'


@pytest.mark.usefixtures("hostile_repositories")
def test_json_keeps_the_exact_server_text(cli: Any) -> None:
    result = cli("repo", "show", "engineering/api", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["repository"]["short_description"] == HOSTILE


def test_server_error_message_is_one_inert_line(
    dtr: respx.MockRouter, dtr_env: None, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    errors = {"errors": [{"code": "DENIED", "message": HOSTILE}]}
    dtr.get("/api/v0/repositories/engineering/api").mock(return_value=json_response(500, errors))
    dtr.patch("/api/v0/repositories/engineering/api").mock(return_value=json_response(400, errors))
    for args in (
        ("repo", "show", "engineering/api"),
        ("repo", "set-immutable", "engineering/api", "--on"),
    ):
        result = cli(*args)
        assert result.exit_code != 0
        assert "Traceback" not in result.stderr
        assert_inert(result.stdout + result.stderr)


class HostileTags(FakeDtr):
    """The fake DTR, with a tag whose author and dates are hostile text."""

    def __init__(self, router: respx.MockRouter) -> None:
        super().__init__(router)
        self.tag_route.mock(side_effect=self._hostile_tag)

    def _hostile_tag(self, request: httpx.Request, ns: str, name: str, tag: str) -> httpx.Response:
        remote = self.tags.get((f"{ns}/{name}", tag))
        if remote is None:
            return json_response(404, {"errors": [{"code": "NO_SUCH_REF", "message": "none"}]})
        entry = {
            "name": tag,
            "digest": remote.digest,
            "author": HOSTILE,
            "createdAt": HOSTILE,
            "updatedAt": HOSTILE,
            "manifest": {"digest": remote.digest, "configDigest": CONFIG},
        }
        return json_response(200, [entry])


@pytest.fixture
def hostile_tags(dtr: respx.MockRouter, dtr_env: None) -> HostileTags:
    fake = HostileTags(dtr)
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    fake.add("engineering/web", immutable=False, **{"1.0": RemoteTag(OLD)})
    return fake


def parse_strictly(path: Path) -> ElementTree.Element:
    """Both expat front ends; each raises on any character or markup XML 1.0 forbids."""
    minidom.parse(str(path))
    return ElementTree.parse(path).getroot()


@pytest.mark.usefixtures("hostile_tags")
def test_push_check_text_junit_and_annotations_with_hostile_authors(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    report = tmp_path / "report.xml"
    result = cli("push-check", "engineering/api:1.0", "engineering/web:1.0", "--junit", str(report))
    assert result.exit_code == 1
    # Our own annotations are the only workflow commands, one line each.
    commands = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert [line.split(" ")[0] for line in commands] == ["::error", "::warning"]
    rest = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("::"))
    assert_inert(rest + result.stderr)
    assert "by web\\x1b]52;c;ZXZpbA==\\x07" in result.stdout
    root = parse_strictly(report)
    failure = root.find(".//failure")
    assert failure is not None
    assert "by web\\x1b]52;c;ZXZpbA==\\x07" in (failure.text or "")
    assert "\\ud800" in report.read_text(encoding="utf-8")


@pytest.mark.usefixtures("hostile_tags")
def test_push_check_json_keeps_exact_author(cli: Any) -> None:
    result = cli("push-check", "engineering/api:1.0", "-o", "json")
    assert result.exit_code == 1
    (collision,) = json.loads(result.stdout)["results"]
    assert collision["author"] == HOSTILE


def test_audit_junit_with_hostile_names_is_well_formed(
    dtr: respx.MockRouter, dtr_env: None, cli: Any, tmp_path: Path
) -> None:
    # DTR would not accept such names; a hostile server sends them anyway.
    body = repository_body("engineering", "api\x1b\ud800")
    dtr.get("/api/v0/repositories").mock(return_value=json_response(200, {"repositories": [body]}))
    report = tmp_path / "audit.xml"
    result = cli("repo", "audit", "--junit", str(report))
    assert "Traceback" not in result.stderr
    assert_inert(result.stdout + result.stderr)
    (case,) = parse_strictly(report).iter("testcase")
    assert case.get("name") == "engineering/api\\x1b\\ud800"
