"""Server text made safe for terminals, CI logs, XML, CSV and markdown (`dtrctl.text`)."""

from __future__ import annotations

import pytest

from dtrctl.text import csv_cell, markdown_cell, neutralise_line, safe_lines, safe_text, xml_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain tab\there", "plain tab\there"),
        ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
        ("a\nb\rc", "a\\nb\\rc"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("unicode é ✓", "unicode é ✓"),
    ],
)
def test_safe_text_escapes_controls_visibly(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown
    safe_text(raw).encode("utf-8")


@pytest.mark.parametrize("code", [*range(0x100), 0x2028, 0xD800, 0xDFFF, 0xFEFF])
def test_every_control_is_escaped_alone_and_amid_plain_ascii(code: int) -> None:
    """The plain-ASCII shortcut must not let a control through: C0 but tab, DEL, C1 and lone
    surrogates are escaped, everything else kept, whatever surrounds it."""
    char = chr(code)
    is_control = (code < 0x20 and char != "\t") or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF
    for text in (char, f"tag-{char}-1.0"):
        shown = safe_text(text)
        assert (char not in shown) == is_control, (hex(code), shown)


@pytest.mark.parametrize(
    "line", ["::error::x", "  ::add-mask::x", "::stop-commands::x", "##[error]x", " ##[set]"]
)
def test_no_line_starts_a_workflow_command(line: str) -> None:
    neutral = neutralise_line(line)
    assert not neutral.lstrip().startswith(("::", "##["))
    assert neutral.lstrip().startswith(("\\x3a:", "\\x23#["))


def test_text_that_only_contains_colons_is_left_alone() -> None:
    assert safe_text("a ::error:: in the middle") == "a ::error:: in the middle"
    assert safe_text(":one colon") == ":one colon"


def test_safe_lines_keeps_line_breaks_but_neutralises_each_line() -> None:
    assert safe_lines("hint\n::add-mask::x") == "hint\n\\x3a:add-mask::x"


def test_xml_text_replaces_what_xml_cannot_hold() -> None:
    assert (
        xml_text("a\x1b\x00\ud800\ufffe\uffff\tb\nc\r")
        == "a\\x1b\\x00\\ud800\\ufffe\\uffff\tb\nc\r"
    )


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cell_defuses_formulas(start: str) -> None:
    assert csv_cell(start + "HYPERLINK(1)").startswith("'")


def test_csv_cell_keeps_ordinary_text() -> None:
    assert csv_cell("web front end") == "web front end"


def test_markdown_cell_is_one_inert_line_in_a_code_span() -> None:
    assert markdown_cell("a|b`c`<b>\n::x") == "`` a\\|b`c`<b>\\n::x ``"
    assert markdown_cell("``x") == "``` ``x ```"
    assert (
        markdown_cell("![x](https://evil.example/x.png)") == "` ![x](https://evil.example/x.png) `"
    )
    assert markdown_cell("") == markdown_cell("  ") == ""
