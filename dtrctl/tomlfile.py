"""TOML as dtrctl reads it (the config, credentials and policy files): decode errors with their
line, and the line of a table or key for the messages that check the contents. The files are
read within their size caps by `dtrctl.files`.

tomllib is imported when a document is parsed: most runs read no TOML at all.
"""

from __future__ import annotations

import re
import sys
from typing import Any

_DECODE_POSITION_RE = re.compile(r"\(at line (\d+), column \d+\)")
_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+"
_KEY_PART_RE = re.compile(rf"\s*({_KEY})\s*(?:\.|$)")
_ASSIGNMENT_RE = re.compile(rf"^\s*({_KEY})\s*=")

# Where a key is: () is the top level, ("profiles", "prod") a table, ("repository", 2) the
# third [[repository]] entry.
Block = tuple[str | int, ...]


class TomlSyntaxError(ValueError):
    """The text is not TOML; `line` is where the parser stopped, when it says."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def parse_toml(text: str) -> dict[str, Any]:
    """The document, or TomlSyntaxError with a message starting "invalid TOML"."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TomlSyntaxError(
            f"invalid TOML: {_decode_message(error)}", _decode_line(error, text)
        ) from error
    except ValueError as error:  # e.g. an integer longer than Python converts
        raise TomlSyntaxError(f"invalid TOML: {error}") from error
    except RecursionError:
        raise TomlSyntaxError("invalid TOML: arrays or tables nested too deeply") from None


def _decode_line(error: ValueError, text: str) -> int | None:
    lineno = getattr(error, "lineno", None)  # Python 3.14+ and recent tomli
    if isinstance(lineno, int):
        return lineno
    match = _DECODE_POSITION_RE.search(str(error))
    if match:
        return int(match.group(1))
    if "end of document" in str(error):
        return max(len(text.splitlines()), 1)
    return None


def _decode_message(error: ValueError) -> str:
    message = getattr(error, "msg", None) or str(error)
    return _DECODE_POSITION_RE.sub("", message).strip()


class TomlLines:
    """Where the tables and keys of a TOML text are, for messages that name a line.

    Best effort: it reads lines, not TOML, so it finds `key = ...` lines and table headers but
    not keys inside inline tables or multi-line strings (`anywhere` covers the first).
    """

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._tables: dict[Block, int] = {}
        self._entries: dict[Block, list[int]] = {}
        self._keys: dict[tuple[Block, str], int] = {}
        block: Block = ()
        for number, line in enumerate(self._lines, start=1):
            header = _HEADER_RE.match(line)
            if header:
                path = _key_path(header.group(2))
                if header.group(1) == "[[":
                    entries = self._entries.setdefault(path, [])
                    block = (*path, len(entries))
                    entries.append(number)
                else:
                    block = path
                    self._tables.setdefault(path, number)
                continue
            assignment = _ASSIGNMENT_RE.match(line)
            if assignment:
                self._keys.setdefault((block, _unquote(assignment.group(1))), number)

    def table(self, *path: str) -> int | None:
        """The line of the `[path]` header (or of the first `[[path]]`)."""
        entries = self._entries.get(path)
        return self._tables.get(path) or (entries[0] if entries else None)

    def entry(self, name: str, index: int) -> int | None:
        """The line of the header of the `index`th `[[name]]` entry."""
        entries = self._entries.get((name,), [])
        return entries[index] if index < len(entries) else None

    def key(self, key: str, *block: str | int) -> int | None:
        """The line of `key = ...` directly in `block` (the top level when none)."""
        return self._keys.get((block, key))

    def anywhere(self, key: str) -> int | None:
        """The first line assigning `key`, also as a dotted key or inside an inline table."""
        forms = "|".join(re.escape(form) for form in (key, f'"{key}"', f"'{key}'"))
        pattern = re.compile(rf"(?:^|[.{{,]\s*)(?:{forms})\s*=")
        for number, line in enumerate(self._lines, start=1):
            if pattern.search(line):
                return number
        return None


def _key_path(text: str) -> Block:
    """`profiles."my prod"` -> ("profiles", "my prod"); unparsable text stays one part."""
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        part = _KEY_PART_RE.match(text, position)
        if part is None:
            return (text,)
        parts.append(_unquote(part.group(1)))
        position = part.end()
    return tuple(parts)


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" and len(key) > 1 else key
