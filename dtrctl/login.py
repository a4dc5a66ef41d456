"""`dtrctl login` and `logout`: verify a credential, then keep it; remove it again."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dtrctl.auth.secret_store import delete_secret, keyring_service, store_secret
from dtrctl.config import Profile, load_config, save_profile
from dtrctl.session import Session


@dataclass(frozen=True)
class LoginResult:
    url: str
    username: str
    profile: str
    secret_stored_in: str
    config_file: str


def log_in(session: Session, *, profile_name: str, insecure_storage: bool) -> LoginResult:
    """Store nothing unless DTR accepts the credential (a 401 raises before any write)."""
    assert session.credential is not None, "login always has a credential"
    session.backend.check_credentials()
    credential = session.credential
    stored_in = store_secret(
        keyring_service(session.url),
        credential.username,
        credential.secret,
        insecure_storage=insecure_storage,
    )
    existing = load_config().get_profile(profile_name) or Profile(name=profile_name)
    profile = replace(
        existing,
        url=session.url,
        username=credential.username,
        ca_file=session.settings.ca_file,
        bundle=session.settings.bundle,
        insecure=session.settings.insecure,
        # The detected (or named) kind: later runs need no detection.
        backend=session.backend.kind,
    )
    path = save_profile(profile)
    return LoginResult(session.url, credential.username, profile_name, stored_in, str(path))


@dataclass(frozen=True)
class LogoutResult:
    profile: str
    url: str | None
    username: str | None
    removed_from: list[str]
    # Other profiles with the same URL and user: they shared the secret, now removed too.
    also_logged_out: list[str] = field(default_factory=list)


def log_out(profile_name: str) -> LogoutResult:
    """Remove the profile's stored secret; its non-secret settings stay."""
    config = load_config()
    profile = config.get_profile(profile_name)
    if profile is None or not profile.url or not profile.username:
        return LogoutResult(profile_name, None, None, [])
    service = keyring_service(profile.url)
    removed = delete_secret(service, profile.username)
    sharing = [
        other.name
        for other in config.profiles.values()
        if other.name != profile_name
        and other.url
        and keyring_service(other.url) == service
        and other.username == profile.username
    ]
    return LogoutResult(
        profile_name, profile.url, profile.username, removed, sharing if removed else []
    )
