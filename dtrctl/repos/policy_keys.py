"""Policy keys the registry has no setting for: refused when the plan is made, with the file
and line of each, so that `apply --dry-run` shows only what `apply` can do. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dtrctl.errors import UsageError
from dtrctl.tomlfile import TomlLines, parse_toml

Block = tuple[str | int, ...]


def _blocks(data: dict[str, Any], lines: TomlLines) -> Iterable[tuple[Block, Any, int | None]]:
    """`[defaults]` and each `[[repository]]`: path, table and the line of its header."""
    yield ("defaults",), data.get("defaults"), lines.table("defaults")
    entries = data.get("repository")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        yield ("repository", index), entry, lines.entry("repository", index)


def refuse_unsupported(
    text: str, source: str, unsupported: Iterable[tuple[str, str]], registry: str
) -> None:
    """A UsageError naming every `key` of `unsupported` ((key, why) pairs) the policy file
    sets, in `[defaults]` or an entry, each with its file and line; nothing when none is set."""
    data = parse_toml(text)  # already parsed once: valid
    lines = TomlLines(text)
    problems: list[tuple[int, str]] = []
    for block, table, header in _blocks(data, lines):
        for key, why in unsupported:
            if not isinstance(table, dict) or key not in table:
                continue
            line = lines.key(key, *block) or header
            where = f"{source}:{line}" if line is not None else source
            problems.append((line or 0, f"{where}: {key} does not apply on {registry}: {why}"))
    if problems:
        raise UsageError(
            "\n".join(message for _, message in sorted(problems)),
            hint=f"Remove these keys from the policy file for {registry}; nothing was changed",
        )
