"""Where `dtrctl login` keeps a secret: the system keyring, or a plain-text file on request.

Keyring entries use the service name `dtrctl:<normalized DTR URL>` and the username as key.
The insecure file store (`--insecure-storage`) is `credentials.toml`, mode 0600, in the config
directory; when that directory is shared (writable by group or others, e.g. /tmp), in its
subdirectory `private/`, mode 0700. dtrctl never changes the mode of a directory it did not
create::

    [services."dtrctl:https://dtr.example.com"]
    alice = "the password or access token"

Every keyring call is guarded: a missing, locked or failing backend means "no secret there", never
a crash; one that does not answer within the credential timeout (`dtrctl.auth.bounded`) is exit
5 naming the keyring, never a hang. keyring is imported inside functions so commands that need
no secret do not load it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from dtrctl.auth.bounded import CREDENTIAL_TIMEOUT_VARIABLE, within_deadline
from dtrctl.config import (
    ConfigError,
    config_dir,
    read_toml,
    toml_key,
    toml_string,
    write_private_file,
)
from dtrctl.errors import CredentialSourceTimeout, CredentialSourceUnusable, UsageError
from dtrctl.files import FileTooLarge, NotAFile

CREDENTIALS_FILE_NAME = "credentials.toml"
# In a shared config directory (mode bits below), secrets go to this subdirectory, mode 0700.
PRIVATE_SUBDIRECTORY = "private"
SHARED_MODE_BITS = 0o022
SERVICE_PREFIX = "dtrctl:"
_DEFAULT_PORTS = {"https": 443, "http": 80}
_KEYRING_HINT = (
    "Unlock the keyring, or do without it: PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring "
    f"with DTRCTL_PASSWORD (or docker's credentials); {CREDENTIAL_TIMEOUT_VARIABLE} sets the wait"
)

T = TypeVar("T")

logger = logging.getLogger(__name__)


class KeyringUnavailable(UsageError):
    """No usable keyring backend to store a secret, and plain-text storage was not asked for."""


def keyring_service(url: str) -> str:
    """The keyring service name for a DTR URL: one name however the URL is spelled."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        port = parts.port
    except ValueError:  # not a URL or port number: keep the URL as written rather than guess
        return f"{SERVICE_PREFIX}{url.rstrip('/')}"
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{SERVICE_PREFIX}{scheme}://{netloc}{parts.path.rstrip('/')}"


def credentials_path(environ: Mapping[str, str] | None = None) -> Path:
    """The file store: in the config directory, or in its private subdirectory when the config
    directory is shared (writable by group or others, e.g. DTRCTL_CONFIG_DIR=/tmp)."""
    directory = config_dir(environ)
    if _is_shared(directory):
        directory = directory / PRIVATE_SUBDIRECTORY
    return directory / CREDENTIALS_FILE_NAME


def _is_shared(directory: Path) -> bool:
    try:
        return bool(directory.stat().st_mode & SHARED_MODE_BITS)
    except OSError:
        return False


def _refuse_unsafe_directory(directory: Path) -> None:
    """A secret goes only into a directory nobody else may write to or read (POSIX)."""
    try:
        status = directory.stat()
    except OSError:
        return  # not there yet: created 0700
    foreign = hasattr(os, "getuid") and status.st_uid != os.getuid()
    if foreign or status.st_mode & 0o077:
        raise UsageError(
            f"refusing to store a secret in {directory}: other users may read or change it",
            hint=f"Remove {directory} (dtrctl recreates it with mode 0700), or set "
            "DTRCTL_CONFIG_DIR to a private directory",
        )


def keyring_usable() -> bool:
    """Whether a real keyring backend is configured (not keyring's fail or null backend)."""
    return _usable_backend_problem() is None


def get_secret(
    service: str,
    username: str,
    *,
    store_path: Path | None = None,
) -> tuple[str | None, str]:
    """(secret, "keyring" or "file"), or (None, "") when neither holds one.

    What was tried and why it failed goes to the module logger (debug), never a secret.
    """
    problem = _usable_backend_problem()
    if problem is not None:
        logger.debug(f"keyring: skipped ({problem})")
    else:
        secret = _keyring_get(service, username)
        if secret:
            return secret, "keyring"
    path = credentials_path() if store_path is None else store_path
    try:
        stored = _read_store(path)
    except ConfigError as error:
        logger.debug(f"file store: ignored ({error.message})")
        return None, ""
    secret = stored.get(service, {}).get(username)
    if secret:
        return secret, "file"
    logger.debug(f"file store: no secret for {username!r} at {service} in {path}")
    return None, ""


