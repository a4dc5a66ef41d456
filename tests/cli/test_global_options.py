"""Global options before or after the command, as kubectl and gh accept them."""

from __future__ import annotations

from typing import Any

import pytest

from dtrctl.cli.global_options import OptionNames, rearrange
from tests.cli.conftest import repository_body

pytestmark = pytest.mark.usefixtures("dtr_env")

OTHER_URL = "https://other.test"


def test_verbose_after_the_command_logs_requests(dtr: Any, cli: Any) -> None:
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    result = cli("repo", "show", "engineering/api", "-v")
    assert result.exit_code == 0, result.stderr
    assert "> GET https://dtr.test/api/v0/repositories/engineering/api" in result.stderr


def test_url_after_the_command_is_the_dtr_used(cli: Any, monkeypatch: Any) -> None:
    import respx

    monkeypatch.delenv("DTRCTL_URL")
    with respx.mock(base_url=OTHER_URL) as other:
        route = other.get("/api/v0/repositories").respond(200, json={"repositories": []})
        result = cli("repo", "list", "--url", OTHER_URL, "-o", "json")
        assert result.exit_code == 0, result.stderr
        assert route.called
    with respx.mock(base_url=OTHER_URL) as other:
        route = other.get("/api/v0/repositories").respond(200, json={"repositories": []})
        assert cli("repo", "list", f"--url={OTHER_URL}").exit_code == 0
        assert route.called


def test_output_before_the_command_reaches_the_command(dtr: Any, cli: Any) -> None:
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    result = cli("-o", "json", "repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert result.json()["repository"]["name"] == "api"


def test_an_option_the_command_does_not_have_is_still_a_usage_error(cli: Any) -> None:
    result = cli("repo", "show", "engineering/api", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_values_after_end_of_options_are_not_moved(dtr: Any, cli: Any) -> None:
    # `--` ends the options: a repository literally named like an option is an operand.
    result = cli("repo", "show", "--", "-v")
    assert result.exit_code == 2
    assert "-v" in result.stderr
    assert not dtr.calls


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["repo", "set-immutable", "engineering/api", "--on", "--off"], "--on and --off"),
        (["repo", "list", "--immutable", "--mutable"], "--mutable and --immutable"),
    ],
)
def test_contradictory_flags_exit_2_before_any_request(
    dtr: Any, cli: Any, arguments: list[str], named: str
) -> None:
    result = cli(*arguments)
    assert result.exit_code == 2
    assert f"{named} contradict each other" in result.stderr
    assert not dtr.calls


def test_the_same_flag_twice_is_not_a_contradiction(dtr: Any, cli: Any) -> None:
    dtr.get("/api/v0/repositories").respond(200, json={"repositories": []})
    assert cli("repo", "list", "--mutable", "--mutable").exit_code == 0


GLOBALS = OptionNames(frozenset({"--url", "-v", "--profile"}), frozenset({"--url", "--profile"}))
COMMANDS = {"repo", "login"}


def leaf(path: Any) -> OptionNames:
    if list(path) == ["login"]:
        return OptionNames(frozenset({"--profile", "-o"}), frozenset({"--profile", "-o"}))
    return OptionNames(frozenset({"-o"}), frozenset({"-o"}))


def is_group(path: Any) -> bool:
    return list(path) == ["repo"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("repo show x/y -v", "-v repo show x/y"),
        ("repo -v show x/y --url U", "-v --url U repo show x/y"),
        ("-o json repo show x/y", "repo show x/y -o json"),
        ("--url U repo show x/y -o json", "--url U repo show x/y -o json"),
        # The command's own --profile stays; the global -v moves.
        ("login --profile p -v", "-v login --profile p"),
        # An option value that looks like a global option is the value.
        ("repo create x/y -o -v", "repo create x/y -o -v"),
        ("repo show -- -v", "repo show -- -v"),
        # A value-taking option at the end without its value is left where it is.
        ("repo show x/y --url", "repo show x/y --url"),
        ("--help", "--help"),
        ("nosuch -v", "nosuch -v"),
    ],
)
def test_rearrange(given: str, expected: str) -> None:
    assert rearrange(given.split(), GLOBALS, COMMANDS, leaf, is_group) == expected.split()


def test_dtrctl_output_csv_falls_back_to_text_where_there_is_no_csv(
    dtr: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DTRCTL_OUTPUT", "csv")
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    shown = cli("repo", "show", "engineering/api")
    assert shown.exit_code == 0, shown.stderr
    assert "Immutable tags:" in shown.stdout
    dtr.get("/api/v0/repositories").respond(200, json={"repositories": [repository_body()]})
    listed = cli("repo", "list")
    assert listed.stdout.startswith("repository,immutable,")
    # What the command line says still counts, and an unknown format is still an error.
    assert cli("repo", "show", "engineering/api", "-o", "json").json()["repository"]
    monkeypatch.setenv("DTRCTL_OUTPUT", "yaml")
    assert cli("repo", "show", "engineering/api").exit_code == 2
