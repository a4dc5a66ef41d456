"""`-v` through the CLI: the credential lookup and every request on stderr, secrets redacted;
without it, none of those lines (not even the lookup's warnings)."""

from __future__ import annotations

from typing import Any

import pytest
import respx

from tests.cli.conftest import repository_body

pytestmark = pytest.mark.usefixtures("dtr_env")

SHOW = ("repo", "show", "engineering/api")
REQUEST = "GET https://dtr.test/api/v0/repositories/engineering/api"


@pytest.fixture
def api(dtr: respx.MockRouter) -> respx.MockRouter:
    dtr.get("/api/v0/repositories/engineering/api").respond(200, json=repository_body())
    return dtr


@pytest.mark.usefixtures("api")
@pytest.mark.parametrize("how", ["-v", "--verbose", "DTRCTL_VERBOSE"])
def test_verbose_shows_the_credential_lookup_and_each_request(
    cli: Any, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "DTRCTL_VERBOSE":
        monkeypatch.setenv("DTRCTL_VERBOSE", "1")
        result = cli(*SHOW)
    else:
        result = cli(how, *SHOW)
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert any(line.startswith("credentials: username 'admin' from ") for line in lines)
    assert "credentials: secret from DTRCTL_PASSWORD" in lines
    assert "credentials: using env for user admin" in lines
    assert f"> {REQUEST}" in lines
    assert f"< 200 {REQUEST}" in lines
    assert any(line.endswith("Authorization: Basic [redacted]") for line in lines)
    assert "s3cret-token" not in result.stderr + result.stdout


@pytest.mark.usefixtures("api")
def test_without_verbose_stderr_has_none_of_those_lines(cli: Any) -> None:
    verbose = cli("-v", *SHOW)
    assert "credentials:" in verbose.stderr
    result = cli(*SHOW)  # after a verbose run in the same process
    assert result.exit_code == 0
    assert result.stdout == verbose.stdout
    assert result.stderr == ""


@pytest.mark.usefixtures("api")
def test_a_lookup_warning_shows_only_under_verbose(
    cli: Any, monkeypatch: pytest.MonkeyPatch, isolated_environment: Any
) -> None:
    # No credential at all (a named user without a secret would be exit 3): an anonymous read.
    monkeypatch.delenv("DTRCTL_PASSWORD")
    monkeypatch.delenv("DTRCTL_USERNAME")
    docker_dir = isolated_environment / ".docker"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text("{not json", encoding="utf-8")
    quiet = cli(*SHOW)
    assert quiet.exit_code == 0
    assert "config.json" not in quiet.stderr
    assert "credentials:" not in quiet.stderr
    verbose = cli("-v", *SHOW)
    assert verbose.exit_code == 0
    assert (
        f"credentials: warning: docker: {docker_dir / 'config.json'} is not valid JSON (line 1), "
        "ignored"
    ) in verbose.stderr.splitlines()
    assert "credentials: using none (anonymous)" in verbose.stderr.splitlines()


def test_verbose_lines_escape_server_text() -> None:
    import logging

    from dtrctl.cli.logs import VerboseFormatter

    record = logging.LogRecord(
        "dtrctl.client", logging.DEBUG, "", 0, "< 500 \x1b]52;c;x\x07\n::error::x", None, None
    )
    line = VerboseFormatter().format(record)
    assert "\x1b" not in line and "\x07" not in line
    assert not any(part.startswith("::") for part in line.splitlines())
