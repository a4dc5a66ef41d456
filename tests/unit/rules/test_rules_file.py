"""Offline rules files: what `GET /projects/P/immutabletagrules` answers, one page or several."""

from __future__ import annotations

import json

import pytest

from dtrctl.backends.harbor.rules import canonical_rule
from dtrctl.errors import ExitCode, UsageError
from dtrctl.rules.rules_file import parse_rules


def page(*ids: int) -> str:
    return json.dumps([{"id": i, **canonical_rule(f"app{i}").to_api()} for i in ids])


def test_pages_one_after_another_are_one_list() -> None:
    rules = parse_rules(page(1, 2) + "\n" + page(3), "f")
    assert [rule.id for rule in rules] == [1, 2, 3]
    assert rules[2].repository_selectors[0].pattern == "app3"


def test_an_empty_project_is_an_empty_array() -> None:
    assert parse_rules(" [] ", "f") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no rules array"),
        ("{}", "not a JSON array"),
        ("[1]", "rule that is a number"),
        ("[{}] x", "is not JSON"),
        ('[{"id": "1"}]', "'id' is a string"),
        ("[" * 100_000, "is not JSON"),
    ],
)
def test_anything_else_is_a_usage_error(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        parse_rules(text, "rules file f")
    assert raised.value.exit_code == ExitCode.USAGE
