"""A Harbor repository's immutability in words: `all`, `some (v* by rule 4)`, `none`,
`unknown`, as text output shows it."""

from __future__ import annotations

from dataclasses import replace

from dtrctl.backends.harbor.repository_record import immutability_summary, repository_record
from dtrctl.backends.harbor.rules import TAG_EXCLUDES, Selector, repository_immutability
from tests.unit.backends.test_harbor_backend import pattern_rule


def summary(*rules: object, path: str = "team/app") -> str:
    return immutability_summary(repository_immutability(rules, path))  # type: ignore[arg-type]


def test_every_level_in_words_with_the_rules() -> None:
    assert summary(pattern_rule(1, "team/app")) == "all (by rule 1)"
    assert summary(pattern_rule(4, "team/**", "v*")) == "some (v* by rule 4)"
    assert summary(pattern_rule(4, "team/**", "v*"), pattern_rule(6, "**", "1.*")) == (
        "some (v* by rule 4; 1.* by rule 6)"
    )
    assert summary(pattern_rule(2, "other")) == "none"
    excludes = replace(
        pattern_rule(5, "**"), tag_selectors=(Selector("doublestar", TAG_EXCLUDES, "dev"),)
    )
    assert summary(excludes) == "some (all but dev by rule 5)"


def test_a_broken_rule_says_where_harbor_stops() -> None:
    text = summary(pattern_rule(3, "[", "**"))
    assert text.startswith("none (Harbor stops at rule 3: ")


def test_rules_that_cannot_be_read_make_a_record_of_unknown_immutability() -> None:
    record = repository_record("library", "app", "user bob may not list the rules")
    document = record.to_json()
    assert (document["immutable"], document["immutability"]) == (None, "unknown")
    assert document["immutability_note"] == "user bob may not list the rules"
