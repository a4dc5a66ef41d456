from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import null

from dtrctl.auth.secret_store import (
    KeyringUnavailable,
    credentials_path,
    delete_secret,
    get_secret,
    keyring_service,
    keyring_usable,
    store_secret,
)
from dtrctl.config import ConfigError
from dtrctl.errors import (
    CredentialSourceTimeout,
    CredentialSourceUnusable,
    ExitCode,
    UsageError,
)

if TYPE_CHECKING:
    from tests.unit.conftest import InMemoryKeyring, IsolatedEnv

pytestmark = pytest.mark.usefixtures("isolated_env")

SERVICE = "dtrctl:https://dtr.example.com"
SECRET = 's3cret-Δ "quoted" \\ back'


@pytest.fixture
def notes(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """What the secret store logs for `-v`: `notes.messages`."""
    caplog.set_level(logging.DEBUG, logger="dtrctl.auth")
    return caplog


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    "url",
    [
        "https://dtr.example.com",
        "https://dtr.example.com/",
        "HTTPS://DTR.Example.COM",
        "https://dtr.example.com:443",
        "dtr.example.com",
    ],
)
def test_keyring_service_is_one_name_however_the_url_is_spelled(url: str) -> None:
    assert keyring_service(url) == SERVICE


def test_keyring_service_keeps_what_distinguishes_registries() -> None:
    assert keyring_service("https://dtr.example.com:4443") == "dtrctl:https://dtr.example.com:4443"
    assert keyring_service("http://dtr.example.com") == "dtrctl:http://dtr.example.com"
    assert keyring_service("https://[::1]:8443/") == "dtrctl:https://[::1]:8443"


def test_credentials_file_lives_in_the_config_dir(isolated_env: IsolatedEnv) -> None:
    assert credentials_path() == isolated_env.config_dir / "credentials.toml"


# keyring


def test_store_and_get_with_a_keyring(
    isolated_env: IsolatedEnv, in_memory_keyring: InMemoryKeyring
) -> None:
    assert keyring_usable()
    assert store_secret(SERVICE, "alice", SECRET, insecure_storage=False) == "keyring"
    assert in_memory_keyring.passwords == {(SERVICE, "alice"): SECRET}
    assert get_secret(SERVICE, "alice") == (SECRET, "keyring")
    assert not credentials_path().exists()


def test_get_for_another_user_finds_nothing(
    in_memory_keyring: InMemoryKeyring, notes: pytest.LogCaptureFixture
) -> None:
    store_secret(SERVICE, "alice", SECRET, insecure_storage=False)
    assert get_secret(SERVICE, "bob") == (None, "")
    assert any("keyring: no secret for 'bob'" in note for note in notes.messages)


@pytest.mark.usefixtures("failing_keyring")
def test_fail_backend_is_not_usable_and_get_does_not_crash(
    notes: pytest.LogCaptureFixture,
) -> None:
    assert not keyring_usable()
    assert get_secret(SERVICE, "alice") == (None, "")
    assert any("keyring: skipped" in note for note in notes.messages)


def test_null_backend_is_not_usable() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        assert not keyring_usable()
        with pytest.raises(KeyringUnavailable):
            store_secret(SERVICE, "alice", SECRET, insecure_storage=False)
    finally:
        keyring.set_keyring(previous)


@pytest.mark.usefixtures("broken_keyring")
def test_backend_that_raises_is_no_secret_not_a_crash(notes: pytest.LogCaptureFixture) -> None:
    assert get_secret(SERVICE, "alice") == (None, "")
    assert any("keyring: failed (RuntimeError)" in note for note in notes.messages)
    assert delete_secret(SERVICE, "alice") == []


@pytest.mark.usefixtures("broken_keyring")
def test_store_into_a_failing_backend_names_the_alternatives() -> None:
    with pytest.raises(KeyringUnavailable) as caught:
        store_secret(SERVICE, "alice", SECRET, insecure_storage=False)
    assert "KeyringLocked" in caught.value.message


@pytest.mark.usefixtures("failing_keyring")
def test_store_without_keyring_is_a_usage_error_naming_the_alternatives() -> None:
    with pytest.raises(UsageError) as caught:
        store_secret(SERVICE, "alice", SECRET, insecure_storage=False)
    error = caught.value
    assert isinstance(error, KeyringUnavailable)
    assert error.exit_code == ExitCode.USAGE
    assert error.hint is not None
    for alternative in ("DTRCTL_PASSWORD", "docker", "--insecure-storage"):
        assert alternative in error.hint
    assert SECRET not in str(error.to_dict())
    assert not credentials_path().exists()


