"""One output object per command: data to stdout, everything else to stderr.

`-o json` prints exactly one versioned document (`"schema": "dtrctl/v1"`), also on failure.
Rich is imported only when human output is actually rendered.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dtrctl.errors import DtrctlError

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA = "dtrctl/v1"
JSON_PIECES_PER_WRITE = 4096


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class ListFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


def _make_console(stream: Any) -> Console:
    from rich.console import Console

    terminal = stream.isatty()
    # Off a terminal: no colour, no wrapping of long names, nothing animated.
    return Console(
        file=stream,
        no_color=not terminal or "NO_COLOR" in os.environ,
        width=None if terminal else 10_000,
        soft_wrap=not terminal,
        highlight=False,
        emoji=False,
    )


class Output:
    def __init__(self, fmt: str = "text", *, verbose: bool = False) -> None:
        self.format = fmt
        self.verbose = verbose
        self.warned: set[str] = set()

    @property
    def is_json(self) -> bool:
        return self.format == "json"

    @cached_property
    def console(self) -> Console:
        return _make_console(sys.stdout)

    @cached_property
    def err_console(self) -> Console:
        return _make_console(sys.stderr)

    @property
    def stderr_is_terminal(self) -> bool:
        return sys.stderr.isatty()

    def emit(self, document: dict[str, Any], render_text: Callable[[Console], None]) -> None:
        """Print a command's result: the JSON document, or its human rendering."""
        if self.is_json:
            self.print_json(document)
        else:
            render_text(self.console)

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
        message = f"Error: {error.message}"
        if error.hint:
            message += f"\n{error.hint}"
        print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        """A warning on stderr, once per run."""
        if message in self.warned:
            return
        self.warned.add(message)
        print(f"Warning: {message}", file=sys.stderr, flush=True)

    def info(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def log(self, message: str) -> None:
        """Verbose diagnostics (-v) on stderr."""
        if self.verbose:
            print(message, file=sys.stderr, flush=True)
