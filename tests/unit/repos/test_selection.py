"""Selections: parsing names, patterns and name lists, and resolving them against a listing."""

from __future__ import annotations

import pytest

from dtrctl.errors import ExitCode, UsageError
from dtrctl.records.repository import Repository
from dtrctl.reference import RepositoryName
from dtrctl.repos.bulk import resolve_selection
from dtrctl.repos.selection import parse_name_list, parse_pattern, parse_selection

LISTING = [
    Repository("ci", "builder"),
    Repository("engineering", "api", immutable=True),
    Repository("engineering", "app-web"),
    Repository("engineering", "app-worker"),
    Repository("engineering", "scratch"),
    Repository("library", "app-base"),
]


def names(resolution) -> list[str]:
    return [str(name) for name in resolution.names]


def test_exact_names_need_no_listing():
    selection = parse_selection(["engineering/api", "ci/builder"])
    assert selection.listing_scopes() == ()
    resolution = selection.resolve([])
    assert names(resolution) == ["engineering/api", "ci/builder"]
    assert resolution.listed == {}


def test_patterns_with_literal_namespaces_list_only_those_namespaces():
    selection = parse_selection(
        ["engineering/app-*", "library/*", "engineering/api"], namespaces=["ci"]
    )
    assert selection.listing_scopes() == ("engineering", "library", "ci")


@pytest.mark.parametrize("pattern", ["*/app-*", "eng*/api", "?i/builder", "[ce]*/*"])
def test_a_wildcard_namespace_needs_the_global_listing(pattern):
    assert parse_selection([pattern, "library/*"]).listing_scopes() == (None,)


def test_patterns_match_namespace_and_name_separately():
    resolution = parse_selection(["*/app-*"]).resolve(LISTING)
    assert names(resolution) == [
        "engineering/app-web",
        "engineering/app-worker",
        "library/app-base",
    ]


def test_question_mark_and_character_classes():
    resolution = parse_selection(["engineering/app-w[o]rker", "c?/*"]).resolve(LISTING)
    assert names(resolution) == ["ci/builder", "engineering/app-worker"]


def test_exclusions_apply_to_patterns_and_exact_names():
    selection = parse_selection(
        ["engineering/*", "ci/builder"], excludes=["engineering/app-*", "ci/builder"]
    )
    resolution = selection.resolve(LISTING)
    assert names(resolution) == ["engineering/api", "engineering/scratch"]
    assert resolution.unused_excludes == ()


def test_listing_order_is_kept_and_duplicates_collapse():
    selection = parse_selection(["engineering/app-*", "*/app-web", "engineering/app-web"])
    assert names(selection.resolve(LISTING)) == ["engineering/app-web", "engineering/app-worker"]


def test_listed_state_is_kept_for_selected_repositories_only():
    resolution = parse_selection(["engineering/a*"]).resolve(LISTING)
    assert resolution.listed[RepositoryName("engineering", "api")].immutable is True
    assert RepositoryName("ci", "builder") not in resolution.listed


def test_exact_names_missing_from_the_listing_are_still_selected_last():
    resolution = parse_selection(["engineering/gone", "engineering/app-*"]).resolve(LISTING)
    assert names(resolution) == [
        "engineering/app-web",
        "engineering/app-worker",
        "engineering/gone",
    ]


def test_patterns_and_exclusions_that_match_nothing_are_reported():
    selection = parse_selection(
        ["engineering/app-*", "engneering/*"], excludes=["engineering/legacy-*"]
    )
    resolution = selection.resolve(LISTING)
    assert resolution.unmatched_patterns == ("engneering/*",)
    assert resolution.unused_excludes == ("engineering/legacy-*",)
    assert resolution.warnings() == [
        "pattern 'engneering/*' matched no repository",
        "--exclude 'engineering/legacy-*' excluded no repository",
    ]


def test_bare_namespace_when_asked_for():
    selection = parse_selection(["engineering", "lib*"], bare_is_namespace=True)
    assert [pattern.text for pattern in selection.patterns] == ["engineering/*", "lib*/*"]


@pytest.mark.parametrize(
    "bad",
    ["engineering", "Engineering/*", "a/b/c", "engineering/", "*", "engineering/api:1.0", "e g/*"],
)
def test_invalid_selections_are_usage_errors(bad):
    with pytest.raises(UsageError) as raised:
        parse_selection([bad])
    assert raised.value.exit_code == ExitCode.USAGE


def test_invalid_namespace_option_and_exclude_are_usage_errors():
    with pytest.raises(UsageError):
        parse_selection(namespaces=["Bad"])
    with pytest.raises(UsageError):
        parse_selection(["ci/*"], excludes=["ci"])


def test_an_exact_pattern_matches_only_its_repository():
    pattern = parse_pattern("engineering/api")
    assert pattern.matches("engineering", "api")
    assert not pattern.matches("engineering", "api2")
    assert pattern.literal_namespace == "engineering"


def test_name_list_ignores_blank_lines_and_comments():
    text = "# release repositories\n\nengineering/api\n  ci/builder   # the builder\n"
    assert parse_name_list(text, "repos.txt") == [
        RepositoryName("engineering", "api"),
        RepositoryName("ci", "builder"),
    ]


@pytest.mark.parametrize("line", ["engineering/*", "Engineering/api", "api", "a/b/c"])
def test_name_list_names_file_and_line_of_an_invalid_entry(line):
    with pytest.raises(UsageError) as raised:
        parse_name_list(f"engineering/api\n# ok\n{line}\n", "repos.txt")
    assert raised.value.message.startswith("repos.txt:3: ")


class RecordingLister:
    def __init__(self) -> None:
        self.scopes: list[str | None] = []

    def list_repositories(self, namespace: str | None = None):
        self.scopes.append(namespace)
        return [r for r in LISTING if namespace is None or r.namespace == namespace]


@pytest.mark.parametrize(
    ("arguments", "scopes"),
    [
        (["engineering/api"], []),
        (["engineering/app-*", "library/*"], ["engineering", "library"]),
        (["*/app-*"], [None]),
    ],
)
def test_resolving_lists_only_what_the_selection_needs(arguments, scopes):
    lister = RecordingLister()
    resolve_selection(lister, parse_selection(arguments))
    assert lister.scopes == scopes


def test_a_pattern_selects_a_nested_harbor_repository_and_many_wildcards_end_at_once() -> None:
    """On Harbor `engineering/team/app` is repository `team/app` of project `engineering`."""
    nested = [Repository("engineering", "team/app"), Repository("engineering", "a" * 60)]
    selection = parse_selection(["engineering/*"])
    assert selection.resolve(nested).names[0] == RepositoryName("engineering", "team/app")
    slow_for_a_regex = parse_selection(["engineering/a*a*a*a*a*a*a*a*a*b"])
    assert slow_for_a_regex.resolve(nested).names == ()
