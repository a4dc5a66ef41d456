"""Policy files, the plans made from them, and the immutability audit."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from dtrctl.errors import ExitCode, UsageError
from dtrctl.records.changes import RepositorySettings, SettingsChange
from dtrctl.records.repository import Repository
from dtrctl.reference import RepositoryName
from dtrctl.repos.policy import (
    FieldChange,
    audit_immutability,
    audit_junit_xml,
    parse_policy,
    plan_policy,
)
from dtrctl.repos.selection import parse_pattern

API = RepositoryName("engineering", "api")
WEB = RepositoryName("engineering", "web")

POLICY = """\
# Release repositories must be immutable.
[defaults]
immutable = true
visibility = "private"

[[repository]]
name = "engineering/api"
description = "API service"

[[repository]]
name = "engineering/web"
immutable = false
"""


def problems(text: str) -> list[str]:
    with pytest.raises(UsageError) as raised:
        parse_policy(text, "policy.toml")
    assert raised.value.exit_code == ExitCode.USAGE
    return raised.value.message.splitlines()


def test_entries_take_defaults_and_override_them():
    policy = parse_policy(POLICY, "policy.toml")
    assert [entry.name for entry in policy.entries] == [API, WEB]
    assert policy.entries[0].settings == RepositorySettings(
        immutable=True, visibility="private", short_description="API service"
    )
    assert policy.entries[1].settings == RepositorySettings(immutable=False, visibility="private")
    assert [entry.line for entry in policy.entries] == [6, 10]


def test_settings_not_given_stay_unset():
    policy = parse_policy('[[repository]]\nname = "ci/builder"\n', "p.toml")
    assert policy.entries[0].settings == RepositorySettings()


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("immutible = true", "policy.toml:3: unknown key 'immutible' in repository ci/builder"),
        ('immutable = "yes"', "policy.toml:3: repository ci/builder: immutable must be true"),
        ('visibility = "internal"', "policy.toml:3: repository ci/builder: visibility must be"),
        (f'description = "{"x" * 141}"', "policy.toml:3: repository ci/builder: the description"),
        ("tag_limit = -1", "policy.toml:3: repository ci/builder: tag_limit cannot be negative"),
        ("tag_limit = true", "policy.toml:3: repository ci/builder: tag_limit must be a whole"),
        ('scan_on_push = "yes"', "policy.toml:3: repository ci/builder: scan_on_push must be"),
        ("long_description = 1", "policy.toml:3: repository ci/builder: long_description must"),
        ("immutable = true\ntag_limit = 5", "policy.toml:1: repository ci/builder: --immutable"),
        ('match = "ci/*"', "policy.toml:3: repository entry 1 has both name and match"),
    ],
)
def test_bad_values_are_reported_with_file_and_line(entry, expected):
    [message] = problems(f'[[repository]]\nname = "ci/builder"\n{entry}\n')
    assert message.startswith(expected)


def test_every_problem_is_reported_in_line_order():
    text = """\
[[repository]]
name = "Engineering/api"

[[repository]]
name = "ci/builder"

[[repository]]
visibility = "public"