def store_secret(
    service: str,
    username: str,
    secret: str,
    *,
    insecure_storage: bool,
    store_path: Path | None = None,
) -> str:
    """Keep the secret in the keyring, or in the plain-text file when `insecure_storage`.

    Returns where it went ("keyring" or the file's path). The other place loses any older secret
    for the same service and username, so a lookup cannot find a stale one first.
    """
    path = credentials_path() if store_path is None else store_path
    if insecure_storage:
        _store_in_file(path, service, username, secret)
        try:
            _keyring_delete(service, username)
        except CredentialSourceTimeout as error:  # stored all the same: say what was left
            logger.warning(f"{error.message}: an older secret there, if any, stays")
        return str(path)
    problem = _usable_backend_problem()
    if problem is not None:
        raise _keyring_unavailable(problem, path)
    import keyring

    try:
        _bounded(lambda: keyring.set_password(service, username, secret))
    except CredentialSourceTimeout:
        raise
    except Exception as error:  # any backend failure: locked, D-Bus gone, denied
        raise _keyring_unavailable(f"{type(error).__name__}: {error}", path) from error
    _remove_from_file(path, service, username)
    return "keyring"


def delete_secret(service: str, username: str, *, store_path: Path | None = None) -> list[str]:
    """Remove the secret from the keyring and the file store; returns where it was removed."""
    path = credentials_path() if store_path is None else store_path
    removed = []
    if _usable_backend_problem() is None and _keyring_delete(service, username):
        removed.append("keyring")
    if _remove_from_file(path, service, username):
        removed.append(str(path))
    return removed


def _bounded(call: Callable[[], T]) -> T:
    return within_deadline(call, "the system keyring", hint=_KEYRING_HINT)


def _usable_backend_problem() -> str | None:
    """Why the configured keyring backend cannot hold secrets, or None when it can."""
    return _bounded(_backend_problem)


def _backend_problem() -> str | None:
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return "no keyring backend is available"
        if isinstance(backend, null.Keyring):
            return "the keyring backend is the null backend"
        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            return "no keyring backend is available"
    except Exception as error:  # a broken backend can fail while being loaded
        return f"keyring failed to load: {type(error).__name__}: {error}"
    return None


def _keyring_get(service: str, username: str) -> str | None:
    try:
        import keyring

        secret = _bounded(lambda: keyring.get_password(service, username))
    except CredentialSourceTimeout:
        raise
    except Exception as error:  # NoKeyringError, KeyringLocked, D-Bus errors, ...
        logger.debug(f"keyring: failed ({type(error).__name__}), treated as no secret")
        return None
    if not secret:
        logger.debug(f"keyring: no secret for {username!r} at {service}")
    return secret


def _keyring_delete(service: str, username: str) -> bool:
    try:
        import keyring

        _bounded(lambda: keyring.delete_password(service, username))
    except CredentialSourceTimeout:
        raise
    except Exception:  # PasswordDeleteError when absent; any backend failure alike
        return False
    return True


def _keyring_unavailable(reason: str, path: Path) -> KeyringUnavailable:
    return KeyringUnavailable(
        f"cannot store the secret in the system keyring ({reason})",
        hint=(
            "Set DTRCTL_PASSWORD (or DTRCTL_TOKEN) instead, let dtrctl use docker's credentials "
            f"(docker login), or pass --insecure-storage to keep it in plain text in {path}"
        ),
    )


def _read_store(path: Path) -> dict[str, dict[str, str]]:
    try:
        parsed = read_toml(path, "dtrctl's credential file")
    except (FileTooLarge, NotAFile) as error:
        raise CredentialSourceUnusable(
            f"cannot read credentials: {error.message}",
            hint=f"Remove {path}: dtrctl login --insecure-storage writes it again",
        ) from None
    if parsed is None:
        return {}
    services = parsed[0].get("services", {})
    valid = isinstance(services, dict) and all(
        isinstance(entries, dict) and all(isinstance(value, str) for value in entries.values())
        for entries in services.values()
    )
    if not valid:
        raise ConfigError(path, 'expected only [services."SERVICE"] tables of username = "secret"')
    return services


def _store_in_file(path: Path, service: str, username: str, secret: str) -> None:
    stored = _read_store(path)
    stored.setdefault(service, {})[username] = secret
    _write_store(path, stored)


def _remove_from_file(path: Path, service: str, username: str) -> bool:
    try:
        stored = _read_store(path)
    except ConfigError:
        return False  # never rewrite (and so lose) a file we cannot read
    if username not in stored.get(service, {}):
        return False
    del stored[service][username]
    if not stored[service]:
        del stored[service]
    _write_store(path, stored)
    return True


def _write_store(path: Path, stored: dict[str, dict[str, str]]) -> None:
    lines = [
        "# dtrctl insecure credential store: plain-text secrets (dtrctl login --insecure-storage)"
    ]
    for service, entries in stored.items():
        lines += ["", f"[services.{toml_string(service)}]"]
        lines += [f"{toml_key(user)} = {toml_string(secret)}" for user, secret in entries.items()]
    if path.parent.name == PRIVATE_SUBDIRECTORY and _is_shared(path.parent.parent):
        _refuse_unsafe_directory(path.parent)
    write_private_file(path, "\n".join(lines) + "\n")