# insecure file store


@pytest.mark.usefixtures("failing_keyring")
def test_insecure_storage_writes_a_private_file_read_back_by_get(
    isolated_env: IsolatedEnv,
) -> None:
    where = store_secret(SERVICE, "alice", SECRET, insecure_storage=True)
    path = isolated_env.config_dir / "credentials.toml"
    assert where == str(path)
    assert mode(path) == 0o600
    assert mode(isolated_env.config_dir) == 0o700
    assert get_secret(SERVICE, "alice") == (SECRET, "file")


@pytest.mark.usefixtures("failing_keyring")
def test_insecure_storage_fixes_the_file_mode_but_never_a_directory_mode(
    isolated_env: IsolatedEnv,
) -> None:
    store_secret(SERVICE, "alice", SECRET, insecure_storage=True)
    path = credentials_path()
    path.chmod(0o644)
    isolated_env.config_dir.chmod(0o755)
    store_secret(SERVICE, "bob", "other", insecure_storage=True)
    assert mode(path) == 0o600
    # Perhaps not dtrctl's own directory any more: its mode is its owner's business.
    assert mode(isolated_env.config_dir) == 0o755
    assert get_secret(SERVICE, "alice") == (SECRET, "file")
    assert get_secret(SERVICE, "bob") == ("other", "file")


@pytest.mark.usefixtures("failing_keyring")
def test_file_store_keeps_services_apart() -> None:
    other = "dtrctl:https://dtr2.example.com"
    store_secret(SERVICE, "alice", "one", insecure_storage=True)
    store_secret(other, "alice", "two", insecure_storage=True)
    assert get_secret(SERVICE, "alice") == ("one", "file")
    assert get_secret(other, "alice") == ("two", "file")


def test_insecure_storage_replaces_an_older_keyring_secret(
    in_memory_keyring: InMemoryKeyring,
) -> None:
    store_secret(SERVICE, "alice", "old", insecure_storage=False)
    store_secret(SERVICE, "alice", "new", insecure_storage=True)
    assert in_memory_keyring.passwords == {}
    assert get_secret(SERVICE, "alice") == ("new", "file")


def test_keyring_storage_replaces_an_older_file_secret(
    in_memory_keyring: InMemoryKeyring,
) -> None:
    store_secret(SERVICE, "alice", "old", insecure_storage=True)
    store_secret(SERVICE, "alice", "new", insecure_storage=False)
    assert "old" not in credentials_path().read_text(encoding="utf-8")
    assert get_secret(SERVICE, "alice") == ("new", "keyring")


def test_keyring_is_preferred_over_the_file(in_memory_keyring: InMemoryKeyring) -> None:
    store_secret(SERVICE, "alice", "in-file", insecure_storage=True)
    in_memory_keyring.set_password(SERVICE, "alice", "in-keyring")
    assert get_secret(SERVICE, "alice") == ("in-keyring", "keyring")


def test_store_path_can_be_given(tmp_path: Path, in_memory_keyring: InMemoryKeyring) -> None:
    path = tmp_path / "elsewhere" / "creds.toml"
    assert store_secret(SERVICE, "alice", SECRET, insecure_storage=True, store_path=path) == str(
        path
    )
    assert get_secret(SERVICE, "alice", store_path=path) == (SECRET, "file")
    assert get_secret(SERVICE, "alice") == (None, "")


@pytest.mark.usefixtures("failing_keyring")
def test_unreadable_credentials_file_is_no_secret_and_never_overwritten(
    isolated_env: IsolatedEnv, notes: pytest.LogCaptureFixture
) -> None:
    isolated_env.config_dir.mkdir(parents=True)
    path = credentials_path()
    path.write_text("[services\nbroken", encoding="utf-8")
    assert get_secret(SERVICE, "alice") == (None, "")
    assert any("file store: ignored" in note and str(path) in note for note in notes.messages)
    with pytest.raises(ConfigError):
        store_secret(SERVICE, "alice", SECRET, insecure_storage=True)
    assert path.read_text(encoding="utf-8") == "[services\nbroken"


# delete


