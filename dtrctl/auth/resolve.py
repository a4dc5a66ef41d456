"""Which credential dtrctl uses for a DTR, and where it came from.

First hit wins:

1. a secret the caller read (`--password-stdin`), source "flag"; else `DTRCTL_PASSWORD` (a
   password or DTR access token) or its alias `DTRCTL_TOKEN` (`DTRCTL_PASSWORD` wins when both are
   set), source "env". The username is `--username`, else `DTRCTL_USERNAME`, else the profile's.
2. the secret `dtrctl login` stored for that URL and username: source "keyring" or "file".
3. docker's and podman's credentials for the registry host (see `dtrctl.auth.docker_config`
   and `dtrctl.auth.podman_config`): source "docker-auth-config", "podman-auth",
   "docker-config" or "docker-credential-helper:NAME".
4. none: the caller decides (write commands prompt or fail, read commands go anonymous).

What was tried goes to the `dtrctl.auth` loggers (debug, warnings for unreadable sources; `-v`
shows them). When nothing usable was found for a reason the user should hear, the lookup returns
that reason. Neither ever contains a secret.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dtrctl.auth.credential import Credential

if TYPE_CHECKING:
    from dtrctl.config import Profile

USERNAME_VARIABLE = "DTRCTL_USERNAME"
PASSWORD_VARIABLE = "DTRCTL_PASSWORD"
TOKEN_VARIABLE = "DTRCTL_TOKEN"

logger = logging.getLogger(__name__)


@dataclass
class CredentialLookup:
    """The credential found (if any), or why none is usable."""

    credential: Credential | None
    # Why nothing usable was found, when the user should be told (e.g. docker has only an
    # identity token, or a password was given without a username).
    unusable_reason: str | None = None


def resolve_credentials(
    *,
    host: str,
    url: str | None,
    username: str | None = None,
    secret: str | None = None,
    profile: Profile | None = None,
    environ: Mapping[str, str] | None = None,
) -> CredentialLookup:
    """The credential for the DTR at `url` (registry `host`, `name[:port]`), by the order above.

    `username` and `secret` are what the caller got from `--username` and `--password-stdin`.
    """
    env = os.environ if environ is None else environ
    wanted_username, username_origin = _wanted_username(username, env, profile)
    if wanted_username:
        logger.debug(f"username {wanted_username!r} from {username_origin}")
    given = _from_flag_or_environment(wanted_username, secret, env)
    if given is not None:
        return given
    stored = _from_store(wanted_username, url or (profile.url if profile else None), env)
    if stored is not None:
        return CredentialLookup(stored)
    return _from_docker(host, wanted_username, env)


def _from_flag_or_environment(
    wanted_username: str | None, secret: str | None, env: Mapping[str, str]
) -> CredentialLookup | None:
    """Step 1: `--password-stdin`, else DTRCTL_PASSWORD / DTRCTL_TOKEN; None: neither given."""
    if secret is not None:
        if not secret:
            return CredentialLookup(None, "the password read from stdin is empty")
        if not wanted_username:
            return CredentialLookup(None, _no_username_reason("--password-stdin"))
        logger.debug("secret from --password-stdin")
        return CredentialLookup(Credential(wanted_username, secret, "flag"))
    variable = next((name for name in (PASSWORD_VARIABLE, TOKEN_VARIABLE) if env.get(name)), None)
    if variable is None:
        logger.debug(f"env: neither {PASSWORD_VARIABLE} nor {TOKEN_VARIABLE} is set")
        return None
    if not wanted_username:
        return CredentialLookup(None, _no_username_reason(variable))
    logger.debug(f"secret from {variable}")
    return CredentialLookup(Credential(wanted_username, env[variable], "env"))


def _from_store(
    wanted_username: str | None, dtr_url: str | None, env: Mapping[str, str]
) -> Credential | None:
    """Step 2: the secret `dtrctl login` stored for the URL and username."""
    if not dtr_url:
        logger.debug("stored secret: no DTR URL to look it up by, skipped")
        return None
    if not wanted_username:
        logger.debug("stored secret: no username to look it up by, skipped")
        return None
    # The stores and docker's files are read only when no earlier source hit (CI's runs give
    # DTRCTL_PASSWORD): their modules are imported here.
    from dtrctl.auth.secret_store import credentials_path, get_secret, keyring_service

    stored, where = get_secret(
        keyring_service(dtr_url), wanted_username, store_path=credentials_path(env)
    )
    if not stored:
        return None
    logger.debug(f"secret from the {where} store")
    return Credential(wanted_username, stored, where)


def _from_docker(
    host: str, wanted_username: str | None, env: Mapping[str, str]
) -> CredentialLookup:
    """Step 3: docker's credential for the host, if it is for the wanted user; else none."""
    from dtrctl.auth.docker_config import find_docker_credential

    docker = find_docker_credential(host, environ=env)
    if docker.credential is not None:
        if wanted_username and docker.credential.username != wanted_username:
            logger.debug(
                f"docker: its credential for {host} is for {docker.credential.username!r}, "
                f"not {wanted_username!r}: not used"
            )
        else:
            return CredentialLookup(docker.credential)
    if docker.identity_token_source is not None:
        return CredentialLookup(
            None,
            f"docker has an identity token for {host} ({docker.identity_token_source}), which "
            f"the DTR API does not accept; use a DTR access token via {PASSWORD_VARIABLE} or "
            "dtrctl login",
        )
    logger.debug("no credentials found")
    return CredentialLookup(None)


def _wanted_username(
    username: str | None, env: Mapping[str, str], profile: Profile | None
) -> tuple[str | None, str]:
    if username:
        return username, "--username"
    if env.get(USERNAME_VARIABLE):
        return env[USERNAME_VARIABLE], USERNAME_VARIABLE
    if profile is not None and profile.username:
        return profile.username, f"profile {profile.name!r}"
    return None, ""


def _no_username_reason(secret_origin: str) -> str:
    return (
        f"a secret was given by {secret_origin} but no username: pass --username, "
        f"set {USERNAME_VARIABLE} or set username in the profile"
    )