[[repository]]
name = "ci/builder"
tag_limt = 3
"""
    assert problems(text) == [
        "policy.toml:2: invalid namespace 'Engineering' in 'Engineering/api'",
        "policy.toml:7: repository entry 3 has no name (or match pattern)",
        "policy.toml:11: repository ci/builder is listed twice (first at line 5)",
        "policy.toml:12: unknown key 'tag_limt' in repository ci/builder "
        "(known keys: name, match, immutable, visibility, description, long_description, "
        "scan_on_push, tag_limit)",
    ]


def test_invalid_toml_names_the_line():
    [message] = problems('[[repository]]\nname = "ci/builder\n')
    assert message.startswith("policy.toml:2: invalid TOML")


def test_unknown_sections_and_bad_defaults_are_reported():
    lines = problems("[default]\nimmutable = true\n\n[defaults]\nimmutable = 1\n")
    assert lines[0].startswith("policy.toml:1: unknown key 'default'")
    assert lines[1].startswith("policy.toml:5: [defaults]: immutable must be true or false")


def test_a_policy_without_repositories_is_refused():
    assert problems("[defaults]\nimmutable = true\n") == [
        "policy.toml: the policy names no repository: add [[repository]] sections"
    ]


def test_plan_creates_missing_updates_different_and_leaves_the_rest():
    policy = parse_policy(
        POLICY + '\n[[repository]]\nname = "ci/builder"\nimmutable = true\n', "policy.toml"
    )
    current = {
        API: None,
        WEB: Repository("engineering", "web", immutable=True, visibility="public"),
        RepositoryName("ci", "builder"): Repository("ci", "builder", immutable=True),
    }
    plan = plan_policy(policy, current)
    create, update, unchanged = plan.changes
    assert create.action == "create"
    assert create.fields == (
        FieldChange("immutable", None, True),
        FieldChange("visibility", None, "private"),
        FieldChange("description", None, "API service"),
    )
    assert update.action == "update"
    assert update.fields == (
        FieldChange("immutable", True, False),
        FieldChange("visibility", "public", "private"),
    )
    assert update.turns_immutability_off
    assert unchanged.action == "unchanged" and unchanged.fields == ()
    assert plan.to_apply() == [
        SettingsChange(API, policy.entries[0].settings, create=True),
        SettingsChange(WEB, policy.entries[1].settings, create=False),
    ]


def test_plan_leaves_settings_the_policy_does_not_give():
    policy = parse_policy('[[repository]]\nname = "engineering/api"\n', "p.toml")
    current = {API: Repository("engineering", "api", visibility="public", short_description="x")}
    plan = plan_policy(policy, current)
    assert plan.changes[0].action == "unchanged"
    assert not plan.has_changes


def test_plan_shows_the_tag_limit_cleared_by_immutability():
    policy = parse_policy('[[repository]]\nname = "engineering/api"\nimmutable = true\n', "p")
    plan = plan_policy(policy, {API: Repository("engineering", "api", tag_limit=10)})
    assert plan.changes[0].fields == (
        FieldChange("immutable", False, True),
        FieldChange("tag_limit", 10, 0),
    )
    assert not plan.changes[0].turns_immutability_off


def test_plan_against_the_state_it_produced_is_empty():
    policy = parse_policy(POLICY, "policy.toml")
    applied = {
        entry.name: entry.settings.apply_to(Repository(entry.name.namespace, entry.name.name))
        for entry in policy.entries
    }
    assert not plan_policy(policy, applied).has_changes


REPOSITORIES = [
    Repository("engineering", "release-api"),
    Repository("engineering", "release-web", immutable=True),
    Repository("engineering", "scratch"),
    Repository("ci", "builder"),
]


def test_audit_requires_every_repository_by_default():
    report = audit_immutability(REPOSITORIES)
    assert [item.repository.full_name for item in report.drift] == [
        "engineering/release-api",
        "engineering/scratch",
        "ci/builder",
    ]
    assert {item.rule for item in report.drift} == {"*/*"}


def test_audit_drift_is_what_a_rule_requires_and_names_the_rule():
    rules = [parse_pattern("engineering/release-*"), parse_pattern("ci/builder")]
    report = audit_immutability(REPOSITORIES, rules)
    assert [(item.repository.full_name, item.rule) for item in report.drift] == [
        ("engineering/release-api", "engineering/release-*"),
        ("ci/builder", "ci/builder"),
    ]
    assert len(report.checked) == 4
    assert [item.repository.name for item in report.unfixed({"ci/builder"})] == ["release-api"]


def test_junit_has_a_case_per_checked_repository_and_fails_unfixed_drift():
    report = audit_immutability(REPOSITORIES, [parse_pattern("engineering/release-*")])
    suites = ElementTree.fromstring(audit_junit_xml(report))
    cases = suites.findall("testsuite/testcase")
    assert [case.get("name") for case in cases] == [r.full_name for r in REPOSITORIES]
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    assert failed == ["engineering/release-api"]
    assert [suite.get("failures") for suite in suites.iter("testsuite")] == ["1"]
    fixed = ElementTree.fromstring(audit_junit_xml(report, {"engineering/release-api"}))
    assert [suite.get("failures") for suite in fixed.iter("testsuite")] == ["0"]
    assert not fixed.findall("testsuite/testcase/failure")


def test_match_entries_cover_listed_repositories_an_exact_entry_does_not_name():
    from dtrctl.repos.policy_patterns import expand

    policy = parse_policy(
        '[[repository]]\nname = "engineering/release-1"\nimmutable = false\n'
        '[[repository]]\nmatch = "*/release-*"\nimmutable = true\n'
        '[[repository]]\nmatch = "engineering/*"\nvisibility = "public"\n',
        "policy.toml",
    )
    listed = [
        Repository("engineering", "release-1"),
        Repository("engineering", "release-2"),
        Repository("engineering", "web"),
        Repository("library", "tools"),
    ]
    coverage = expand(policy, listed, report_unmanaged=True)
    settings = {str(entry.name): entry.settings for entry in coverage.policy.entries}
    assert settings["engineering/release-1"].immutable is False
    assert settings["engineering/release-2"] == RepositorySettings(immutable=True)
    assert settings["engineering/web"] == RepositorySettings(visibility="public")
    assert coverage.unmanaged == ("library/tools",)
    assert coverage.warnings == ()
