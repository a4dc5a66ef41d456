from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dtrctl.auth.credential import Credential
from dtrctl.auth.docker_config import DockerLookup, find_docker_credential
from dtrctl.errors import CredentialSourceTimeout, CredentialSourceUnusable, UsageError

if TYPE_CHECKING:
    from tests.unit.conftest import IsolatedEnv

pytestmark = pytest.mark.usefixtures("isolated_env")

HOST = "dtr.example.com"
SECRET = "helper-s3cret"


def basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def write_docker_config(isolated_env: IsolatedEnv, document: dict[str, Any]) -> Path:
    isolated_env.docker_dir.mkdir(exist_ok=True)
    path = isolated_env.docker_dir / "config.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def write_helper(
    isolated_env: IsolatedEnv,
    *,
    answers: dict[str, str],
    name: str = "dtrtest",
    failure: str = "credentials not found in native keychain",
) -> Path:
    """A fake docker-credential-NAME: prints answers[server URL] or fails with `failure`.

    Every server URL it is asked for is appended to the returned log file.
    """
    log = isolated_env.bin_dir / f"{name}.log"
    cases = "\n".join(
        f"  {json.dumps(server)}) printf '%s' {_shell_quote(answer)} ;;"
        for server, answer in answers.items()
    )
    script = isolated_env.bin_dir / f"docker-credential-{name}"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 3\n'
        "IFS= read -r server || true\n"
        f"printf '%s\\n' \"$server\" >> {_shell_quote(str(log))}\n"
        'case "$server" in\n'
        f"{cases}\n"
        f"  *) printf '%s\\n' {_shell_quote(failure)}; exit 1 ;;\n"
        "esac\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return log


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def helper_answer(username: str, secret: str) -> str:
    return json.dumps({"ServerURL": HOST, "Username": username, "Secret": secret})


