"""The DTR CA: describing a certificate so the user can decide (pure), fetching and keeping it."""

from __future__ import annotations

import hashlib
import ssl
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from dtrctl.config import Profile
from dtrctl.errors import DtrctlError, InvalidResponse, UsageError
from dtrctl.settings import ConnectionSettings, normalize_url, url_registry

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class CertificateInfo:
    pem: str
    sha256_fingerprint: str  # colon-separated uppercase hex, as `openssl x509 -fingerprint` shows
    subject: str
    not_after: str


def describe_certificate(pem_text: str) -> CertificateInfo:
    """The first certificate of a PEM text; anything else is an `InvalidResponse`."""
    start = pem_text.find(PEM_BEGIN)
    end = pem_text.find("-----END CERTIFICATE-----", start)
    if start == -1 or end == -1:
        raise InvalidResponse("the answer is not a PEM certificate")
    pem = pem_text[start : end + len("-----END CERTIFICATE-----")] + "\n"
    try:
        der = ssl.PEM_cert_to_DER_cert(pem)
    except ValueError:
        raise InvalidResponse("the answer is not a valid PEM certificate") from None
    digest = hashlib.sha256(der).hexdigest().upper()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    subject, not_after = _decode(pem)
    return CertificateInfo(pem, fingerprint, subject, not_after)


def _decode(pem: str) -> tuple[str, str]:
    """Subject and expiry through the ssl module's decoder (it reads from a file)."""
    decode = getattr(ssl._ssl, "_test_decode_cert", None)  # type: ignore[attr-defined]
    if decode is None:  # pragma: no cover - present in CPython 3.10-3.13
        return "(unknown)", "(unknown)"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ca.pem"
        path.write_text(pem)
        try:
            decoded = decode(str(path))
        except ssl.SSLError:
            raise InvalidResponse("the answer is not a valid certificate") from None
    subject = ", ".join(
        f"{key}={value}" for rdn in decoded.get("subject", ()) for key, value in rdn
    )
    return subject or "(empty)", decoded.get("notAfter", "(unknown)")


@dataclass(frozen=True)
class FetchedCa:
    url: str
    certificate: CertificateInfo


@dataclass(frozen=True)
class SavedCa:
    path: Path
    profile: str
    # The profile did not exist before: the next command needs it (--profile) unless it is
    # the active one.
    created: bool
    active: bool


@dataclass(frozen=True)
class CaProfile:
    """The profile a fetched CA is recorded in: always one for the DTR it came from."""

    name: str
    existing: Profile | None
    active: bool


def fetch_ca(settings: ConnectionSettings) -> FetchedCa:
    from dtrctl.client.ca import fetch_ca_certificate
    from dtrctl.client.transport import TransportOptions

    url = normalize_url(settings.require_url())
    options = TransportOptions(timeout=settings.timeout, retries=settings.retries)
    return FetchedCa(url, describe_certificate(fetch_ca_certificate(url, options)))


def profile_for_ca(url: str, explicit: str | None) -> CaProfile:
    """Where to record the CA of `url`: the named profile, else the active one, else (when the
    active profile is another DTR's) a profile named after this DTR's host. A named profile of
    another DTR is refused: one profile's CA must never be another DTR's."""
    from dtrctl.config import active_profile_name, load_config

    config = load_config()
    if explicit:
        existing = config.get_profile(explicit)
        if existing is not None and not _same_registry(existing.url, url):
            raise UsageError(
                f"profile {explicit!r} is for {existing.url}, not {url}: nothing was saved",
                hint=f"Record this CA in a profile of its own: dtrctl --profile NEW ca fetch {url}",
            )
        return CaProfile(explicit, existing, active=True)
    name = active_profile_name(None, config=config)
    existing = config.get_profile(name)
    if existing is None or _same_registry(existing.url, url):
        return CaProfile(name, existing, active=True)
    # The active profile is another DTR's: this DTR gets a profile named after its host.
    own = str(url_registry(url))
    mine = config.get_profile(own)
    if mine is not None and not _same_registry(mine.url, url):
        raise UsageError(
            f"profiles {name!r} and {own!r} are for other DTRs than {url}: nothing was saved",
            hint=f"Name a profile for it: dtrctl --profile NEW ca fetch {url}",
        )
    return CaProfile(own, mine, active=False)


def _same_registry(profile_url: str | None, url: str) -> bool:
    """A profile without a URL may take any DTR's; otherwise host and port must match."""
    if not profile_url:
        return True
    try:
        return url_registry(normalize_url(profile_url)) == url_registry(url)
    except DtrctlError:
        return False


def save_ca(fetched: FetchedCa, path: Path | None, target: CaProfile) -> SavedCa:
    """Write the PEM (0644: a CA is public) and record it, with the URL, in `target`."""
    from dtrctl.config import config_dir, ensure_private_dir, save_profile

    if path is None:
        directory = config_dir() / "ca"
        ensure_private_dir(config_dir())
        directory.mkdir(exist_ok=True)
        path = directory / f"{str(url_registry(fetched.url)).replace(':', '_')}.pem"
    path.write_text(fetched.certificate.pem)
    base = target.existing or Profile(name=target.name)
    save_profile(replace(base, url=base.url or fetched.url, ca_file=str(path.resolve())))
    return SavedCa(path, target.name, created=target.existing is None, active=target.active)