def test_delete_reports_where_the_secret_was_removed(
    in_memory_keyring: InMemoryKeyring,
) -> None:
    store_secret(SERVICE, "alice", "in-file", insecure_storage=True)
    in_memory_keyring.set_password(SERVICE, "alice", "in-keyring")
    store_secret(SERVICE, "bob", "stays", insecure_storage=True)
    assert delete_secret(SERVICE, "alice") == ["keyring", str(credentials_path())]
    assert get_secret(SERVICE, "alice") == (None, "")
    assert get_secret(SERVICE, "bob") == ("stays", "file")
    assert delete_secret(SERVICE, "alice") == []


@pytest.mark.usefixtures("failing_keyring")
def test_delete_without_keyring_or_file_removes_nothing() -> None:
    assert delete_secret(SERVICE, "alice") == []


def test_no_secret_in_the_log(
    in_memory_keyring: InMemoryKeyring, notes: pytest.LogCaptureFixture
) -> None:
    store_secret(SERVICE, "alice", SECRET, insecure_storage=True)
    get_secret(SERVICE, "bob")
    get_secret(SERVICE, "alice")
    assert notes.messages
    assert not any(SECRET in note for note in notes.messages)


@pytest.mark.usefixtures("failing_keyring")
def test_a_shared_config_directory_keeps_its_mode_and_secrets_go_to_a_private_subdirectory(
    isolated_env: IsolatedEnv,
) -> None:
    isolated_env.config_dir.mkdir(parents=True, exist_ok=True)
    isolated_env.config_dir.chmod(0o1777)
    where = store_secret(SERVICE, "alice", SECRET, insecure_storage=True)
    assert where == str(isolated_env.config_dir / "private" / "credentials.toml")
    assert mode(isolated_env.config_dir) == 0o1777
    assert mode(isolated_env.config_dir / "private") == 0o700
    assert mode(isolated_env.config_dir / "private" / "credentials.toml") == 0o600
    assert get_secret(SERVICE, "alice") == (SECRET, "file")


@pytest.mark.usefixtures("failing_keyring")
def test_a_private_subdirectory_others_may_open_is_refused(isolated_env: IsolatedEnv) -> None:
    (isolated_env.config_dir / "private").mkdir(parents=True)
    isolated_env.config_dir.chmod(0o1777)
    (isolated_env.config_dir / "private").chmod(0o777)
    with pytest.raises(UsageError, match="refusing to store a secret"):
        store_secret(SERVICE, "alice", SECRET, insecure_storage=True)
    assert not (isolated_env.config_dir / "private" / "credentials.toml").exists()


# bounds


class BlockingKeyring(KeyringBackend):
    """A backend that never answers, like a Secret Service waiting on an unlock prompt nobody
    sees; `release` lets its waiting threads go when the test ends."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait()

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait()


@pytest.fixture
def blocking_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlockingKeyring]:
    monkeypatch.setenv("DTRCTL_CREDENTIAL_TIMEOUT", "0.2")
    backend = BlockingKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        backend.release.set()
        keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "call",
    [
        lambda: get_secret(SERVICE, "alice"),
        lambda: store_secret(SERVICE, "alice", SECRET, insecure_storage=False),
        lambda: delete_secret(SERVICE, "alice"),
    ],
    ids=["get", "store", "delete"],
)
def test_a_keyring_that_never_answers_is_exit_5_naming_it(
    blocking_keyring: BlockingKeyring, call: Callable[[], object]
) -> None:
    with pytest.raises(CredentialSourceTimeout) as raised:
        call()
    assert raised.value.exit_code == ExitCode.UNAVAILABLE
    assert raised.value.message == "the system keyring did not answer within 0.2 s"
    assert "PYTHON_KEYRING_BACKEND" in (raised.value.hint or "")


@pytest.mark.usefixtures("failing_keyring")
@pytest.mark.parametrize("kind", ["fifo", "large"])
def test_a_credentials_file_that_is_no_small_regular_file_is_exit_3(
    isolated_env: IsolatedEnv, kind: str
) -> None:
    isolated_env.config_dir.mkdir(parents=True)
    path = credentials_path()
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes to it: reading it would wait for ever
    else:
        path.write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(CredentialSourceUnusable) as raised:
        get_secret(SERVICE, "alice")
    assert raised.value.exit_code == ExitCode.AUTH
    assert f"dtrctl's credential file {path}" in raised.value.message


def test_insecure_storage_stores_even_when_the_keyring_never_answers(
    blocking_keyring: BlockingKeyring, isolated_env: IsolatedEnv, notes: pytest.LogCaptureFixture
) -> None:
    where = store_secret(SERVICE, "alice", SECRET, insecure_storage=True)
    assert where == str(credentials_path())
    assert any("did not answer" in note for note in notes.messages)
