"""The installed dtrctl, its real stdout and stderr, against a sandbox holding hostile text.

Descriptions and tag authors with terminal escape sequences, GitHub workflow commands and a
lone surrogate: text output escapes them and starts no workflow command, JSON keeps them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import run_dtrctl

pytestmark = pytest.mark.integration

HOSTILE = "x\x1b]52;c;ZXZpbA==\x07\x1b[2J\n::add-mask::x\n::stop-commands::x\n##[error]x\ud800"


def assert_inert(text: str) -> None:
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), repr(text)
    for line in text.splitlines():
        assert not line.lstrip().startswith(("::", "##[")), repr(line)


def test_repo_show_list_and_push_check_on_real_streams(sandbox: SandboxServer) -> None:
    sandbox.state.update_repository("engineering", "web", short_description=HOSTILE)
    sandbox.state.put_image("engineering", "web", "v2", author=HOSTILE)
    env = {
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": "alice",
        "DTRCTL_PASSWORD": "sandbox-alice-password",
        "GITHUB_ACTIONS": "true",
        "PYTHONIOENCODING": "utf-8",
    }
    show = run_dtrctl("repo", "show", "engineering/web", env=env)
    assert show.code == 0, show.stderr
    assert_inert(show.stdout + show.stderr)
    assert "x\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\n::add-mask::x" in show.stdout
    listing = run_dtrctl("repo", "list", "engineering", "-o", "csv", env=env)
    assert listing.code == 0, listing.stderr
    assert_inert(listing.stdout)
    check = run_dtrctl("push-check", "engineering/web:v2", env=env)
    assert check.code == 1
    ours = [line for line in check.stdout.splitlines() if line.startswith("::error ")]
    assert len(ours) == 1
    rest = [line for line in check.stdout.splitlines() if line not in ours]
    assert_inert("\n".join(rest) + check.stderr)
    as_json = run_dtrctl("repo", "show", "engineering/web", "-o", "json", env=env)
    assert json.loads(as_json.stdout)["repository"]["short_description"] == HOSTILE


MARKDOWN = (
    "[click](https://evil.example/x) ![pixel](https://evil.example/p.png) "
    "<img src=https://evil.example/i.png> https://evil.example/bare eve@evil.example | x"
)


def test_the_github_step_summary_shows_server_text_inert(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    from markdown_it import MarkdownIt

    sandbox.state.put_image("engineering", "web", "v2", author=MARKDOWN)
    summary = tmp_path / "summary.md"
    env = {
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": "alice",
        "DTRCTL_PASSWORD": "sandbox-alice-password",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    check = run_dtrctl("push-check", "engineering/web:v2", env=env)
    assert check.code == 1, check.stderr
    html = MarkdownIt("commonmark").enable("table").render(summary.read_text(encoding="utf-8"))
    assert "evil.example" in html
    assert not re.search(r"<(a|img)\b", html), html
    (row,) = html.split("<tbody>")[1].split("<tr>")[1:]
    assert row.count("<td>") == 5  # the server's pipe is no column
    assert (
        "<code>" in row and MARKDOWN.split(" |")[0].replace("<", "&lt;").replace(">", "&gt;") in row
    )
