"""Fixtures for the credential and config unit tests: an isolated home and keyring backends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from tests.conftest import InMemoryKeyring


class BrokenKeyring(KeyringBackend):
    """A backend that looks usable but fails on every call, like a locked or gone D-Bus one."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("D-Bus connection lost")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("D-Bus connection lost")


@dataclass(frozen=True)
class IsolatedEnv:
    home: Path
    config_dir: Path
    docker_dir: Path
    bin_dir: Path


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> IsolatedEnv:
    """HOME, the dtrctl config dir and DOCKER_CONFIG under tmp_path; no DTRCTL_* credentials."""
    home = tmp_path / "user"
    paths = IsolatedEnv(
        home=home,
        config_dir=home / ".config" / "dtrctl",
        docker_dir=home / ".docker",
        bin_dir=tmp_path / "bin",
    )
    home.mkdir()
    paths.bin_dir.mkdir()
    for name in list(os.environ):
        if name.startswith("DTRCTL_") or name == "DOCKER_AUTH_CONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("DTRCTL_CONFIG_DIR", str(paths.config_dir))
    monkeypatch.setenv("DOCKER_CONFIG", str(paths.docker_dir))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("PATH", f"{paths.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return paths


@contextmanager
def _keyring_backend(backend: KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def in_memory_keyring() -> Iterator[InMemoryKeyring]:
    backend = InMemoryKeyring()
    with _keyring_backend(backend):
        yield backend


@pytest.fixture
def failing_keyring() -> Iterator[None]:
    """keyring's own "no backend available" backend, as on a headless CI runner."""
    with _keyring_backend(fail.Keyring()):
        yield


@pytest.fixture
def broken_keyring() -> Iterator[None]:
    with _keyring_backend(BrokenKeyring()):
        yield
