"""A file of Harbor rules for offline `explain` and `rules lint`: the JSON array
`GET /projects/{p}/immutabletagrules` lists, or several pages of it one after another."""

from __future__ import annotations

import json

from dtrctl.backends.harbor.rules import ImmutableRule
from dtrctl.errors import InvalidResponse, UsageError
from dtrctl.files import POLICY_FILE_LIMIT, read_text_bounded

_JSON_LIMITS = (ValueError, RecursionError)


def parse_rules(text: str, source: str) -> list[ImmutableRule]:
    """Every rule of the arrays in `text`, in order; any other JSON is a usage error."""
    decoder = json.JSONDecoder()
    rules: list[ImmutableRule] = []
    index, pages = 0, 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            page, index = decoder.raw_decode(text, index)
        except _JSON_LIMITS as error:
            raise UsageError(f"{source} is not JSON: {error}") from None
        pages += 1
        if not isinstance(page, list):
            raise UsageError(
                f"{source}: page {pages} is not a JSON array of rules",
                hint="Save what GET /api/v2.0/projects/P/immutabletagrules answers",
            )
        try:
            rules += [ImmutableRule.from_api(item) for item in page]
        except InvalidResponse as error:
            raise UsageError(
                f"{source}: {error.message.replace('Harbor sent', 'it has')}"
            ) from None
    if not pages:
        raise UsageError(f"{source} holds no rules array", hint="An empty project is []")
    return rules


def read_rules_file(path: str) -> list[ImmutableRule]:
    """The rules of `path` ("-": standard input), bounded in size."""
    try:
        text = read_text_bounded(path, POLICY_FILE_LIMIT, "rules file")
    except UnicodeDecodeError:
        raise UsageError(f"rules file {path} is not UTF-8") from None
    except OSError as error:
        raise UsageError(f"cannot read rules file {path}: {error.strerror or error}") from None
    return parse_rules(text, f"rules file {path}")
