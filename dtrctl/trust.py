"""Fetching and keeping the DTR CA (the `ca fetch` workflow), without the terminal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from dtrctl.certificates import CertificateInfo, describe_certificate
from dtrctl.settings import ConnectionSettings, normalize_url, url_registry


@dataclass(frozen=True)
class FetchedCa:
    url: str
    certificate: CertificateInfo


@dataclass(frozen=True)
class SavedCa:
    path: Path
    profile: str | None


def fetch_ca(settings: ConnectionSettings, *, log: Callable[[str], None] | None) -> FetchedCa:
    from dtrctl.client.ca import fetch_ca_certificate
    from dtrctl.client.transport import TransportOptions

    url = normalize_url(settings.require_url())
    options = TransportOptions(timeout=settings.timeout, retries=settings.retries)
    return FetchedCa(url, describe_certificate(fetch_ca_certificate(url, options, log)))


def save_ca(fetched: FetchedCa, path: Path | None, *, profile: str | None) -> SavedCa:
    """Write the PEM (0644: a CA is public) and record it in the active profile, if any."""
    from dtrctl.config import (
        active_profile_name,
        config_dir,
        ensure_private_dir,
        load_config,
        save_profile,
    )

    if path is None:
        directory = config_dir() / "ca"
        ensure_private_dir(config_dir())
        directory.mkdir(exist_ok=True)
        path = directory / f"{str(url_registry(fetched.url)).replace(':', '_')}.pem"
    path.write_text(fetched.certificate.pem)
    config = load_config()
    name = active_profile_name(profile, config=config)
    existing = config.get_profile(name)
    if existing is None and profile is None:
        return SavedCa(path, None)
    from dtrctl.config import Profile

    base = existing or Profile(name=name, url=fetched.url)
    save_profile(replace(base, ca_file=str(path.resolve())))
    return SavedCa(path, name)
