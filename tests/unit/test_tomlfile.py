from __future__ import annotations

import pytest

from dtrctl.tomlfile import (
    TomlLines,
    TomlSyntaxError,
    parse_toml,
)

POLICY = """\
# a policy
[defaults]
immutable = true

[[repository]]
name = "engineering/api"

[[repository]]
"name" = "engineering/web"
visibility = "public"

[profiles."my prod"]
url = "https://dtr.example.com"
inline = { depth = 1 }
"""


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a = 1\nb = \n", 2),
        ("a = 1\n[table\n", 2),
        ('a = "unterminated', 1),
    ],
)
def test_decode_errors_say_the_line(text: str, line: int) -> None:
    with pytest.raises(TomlSyntaxError) as raised:
        parse_toml(text)
    assert raised.value.line == line
    assert raised.value.message.startswith("invalid TOML: ")
    assert "(at line" not in raised.value.message


def test_nesting_too_deep_is_a_decode_error() -> None:
    with pytest.raises(TomlSyntaxError, match="nested too deeply"):
        parse_toml("a = " + "[" * 100_000)


def test_lines_of_tables_entries_and_keys() -> None:
    lines = TomlLines(POLICY)
    assert lines.table("defaults") == 2
    assert lines.key("immutable", "defaults") == 3
    assert lines.entry("repository", 0) == 5
    assert lines.entry("repository", 1) == 8
    assert lines.entry("repository", 2) is None
    assert lines.key("name", "repository", 1) == 9
    assert lines.key("visibility", "repository", 0) is None
    assert lines.table("profiles", "my prod") == 12
    assert lines.key("url", "profiles", "my prod") == 13
    assert lines.key("immutable") is None


def test_a_key_in_an_inline_table_is_found_anywhere() -> None:
    lines = TomlLines(POLICY)
    assert lines.key("depth", "profiles", "my prod") is None
    assert lines.anywhere("depth") == 14
