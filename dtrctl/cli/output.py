"""One output object per command: data to stdout, everything else to stderr.

`-o json` prints exactly one versioned document (`"schema": "dtrctl/v1"`), also on failure.
Human output is written in a small vocabulary (`line`, `table`) of plain text and styled
segments. Rich renders it on a terminal only; elsewhere (pipes, files, CI logs) the text is
written directly, so those runs never import Rich. Data is never parsed as Rich markup, and
every string printed as text goes through `dtrctl.text` first: control characters are escaped
visibly and no line can start a CI workflow command (server text is data, never commands).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias

from dtrctl.errors import DtrctlError
from dtrctl.text import escape_controls, safe_lines, safe_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

SCHEMA = "dtrctl/v1"
JSON_PIECES_PER_WRITE = 4096
# Between table columns: what Rich puts there with box=None, pad_edge=False.
COLUMN_GAP = "  "

# Plain text, or (text, Rich style name such as "bold green"); the style is used on a terminal.
Segment: TypeAlias = str | tuple[str, str]


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class ListFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


def is_terminal(stream: TextIO) -> bool:
    """Whether human output on `stream` gets Rich: colour, tables sized to the window."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _make_console(stream: TextIO) -> Console:
    """Rich, for a stream already known to be a terminal."""
    from rich.console import Console

    return Console(
        file=stream,
        force_terminal=True,
        no_color="NO_COLOR" in os.environ,
        highlight=False,
        emoji=False,
    )


def _text(segment: Segment) -> Text:
    from rich.text import Text

    # safe_text on each: a line's first segment starts the line, and escaping is per segment.
    if isinstance(segment, str):
        return Text(safe_text(segment))
    text, style = segment
    return Text(safe_text(text), style=style)


def _plain(segment: Segment) -> str:
    return escape_controls(segment if isinstance(segment, str) else segment[0])


def _plain_table(columns: Sequence[str], rows: Sequence[Sequence[Segment]]) -> Iterable[str]:
    """Lines of left-aligned columns, as Rich prints a borderless table, without trailing blanks."""
    # A cell's text is one line: its own line breaks are escaped, so no line starts in a cell.
    cells = [[_plain(cell) for cell in row] for row in rows]
    widths = [len(column) for column in columns]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    for row in (list(columns), *cells):
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        yield safe_text(COLUMN_GAP.join(padded).rstrip()) + "\n"


# Lines `info` prints even under --quiet: they report a failure or what an interrupt left.
ALWAYS_SHOWN_PREFIXES = ("Error:", "Interrupted", "Changed before the interrupt")


class Output:
    def __init__(self, fmt: str = "text", *, quiet: bool = False) -> None:
        self.format = fmt
        self.quiet = quiet
        self.warned: set[str] = set()

    @property
    def is_json(self) -> bool:
        return self.format == "json"

    @cached_property
    def stdout_is_terminal(self) -> bool:
        return is_terminal(sys.stdout)

    @property
    def stderr_is_terminal(self) -> bool:
        """Whether stderr gets Rich (the progress bar): never under --quiet."""
        return not self.quiet and is_terminal(sys.stderr)

    @cached_property
    def _console(self) -> Console:
        return _make_console(sys.stdout)

    @cached_property
    def err_console(self) -> Console:
        """Rich on stderr, for the progress bar; only when stderr is a terminal."""
        return _make_console(sys.stderr)

    def emit(self, document: dict[str, Any], render_text: Callable[[Output], None]) -> None:
        """Print a command's result: the JSON document, or its human rendering."""
        if self.is_json:
            self.print_json(document)
        else:
            render_text(self)

    def line(self, *segments: Segment) -> None:
        """One line of human output on stdout; styles apply on a terminal only."""
        if self.stdout_is_terminal:
            from rich.text import Text

            self._console.print(Text.assemble(*(_text(segment) for segment in segments)))
            return
        sys.stdout.write(safe_text("".join(_plain(segment) for segment in segments)) + "\n")
        # Flushed like Rich does, so stdout and stderr lines keep their order in a shared log.
        sys.stdout.flush()

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Segment]]) -> None:
        """A borderless table with a header row; cells are plain or styled segments."""
        if self.stdout_is_terminal:
            from rich.table import Table

            table = Table(box=None, pad_edge=False, header_style="bold")
            for column in columns:
                table.add_column(column, no_wrap=True)
            for row in rows:
                table.add_row(*(_text(cell) for cell in row))
            self._console.print(table)
            return
        sys.stdout.writelines(_plain_table(columns, rows))
        sys.stdout.flush()

    def print_json(self, document: dict[str, Any]) -> None:
        import json

        # Streamed in batches: a listing of 100,000 repositories is not held twice as text,
        # and the encoder's millions of small pieces do not cost a write call each.
        batch: list[str] = []
        for piece in json.JSONEncoder(indent=2).iterencode({"schema": SCHEMA, **document}):
            batch.append(piece)
            if len(batch) >= JSON_PIECES_PER_WRITE:
                sys.stdout.write("".join(batch))
                batch.clear()
        batch.append("\n")
        sys.stdout.write("".join(batch))
        sys.stdout.flush()

    def error(self, error: DtrctlError) -> None:
        if self.is_json:
            self.print_json({"error": error.to_dict()})
        # The message often quotes the server: one line, whatever it holds.
        message = f"Error: {safe_text(error.message)}"
        if error.hint:
            message += f"\n{safe_lines(error.hint)}"
        print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        """A warning on stderr, once per run."""
        if message in self.warned:
            return
        self.warned.add(message)
        print(f"Warning: {safe_lines(message)}", file=sys.stderr, flush=True)

    def info(self, message: str) -> None:
        """A summary, note or progress line on stderr; --quiet drops it unless it reports a
        failure."""
        if self.quiet and not message.startswith(ALWAYS_SHOWN_PREFIXES):
            return
        print(safe_lines(message), file=sys.stderr, flush=True)


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """CSV on stdout, the one writer of every command's `-o csv`: booleans as true/false, None
    empty, and text through `csv_cell` (server text is data: never a spreadsheet formula)."""
    import csv

    from dtrctl.text import csv_cell

    def cell(value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        return csv_cell(value) if isinstance(value, str) else value

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell(value) for value in row] for row in rows)
