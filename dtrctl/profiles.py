"""Which profile is active and why, and what each profile of the config file holds.

Pure logic for `dtrctl profile list` and `dtrctl whoami`: the config file is read, secrets are
looked up only to say where they live, never returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dtrctl.config import DEFAULT_PROFILE_NAME, Config, Profile

# Why a profile is the active one, in the order they are consulted.
REASON_FLAG = "flag"
REASON_ENV = "env"
REASON_DEFAULT_PROFILE = "default_profile"
REASON_IMPLICIT = "implicit"


@dataclass(frozen=True)
class ActiveProfile:
    """The active profile's name, why it is active, and whether the config file has it."""

    name: str
    reason: str
    exists: bool

    def because(self, config_path: str) -> str:
        """The reason in words, for text output."""
        return {
            REASON_FLAG: "from --profile",
            REASON_ENV: "from DTRCTL_PROFILE",
            REASON_DEFAULT_PROFILE: f"default_profile in {config_path}",
            REASON_IMPLICIT: "the implicit 'default'",
        }[self.reason]


def active_profile(
    chosen: str | None, chosen_from_env: bool, config: Config, environ: Mapping[str, str]
) -> ActiveProfile:
    """`chosen` is what --profile / DTRCTL_PROFILE gave (`chosen_from_env`: the variable did)."""
    if chosen:
        reason = REASON_ENV if chosen_from_env else REASON_FLAG
        name = chosen
    elif environ.get("DTRCTL_PROFILE"):
        reason, name = REASON_ENV, environ["DTRCTL_PROFILE"]
    elif config.default_profile:
        reason, name = REASON_DEFAULT_PROFILE, config.default_profile
    else:
        reason, name = REASON_IMPLICIT, DEFAULT_PROFILE_NAME
    return ActiveProfile(name, reason, name in config.profiles)


def find_active_profile(chosen: str | None, chosen_from_env: bool) -> tuple[ActiveProfile, Config]:
    """The active profile of the config file in dtrctl's config directory, and that config."""
    import os

    from dtrctl.config import load_config

    config = load_config()
    return active_profile(chosen, chosen_from_env, config, os.environ), config


def secret_location(profile: Profile) -> str | None:
    """ "keyring", the file store's path, or None when no secret is stored for the profile."""
    from dtrctl.auth.secret_store import credentials_path, get_secret, keyring_service

    if not profile.url or not profile.username:
        return None
    secret, where = get_secret(keyring_service(profile.url), profile.username)
    if not secret:
        return None
    return "keyring" if where == "keyring" else str(credentials_path())


def profile_document(profile: Profile, *, active: bool) -> dict[str, Any]:
    """One profile for `-o json` (no secret, only where it lives)."""
    return {
        "name": profile.name,
        "url": profile.url,
        "username": profile.username,
        "active": active,
        "secret_stored_in": secret_location(profile),
        "backend": profile.backend,
        "ca_file": profile.ca_file,
        "bundle": profile.bundle,
        "insecure": profile.insecure,
    }
