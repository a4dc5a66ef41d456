"""Human output: plain text without Rich off a terminal, Rich styles on one; data is never markup.

CliRunner's stdout is not a terminal. `rich_unavailable` makes any import of Rich fail, so a
plain run that still reached for Rich fails the test. `terminal` makes dtrctl take stdout for a
terminal, as it does on a real one.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
import respx

from dtrctl.cli import output
from tests.cli.conftest import repository_body
from tests.cli.test_push_check_cli import NEW, OLD, FakeDtr, RemoteTag

SGR = re.compile(r"\x1b\[([0-9;]*)m")
MARKUP_LIKE = "see [/docs] and [bold]x[/bold]"
LONG_MARKUP_LIKE = "[/x] \\[red] [link=https://example.com]here[/link]"


def colour_codes(text: str) -> set[int]:
    """SGR parameters that set a foreground or background colour (30-49, 90-107)."""
    codes = {int(code) for match in SGR.finditer(text) for code in match[1].split(";") if code}
    return {code for code in codes if 30 <= code <= 49 or 90 <= code <= 107}


def without_styles(text: str) -> str:
    return SGR.sub("", text)


@pytest.fixture
def rich_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "rich" or name.startswith("rich.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "rich", None)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "is_terminal", lambda stream: True)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def listing(dtr: respx.MockRouter, dtr_env: None) -> None:
    dtr.get("/api/v0/repositories").respond(
        200,
        json={
            "repositories": [
                repository_body("ci", "long-builder-name", visibility="public", tagLimit=10),
                repository_body("engineering", "api", immutableTags=True),
            ]
        },
    )


def show_route(dtr: respx.MockRouter, **changes: Any) -> None:
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body(**changes))


# Off a terminal: plain text, no Rich


@pytest.mark.usefixtures("listing", "rich_unavailable")
def test_list_off_a_terminal_prints_aligned_columns_without_rich(cli: Any) -> None:
    result = cli("repo", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "REPOSITORY            IMMUTABLE  VISIBILITY  TAG LIMIT",
        "ci/long-builder-name  no         public      10",
        "engineering/api       yes        private     -",
    ]


@pytest.mark.usefixtures("dtr_env", "rich_unavailable")
def test_show_off_a_terminal_prints_plain_text_without_rich(
    dtr: respx.MockRouter, cli: Any
) -> None:
    show_route(dtr, immutableTags=True)
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "Repository:     engineering/api",
        "Immutable tags: on (existing tags cannot be overwritten)",
    ]
    assert "\x1b" not in result.stdout


@pytest.mark.usefixtures("rich_unavailable")
def test_push_check_off_a_terminal_prints_verdicts_without_rich(
    dtr: respx.MockRouter, dtr_env: None, cli: Any
) -> None:
    fake = FakeDtr(dtr)
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    result = cli("push-check", "engineering/api:1.0", "engineering/api:2.0", "--digest", NEW)
    assert result.exit_code == 1
    collision, free = result.stdout.splitlines()
    assert collision.startswith(f"collision  dtr.test/engineering/api:1.0  {OLD[:19]}")
    assert free == "free       dtr.test/engineering/api:2.0"
    assert "\x1b" not in result.stdout


# Data is never markup


@pytest.mark.parametrize("on_terminal", [False, True], ids=["plain", "terminal"])
def test_show_prints_descriptions_that_look_like_markup_verbatim(
    dtr: respx.MockRouter,
    dtr_env: None,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    on_terminal: bool,
) -> None:
    if on_terminal:
        request.getfixturevalue("terminal")
    show_route(dtr, shortDescription=MARKUP_LIKE, longDescription=LONG_MARKUP_LIKE)
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    lines = without_styles(result.stdout).splitlines()
    assert f"Description:      {MARKUP_LIKE}" in lines
    assert f"Long description: {LONG_MARKUP_LIKE}" in lines


# On a terminal: Rich styles, and NO_COLOR


@pytest.mark.usefixtures("dtr_env", "terminal")
def test_show_on_a_terminal_styles_the_immutability(dtr: respx.MockRouter, cli: Any) -> None:
    show_route(dtr, immutableTags=True)
    result = cli("repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert "Immutable tags: \x1b[1;32mon\x1b[0m (existing tags cannot be overwritten)" in (
        result.stdout.splitlines()
    )


@pytest.mark.usefixtures("listing", "terminal")
def test_list_on_a_terminal_is_a_rich_table(cli: Any) -> None:
    result = cli("repo", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\x1b[1mREPOSITORY")
    assert "\x1b[33mno" in result.stdout
    assert without_styles(result.stdout).splitlines()[1].split() == [
        "ci/long-builder-name",
        "no",
        "public",
        "10",
    ]


@pytest.mark.usefixtures("terminal")
def test_push_check_on_a_terminal_colours_the_verdicts(
    dtr: respx.MockRouter, dtr_env: None, cli: Any
) -> None:
    fake = FakeDtr(dtr)
    fake.add("engineering/api", immutable=True, **{"1.0": RemoteTag(OLD)})
    result = cli("push-check", "engineering/api:1.0", "engineering/api:2.0", "--digest", NEW)
    assert result.exit_code == 1
    # Rich wraps the long collision line at the terminal's width.
    lines = result.stdout.splitlines()
    assert lines[0].startswith("\x1b[1;31mcollision\x1b[0m  dtr.test/engineering/api:1.0")
    assert lines[-1] == "\x1b[32mfree     \x1b[0m  dtr.test/engineering/api:2.0"


@pytest.mark.usefixtures("listing", "terminal")
def test_no_color_on_a_terminal_keeps_rich_without_colour(
    dtr: respx.MockRouter, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    show_route(dtr, immutableTags=True)
    listed = cli("repo", "list")
    shown = cli("repo", "show", "engineering/api")
    assert (listed.exit_code, shown.exit_code) == (0, 0)
    # Still Rich (bold is not colour), but no colour at all.
    assert listed.stdout.startswith("\x1b[1mREPOSITORY")
    assert "\x1b[1mon\x1b[0m" in shown.stdout
    assert colour_codes(listed.stdout + shown.stdout) == set()
