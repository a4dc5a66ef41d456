from __future__ import annotations

import io
from pathlib import Path

import pytest

from dtrctl.errors import ExitCode, UsageError
from dtrctl.tomlfile import (
    TomlLines,
    TomlSyntaxError,
    parse_toml,
    read_limited,
    read_limited_file,
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


def test_a_file_over_the_cap_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * 2000 + "\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        read_limited_file(path, limit=1024)
    assert str(path) in raised.value.message
    assert raised.value.exit_code == ExitCode.USAGE


def test_a_stream_without_a_size_is_cut_off_at_the_cap() -> None:
    with pytest.raises(UsageError, match="<stdin> is larger than 1 KiB"):
        read_limited(io.StringIO("a" * 1025), "<stdin>", limit=1024)
    assert read_limited(io.StringIO("a" * 1024), "<stdin>", limit=1024) == "a" * 1024


def test_a_file_within_the_cap_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(POLICY, encoding="utf-8")
    assert read_limited_file(path) == POLICY


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