def asked(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


Lookup = Callable[..., tuple[DockerLookup, list[str]]]


@pytest.fixture
def lookup(caplog: pytest.LogCaptureFixture) -> Lookup:
    """The lookup, and what it logged as `-v` shows it (warnings prefixed "warning: ")."""

    def run(
        host: str = HOST, environ: dict[str, str] | None = None
    ) -> tuple[DockerLookup, list[str]]:
        caplog.clear()
        caplog.set_level(logging.DEBUG, logger="dtrctl.auth")
        result = find_docker_credential(host, environ=environ)
        notes = [
            f"warning: {record.getMessage()}"
            if record.levelno >= logging.WARNING
            else record.getMessage()
            for record in caplog.records
        ]
        return result, notes

    return run


def warnings(notes: list[str]) -> list[str]:
    return [note for note in notes if note.startswith("warning:")]


# auths


def test_no_docker_config_is_no_credential(lookup: Lookup) -> None:
    result, notes = lookup()
    assert result == DockerLookup()
    assert not warnings(notes)


def test_auths_entry_with_base64_auth(lookup: Lookup, isolated_env: IsolatedEnv) -> None:
    write_docker_config(isolated_env, {"auths": {HOST: {"auth": basic("alice", "pa:ss")}}})
    result, _ = lookup()
    assert result.credential == Credential("alice", "pa:ss", "docker-config")


def test_auths_entry_with_username_and_password_fields(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(isolated_env, {"auths": {HOST: {"username": "alice", "password": "pw"}}})
    assert lookup()[0].credential == Credential("alice", "pw", "docker-config")


@pytest.mark.parametrize(
    "key",
    [
        "dtr.example.com",
        "https://dtr.example.com/v1/",
        "http://dtr.example.com:443",
        "https://dtr.example.com",
        "DTR.Example.com",
        "dtr.example.com/some/path",
    ],
)
def test_auths_key_matches_by_host_whatever_scheme_or_path(
    lookup: Lookup, isolated_env: IsolatedEnv, key: str
) -> None:
    write_docker_config(isolated_env, {"auths": {key: {"auth": basic("alice", "pw")}}})
    assert lookup()[0].credential == Credential("alice", "pw", "docker-config")


@pytest.mark.parametrize(
    "key",
    [
        "dtr.example.com:5000",
        "https://dtr.example.com:4443/v1/",
        "other.example.com",
        "dtr.example.com.evil.example",
        "https://index.docker.io/v1/",
        "not a host",
    ],
)
def test_auths_key_for_another_registry_does_not_match(
    lookup: Lookup, isolated_env: IsolatedEnv, key: str
) -> None:
    write_docker_config(isolated_env, {"auths": {key: {"auth": basic("alice", "pw")}}})
    assert lookup()[0].credential is None


def test_auths_key_with_port_matches_host_with_that_port(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(
        isolated_env,
        {
            "auths": {
                HOST: {"auth": basic("no-port", "pw")},
                "https://dtr.example.com:4443": {"auth": basic("port", "pw")},
            }
        },
    )
    assert lookup("dtr.example.com:4443")[0].credential == Credential("port", "pw", "docker-config")
    assert lookup("dtr.example.com:443")[0].credential == Credential(
        "no-port", "pw", "docker-config"
    )


def test_key_spelled_as_the_host_wins_over_other_spellings(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(
        isolated_env,
        {
            "auths": {
                "https://dtr.example.com/v1/": {"auth": basic("old", "pw")},
                HOST: {"auth": basic("current", "pw")},
            }
        },
    )
    assert lookup()[0].credential == Credential("current", "pw", "docker-config")


def test_auths_identity_token_is_reported_not_used(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(
        isolated_env,
        {"auths": {HOST: {"auth": basic("alice", ""), "identitytoken": "refresh-token"}}},
    )
    result, notes = lookup()
    assert result == DockerLookup(identity_token_source="docker-config")
    assert any("identity token" in note for note in notes)
    assert not any("refresh-token" in note for note in notes)


@pytest.mark.parametrize(
    ("entry", "warned"),
    [
        ({"auth": "not base64!"}, True),
        ({"auth": base64.b64encode(b"no-colon").decode()}, True),
        ({"auth": basic("alice", "")}, False),
        ({}, False),
        ("a string", True),
    ],
)
def test_unusable_auths_entries(
    lookup: Lookup, isolated_env: IsolatedEnv, entry: object, warned: bool
) -> None:
    write_docker_config(isolated_env, {"auths": {HOST: entry}})
    result, notes = lookup()
    assert result == DockerLookup()
    assert bool(warnings(notes)) is warned


def test_malformed_config_json_is_a_warning(lookup: Lookup, isolated_env: IsolatedEnv) -> None:
    isolated_env.docker_dir.mkdir()
    (isolated_env.docker_dir / "config.json").write_text("{not json", encoding="utf-8")
    result, notes = lookup()
    assert result == DockerLookup()
    assert any("config.json is not valid JSON" in note for note in warnings(notes))


def test_default_config_is_in_home_dot_docker(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_CONFIG")
    write_docker_config(isolated_env, {"auths": {HOST: {"auth": basic("alice", "pw")}}})
    assert isolated_env.docker_dir == isolated_env.home / ".docker"
    assert lookup()[0].credential == Credential("alice", "pw", "docker-config")


# DOCKER_AUTH_CONFIG


def test_docker_auth_config_comes_before_config_json(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_docker_config(isolated_env, {"auths": {HOST: {"auth": basic("from-file", "pw")}}})
    monkeypatch.setenv(
        "DOCKER_AUTH_CONFIG", json.dumps({"auths": {HOST: {"auth": basic("from-env", "pw")}}})
    )
    assert lookup()[0].credential == Credential("from-env", "pw", "docker-auth-config")


def test_docker_auth_config_without_the_host_falls_back_to_config_json(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_docker_config(isolated_env, {"auths": {HOST: {"auth": basic("from-file", "pw")}}})
    monkeypatch.setenv(
        "DOCKER_AUTH_CONFIG",
        json.dumps({"auths": {"other.example.com": {"auth": basic("x", "y")}}}),
    )
    assert lookup()[0].credential == Credential("from-file", "pw", "docker-config")


def test_malformed_docker_auth_config_is_a_warning_and_skipped(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_docker_config(isolated_env, {"auths": {HOST: {"auth": basic("from-file", "pw")}}})
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", '{"auths": ')
    result, notes = lookup()
    assert result.credential == Credential("from-file", "pw", "docker-config")
    assert any("DOCKER_AUTH_CONFIG is not valid JSON" in note for note in warnings(notes))


def test_explicit_environ_is_used_instead_of_the_process_environment(
    lookup: Lookup, tmp_path: Path
) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {HOST: {"auth": basic("alice", "pw")}}}), encoding="utf-8"
    )
    result, _ = lookup(environ={"DOCKER_CONFIG": str(tmp_path), "PATH": ""})
    assert result.credential == Credential("alice", "pw", "docker-config")


# credential helpers


def test_cred_helper_found(lookup: Lookup, isolated_env: IsolatedEnv) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    log = write_helper(isolated_env, answers={HOST: helper_answer("alice", SECRET)})
    result, notes = lookup()
    assert result.credential == Credential("alice", SECRET, "docker-credential-helper:dtrtest")
    assert asked(log) == [HOST]
    assert not warnings(notes)


def test_helper_is_asked_for_the_host_then_https_url(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(isolated_env, {"credsStore": "dtrtest"})
    log = write_helper(isolated_env, answers={f"https://{HOST}": helper_answer("alice", SECRET)})
    result, _ = lookup()
    assert result.credential == Credential("alice", SECRET, "docker-credential-helper:dtrtest")
    assert asked(log) == [HOST, f"https://{HOST}"]


def test_helper_is_asked_with_the_configs_own_key_first(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    key = "https://dtr.example.com/v1/"
    write_docker_config(isolated_env, {"credHelpers": {key: "dtrtest"}})
    log = write_helper(isolated_env, answers={key: helper_answer("alice", SECRET)})
    assert lookup()[0].credential == Credential("alice", SECRET, "docker-credential-helper:dtrtest")
    assert asked(log) == [key]


def test_creds_store_uses_the_auths_placeholder_key(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    key = "https://dtr.example.com"
    write_docker_config(isolated_env, {"credsStore": "dtrtest", "auths": {key: {}}})
    log = write_helper(isolated_env, answers={key: helper_answer("alice", SECRET)})
    assert lookup()[0].credential is not None
    assert asked(log) == [key]


def test_helper_not_found_is_no_credential_without_warning(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    log = write_helper(isolated_env, answers={})
    result, notes = lookup()
    assert result == DockerLookup()
    assert asked(log) == [HOST, f"https://{HOST}"]
    assert not warnings(notes)


@pytest.mark.parametrize(
    "output",
    [
        "not json " + SECRET,
        json.dumps({"Username": "alice"}),
        json.dumps(["alice", SECRET]),
        json.dumps({"Username": "alice", "Secret": 42}),
    ],
)
def test_malformed_helper_output_is_a_warning_without_the_output(
    lookup: Lookup, isolated_env: IsolatedEnv, output: str
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    write_helper(isolated_env, answers={HOST: output})
    result, notes = lookup()
    assert result == DockerLookup()
    assert any("malformed output" in note for note in warnings(notes))
    assert not any(SECRET in note for note in notes)


def test_helper_missing_from_path_is_a_warning(lookup: Lookup, isolated_env: IsolatedEnv) -> None:
    write_docker_config(isolated_env, {"credsStore": "absent"})
    result, notes = lookup()
    assert result == DockerLookup()
    assert any("docker-credential-absent" in note for note in warnings(notes))


def test_helper_failing_otherwise_is_a_warning_quoting_stderr_only(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    write_script(
        isolated_env,
        "dtrtest",
        f"echo 'error: the keychain is locked' >&2\necho {helper_answer('alice', SECRET)!r}\n"
        "exit 1\n",
    )
    result, notes = lookup()
    assert result == DockerLookup()
    assert any("keychain is locked" in note and "exit 1" in note for note in warnings(notes))
    assert not any(SECRET in note for note in notes)


def test_a_failing_helpers_stdout_is_never_logged(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    write_helper(isolated_env, answers={}, failure=f"cannot unlock: {SECRET}")
    result, notes = lookup()
    assert result == DockerLookup()
    assert any("exit 1" in note and "not shown" in note for note in warnings(notes))
    assert not any(SECRET in note for note in notes)


def write_script(isolated_env: IsolatedEnv, name: str, body: str) -> Path:
    script = isolated_env.bin_dir / f"docker-credential-{name}"
    script.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
    script.chmod(0o755)
    return script


def test_a_helper_that_never_answers_ends_the_lookup_with_exit_5(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    # It holds its pipes open and never exits: only the timeout ends it.
    write_script(isolated_env, "dtrtest", "exec sleep 600\n")
    monkeypatch.setenv("DTRCTL_CREDENTIAL_TIMEOUT", "0.5")
    with pytest.raises(CredentialSourceTimeout) as raised:
        lookup()
    assert raised.value.exit_code == 5
    assert "docker-credential-dtrtest did not answer within 0.5 s" in raised.value.message


@pytest.mark.parametrize(
    "body",
    ['exec yes \'{"Username": "alice"}\'\n', "exec yes error >&2\n"],
    ids=["stdout", "stderr"],
)
def test_a_helper_printing_without_end_is_stopped_at_the_cap_with_exit_3(
    lookup: Lookup, isolated_env: IsolatedEnv, body: str
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    write_script(isolated_env, "dtrtest", body)
    with pytest.raises(CredentialSourceUnusable) as raised:
        lookup()
    assert raised.value.exit_code == 3
    assert "docker-credential-dtrtest printed more than 1 MiB" in raised.value.message


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf", "3601"])
def test_a_bad_credential_timeout_is_a_usage_error(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    write_helper(isolated_env, answers={HOST: helper_answer("alice", SECRET)})
    monkeypatch.setenv("DTRCTL_CREDENTIAL_TIMEOUT", value)
    with pytest.raises(UsageError, match="DTRCTL_CREDENTIAL_TIMEOUT"):
        lookup()


def test_a_helper_answering_within_a_small_timeout_is_used(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    write_helper(isolated_env, answers={HOST: helper_answer("alice", SECRET)})
    monkeypatch.setenv("DTRCTL_CREDENTIAL_TIMEOUT", "20")
    result, _ = lookup()
    assert result.credential == Credential("alice", SECRET, "docker-credential-helper:dtrtest")


@pytest.mark.parametrize("path", ["/dev/zero", "fifo", "directory", "large"])
def test_a_docker_config_that_is_no_small_regular_file_is_exit_3(
    lookup: Lookup, isolated_env: IsolatedEnv, tmp_path: Path, path: str
) -> None:
    docker = tmp_path / "weird-docker"
    docker.mkdir()
    config = docker / "config.json"
    if path == "/dev/zero":
        config.symlink_to("/dev/zero")
    elif path == "fifo":
        os.mkfifo(config)  # nobody ever writes to it
    elif path == "directory":
        config.mkdir()
    else:
        config.write_bytes(b" " * (4 * 1024 * 1024 + 1))
    with pytest.raises(CredentialSourceUnusable) as raised:
        lookup(environ={**os.environ, "DOCKER_CONFIG": str(docker)})
    assert raised.value.exit_code == 3
    assert f"docker's config file {config}" in raised.value.message


def test_invalid_helper_name_is_not_run(lookup: Lookup, isolated_env: IsolatedEnv) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "../../bin/sh"}})
    result, notes = lookup()
    assert result == DockerLookup()
    assert any("invalid" in note for note in warnings(notes))


def test_helper_identity_token_is_reported_not_used(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(isolated_env, {"credHelpers": {HOST: "dtrtest"}})
    write_helper(isolated_env, answers={HOST: helper_answer("<token>", "refresh-token")})
    result, notes = lookup()
    assert result == DockerLookup(identity_token_source="docker-credential-helper:dtrtest")
    assert not any("refresh-token" in note for note in notes)


def test_identity_token_does_not_hide_a_usable_credential(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    write_docker_config(
        isolated_env,
        {"credHelpers": {HOST: "dtrtest"}, "auths": {HOST: {"auth": basic("alice", "pw")}}},
    )
    write_helper(isolated_env, answers={HOST: helper_answer("<token>", "refresh-token")})
    assert lookup()[0].credential == Credential("alice", "pw", "docker-config")


# order inside one config


def test_cred_helpers_then_creds_store_then_auths(
    lookup: Lookup, isolated_env: IsolatedEnv
) -> None:
    document = {
        "credHelpers": {HOST: "first"},
        "credsStore": "second",
        "auths": {HOST: {"auth": basic("third", "pw")}},
    }
    write_docker_config(isolated_env, document)
    write_helper(isolated_env, name="first", answers={HOST: helper_answer("first", "pw")})
    write_helper(isolated_env, name="second", answers={HOST: helper_answer("second", "pw")})
    assert lookup()[0].credential == Credential("first", "pw", "docker-credential-helper:first")

    write_helper(isolated_env, name="first", answers={})
    assert lookup()[0].credential == Credential("second", "pw", "docker-credential-helper:second")

    write_helper(isolated_env, name="second", answers={})
    assert lookup()[0].credential == Credential("third", "pw", "docker-config")


def test_helper_in_docker_auth_config_is_used(
    lookup: Lookup, isolated_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", json.dumps({"credHelpers": {HOST: "dtrtest"}}))
    write_helper(isolated_env, answers={HOST: helper_answer("alice", SECRET)})
    assert lookup()[0].credential == Credential("alice", SECRET, "docker-credential-helper:dtrtest")


def test_invalid_host_is_not_looked_up(lookup: Lookup) -> None:
    result, notes = lookup("not a host")
    assert result == DockerLookup()
    assert any("not a registry host" in note for note in notes)


def test_no_secret_in_notes_or_repr(lookup: Lookup, isolated_env: IsolatedEnv) -> None:
    write_docker_config(
        isolated_env,
        {
            "credHelpers": {HOST: "dtrtest"},
            "auths": {HOST: {"auth": basic("alice", SECRET)}},
        },
    )
    write_helper(isolated_env, answers={})
    result, notes = lookup()
    assert result.credential is not None
    assert result.credential.secret == SECRET
    assert SECRET not in repr(result)
    assert not any(SECRET in note or basic("alice", SECRET) in note for note in notes)
