"""Credentials docker already has for a registry host, read the way docker reads them.

Sources, in order: the JSON of `DOCKER_AUTH_CONFIG` (CI systems set it to the content of a
config.json), then podman's auth files (`dtrctl.auth.podman_config`: `$REGISTRY_AUTH_FILE`, else
`${XDG_RUNTIME_DIR}/containers/auth.json` and `~/.config/containers/auth.json`), then
`$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`). In each:
`credHelpers[host]`, then `credsStore`, then the `auths` entries. A helper is run as
`docker-credential-NAME get` with the server URL on stdin, as docker does.

An `auths` key matches the host whatever its scheme or path, with port 443 the same as no port:
`https://dtr.example.com/v1/`, `dtr.example.com` and `http://dtr.example.com:443` all name
`dtr.example.com`. Docker may hold only an identity token (an OAuth refresh token); the DTR API
takes HTTP Basic with a password or access token, so such an entry is reported, not used.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtrctl.auth.bounded import read_credential_file, run_helper
from dtrctl.auth.credential import Credential
from dtrctl.auth.podman_config import podman_configs
from dtrctl.errors import InvalidReference
from dtrctl.reference import Registry, parse_registry

IDENTITY_TOKEN_USERNAME = "<token>"  # what a helper returns as Username for an identity token
NOT_FOUND_TEXT = "credentials not found"
_HELPER_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")
_MAX_MESSAGE_LENGTH = 200

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DockerLookup:
    """A usable credential, or where docker had only an identity token (source name)."""

    credential: Credential | None = None
    identity_token_source: str | None = None


@dataclass(frozen=True)
class _Found:
    username: str
    secret: str


def find_docker_credential(host: str, *, environ: Mapping[str, str] | None = None) -> DockerLookup:
    """Docker's credential for `host` (`name[:port]`).

    What was tried goes to the module logger (debug; warnings for unreadable sources), never a
    secret.
    """
    env = os.environ if environ is None else environ
    try:
        registry = parse_registry(host)
    except InvalidReference:
        logger.debug(f"docker: {host!r} is not a registry host, not looked up")
        return DockerLookup()
    identity_token_source = None
    for source, document in _docker_configs(env):
        lookup = _search_config(registry, source, document, env)
        if lookup.credential is not None:
            return lookup
        identity_token_source = identity_token_source or lookup.identity_token_source
    return DockerLookup(identity_token_source=identity_token_source)


def docker_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"]) / "config.json"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".docker" / "config.json"


def _docker_configs(env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """(source name for `auths`, parsed document) of each docker config that exists."""
    configs = []
    inline = env.get("DOCKER_AUTH_CONFIG")
    if inline:
        document = _parse_config(inline, "DOCKER_AUTH_CONFIG")
        if document is not None:
            configs.append(("docker-auth-config", document))
    configs += podman_configs(env, _parse_config)
    path = docker_config_path(env)
    try:
        text = read_credential_file(
            path,
            "docker's config file",
            hint="Fix or remove it; DOCKER_CONFIG names the directory that holds config.json",
        )
    except FileNotFoundError:
        logger.debug(f"docker: no {path}")
        return configs
    except (OSError, UnicodeDecodeError) as error:
        logger.warning(f"docker: cannot read {path} ({error})")
        return configs
    document = _parse_config(text, str(path))
    if document is not None:
        configs.append(("docker-config", document))
    return configs


def _parse_config(text: str, where: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        logger.warning(f"docker: {where} is not valid JSON (line {error.lineno}), ignored")
        return None
    except (ValueError, RecursionError):  # a number too long, or nesting too deep
        logger.warning(f"docker: {where} is not JSON dtrctl can read, ignored")
        return None
    if not isinstance(document, dict):
        logger.warning(f"docker: {where} is not a JSON object, ignored")
        return None
    return document


def _search_config(
    registry: Registry,
    source: str,
    document: dict[str, Any],
    env: Mapping[str, str],
) -> DockerLookup:
    identity_token_source = None
    auths = _table(document, "auths", source)
    auth_keys = _matching_keys(auths, registry)
    helpers = _table(document, "credHelpers", source)
    helper_keys = _matching_keys(helpers, registry)
    store = document.get("credsStore")
    if store is not None and not isinstance(store, str):
        logger.warning(f"docker: credsStore in {source} is not a string, ignored")
        store = None
    candidates: list[tuple[str, list[str]]] = []
    for key in helper_keys:
        if isinstance(helpers[key], str):
            candidates.append((helpers[key], _server_urls([key], registry)))
        else:
            logger.warning(f"docker: credHelpers[{key!r}] in {source} is not a string")
    if store:
        # With a credsStore, docker keeps an empty auths entry under the key it stored with.
        candidates.append((store, _server_urls(auth_keys, registry)))
    for helper, server_urls in candidates:
        found = _ask_helper(helper, server_urls, env)
        helper_source = f"docker-credential-helper:{helper}"
        if found is None:
            continue
        if found.username == IDENTITY_TOKEN_USERNAME:
            logger.debug(f"docker: {helper_source} has only an identity token for {registry}")
            identity_token_source = identity_token_source or helper_source
            continue
        logger.debug(f"docker: {helper_source} has a credential for {registry}")
        return DockerLookup(Credential(found.username, found.secret, helper_source))
    for key in auth_keys:
        entry = auths[key]
        if _entry_has_identity_token(entry):
            logger.debug(f"docker: {source} auths[{key!r}] holds only an identity token")
            identity_token_source = identity_token_source or source
            continue
        found = _decode_auth_entry(entry, f"{source} auths[{key!r}]")
        if found is not None:
            logger.debug(f"docker: {source} auths[{key!r}] has a credential for {registry}")
            return DockerLookup(Credential(found.username, found.secret, source))
    if not candidates and not auth_keys:
        logger.debug(f"docker: {source} has no entry for {registry}")
    return DockerLookup(identity_token_source=identity_token_source)


def _table(document: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        logger.warning(f"docker: {key} in {source} is not an object, ignored")
        return {}
    return value


def _matching_keys(table: dict[str, Any], registry: Registry) -> list[str]:
    """Keys naming `registry`; a key written exactly as the host comes first."""
    matching = [key for key in table if _registry_of_key(key) == registry]
    return sorted(matching, key=lambda key: key != str(registry))


def _registry_of_key(key: str) -> Registry | None:
    authority = key.split("://", 1)[-1].split("/", 1)[0]
    try:
        return parse_registry(authority)
    except InvalidReference:
        return None


def _server_urls(keys: list[str], registry: Registry) -> list[str]:
    """Server URLs to ask a helper for: the config's own spellings first, then docker's forms."""
    return list(dict.fromkeys([*keys, str(registry), f"https://{registry}"]))


def _absolute_path_entries(search_path: str) -> str:
    """PATH without its empty, `.` or other relative entries: a helper is never run from the
    current directory (docker refuses them the same way)."""
    entries = search_path.split(os.pathsep)
    return os.pathsep.join(entry for entry in entries if entry and os.path.isabs(entry))


def _ask_helper(name: str, server_urls: list[str], env: Mapping[str, str]) -> _Found | None:
    program = f"docker-credential-{name}"
    if not _HELPER_NAME_RE.fullmatch(name):
        logger.warning(f"docker: credential helper name {name!r} is invalid, ignored")
        return None
    executable = shutil.which(program, path=_absolute_path_entries(env.get("PATH", os.defpath)))
    if executable is None:
        logger.warning(f"docker: {program} is configured but not on PATH")
        return None
    for server_url in server_urls:
        try:
            completed = run_helper(executable, "get", server_url, env, program)
        except OSError as error:
            logger.warning(f"docker: cannot run {program} ({error.strerror or error})")
            return None
        if completed.returncode != 0:
            if NOT_FOUND_TEXT in (completed.stdout + completed.stderr).lower():
                logger.debug(f"docker: {program} has no credential for {server_url}")
                continue
            # Only stderr is quoted: what a helper prints on stdout may be the secret.
            message = (
                _first_line(completed.stderr) + " (its stdout is not shown: it may hold a secret)"
            )
            logger.warning(
                f"docker: {program} get failed for {server_url} "
                f"(exit {completed.returncode}): {message}"
            )
            return None
        found = _parse_helper_output(completed.stdout)
        if found is None:
            # The output is not echoed: it may hold the secret.
            logger.warning(f"docker: {program} get gave malformed output, ignored")
            return None
        if found.username or found.secret:
            return found
        logger.debug(f"docker: {program} has an empty credential for {server_url}")
    return None


def _parse_helper_output(stdout: str) -> _Found | None:
    try:
        answer = json.loads(stdout)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict):
        return None
    username, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        return None
    return _Found(username, secret)


def _entry_has_identity_token(entry: object) -> bool:
    return isinstance(entry, dict) and bool(entry.get("identitytoken"))


def _decode_auth_entry(entry: object, where: str) -> _Found | None:
    if not isinstance(entry, dict):
        logger.warning(f"docker: {where} is not an object, ignored")
        return None
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        # binascii.Error is a ValueError, as is the one for text that is not ASCII.
        except (ValueError, UnicodeDecodeError):
            logger.warning(f"docker: {where} auth is not base64 of user:password, ignored")
            return None
        username, colon, secret = decoded.partition(":")
        if not colon:
            logger.warning(f"docker: {where} auth is not base64 of user:password, ignored")
            return None
    else:
        plain_username, plain_secret = entry.get("username"), entry.get("password")
        if not isinstance(plain_username, str) or not isinstance(plain_secret, str):
            logger.debug(f"docker: {where} holds no username and password")
            return None
        username, secret = plain_username, plain_secret
    if not username or not secret:
        logger.debug(f"docker: {where} has an empty username or password")
        return None
    return _Found(username, secret)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    line = lines[0] if lines else "no message on stderr"
    return line if len(line) <= _MAX_MESSAGE_LENGTH else line[:_MAX_MESSAGE_LENGTH] + "…"
