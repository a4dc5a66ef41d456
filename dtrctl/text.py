"""Server text is data, never commands: pure functions that make it safe to print.

A server (or whoever controls a repository description or a tag's author) chooses these
strings. Printed raw they could drive a terminal (OSC 52 clipboard writes, hyperlinks, clear
screen) or a CI runner (a line starting `::add-mask::` is a GitHub workflow command, `##[` an
Azure Pipelines one). So text output escapes control characters visibly and never lets a line
start a workflow command; JUnit XML replaces what XML 1.0 cannot hold; CSV cells cannot start
a spreadsheet formula; markdown (a CI step summary) holds server text in code spans, where it is
never a link, an image or HTML. JSON output needs none of this: JSON escaping keeps the exact
data.
"""

from __future__ import annotations

import re

# Patterns as text: `re` compiles each at its first use and caches it, so a run that escapes
# nothing (JSON output, plain ASCII names) never pays for compiling them; the two classes with
# the surrogate range cost about a millisecond each.
# C0 controls except tab, DEL, C1 controls, and lone surrogates (valid in JSON as "\ud800",
# but unencodable as UTF-8: printing one would crash).
_CONTROL = "[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]"
# What XML 1.0 cannot hold at all, whatever the escaping.
_NOT_XML = "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
_NAMED = {"\n": "\\n", "\r": "\\r"}
_BACKTICKS = "`+"
# A workflow command starts a line, after optional blanks: `::name ...::` (GitHub Actions),
# `##[name]` (Azure Pipelines, and older GitHub runners).
_COMMAND_START = r"^(\s*)(:(?=:)|#(?=#\[))"
_NEUTRAL = {":": "\\x3a", "#": "\\x23"}
# OWASP, CSV injection: cells a spreadsheet would read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(value: str) -> str:
    """Control characters and lone surrogates as visible escapes (`\\x1b`, `\\n`, `\\ud800`)."""
    if value.isascii() and value.isprintable():  # the usual case: nothing to escape
        return value
    return re.sub(_CONTROL, _visible, value)


def neutralise_line(line: str) -> str:
    """A line that would start a CI workflow command, with its first character escaped."""
    return re.sub(_COMMAND_START, lambda match: match.group(1) + _NEUTRAL[match.group(2)], line)


def safe_text(value: str) -> str:
    """One line of text built from server data, safe on a terminal and in a CI log."""
    return neutralise_line(escape_controls(value))


def safe_lines(text: str) -> str:
    """Several lines (a message and its hint): each made safe, the line breaks kept."""
    return "\n".join(safe_text(line) for line in text.split("\n"))


def xml_text(document: str) -> str:
    """Characters XML 1.0 cannot hold, as visible escapes; markup never contains them."""
    return re.sub(_NOT_XML, _visible, document)


def csv_cell(value: str) -> str:
    """A CSV cell: controls escaped, and a `'` before what a spreadsheet reads as a formula."""
    escaped = escape_controls(value)
    return "'" + escaped if value.startswith(_FORMULA_START) else escaped


def markdown_cell(value: str) -> str:
    """A markdown table cell holding server text, inert: one safe line in a code span.

    Markdown is not read inside a code span: no link, image, autolink (`https://...`,
    `www.`, an address with `@`), emphasis or HTML. The fence is one backtick longer than any
    run of backticks in the text, and the spaces inside it are removed again by the renderer.
    Pipes are escaped, as a table needs even inside a code span, so the row keeps its columns.
    """
    text = safe_text(value).replace("|", "\\|")
    if not text.strip():
        return ""
    fence = "`" * (max(map(len, re.findall(_BACKTICKS, text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def annotation_message(value: str) -> str:
    """Data of a GitHub workflow command (after `::`), escaped as the runner unescapes it."""
    # escape_controls leaves no CR or LF; `%` is escaped so `%0A` in data stays text.
    return escape_controls(value).replace("%", "%25")


def annotation_property(value: str) -> str:
    """A property value of a GitHub workflow command (`title=...`)."""
    return annotation_message(value).replace(":", "%3A").replace(",", "%2C")
