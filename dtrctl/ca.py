"""The DTR CA: describing a certificate so the user can decide (pure), fetching and keeping it."""

from __future__ import annotations

import hashlib
import ssl
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from dtrctl.errors import InvalidResponse
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
    profile: str | None


def fetch_ca(settings: ConnectionSettings) -> FetchedCa:
    from dtrctl.client.ca import fetch_ca_certificate
    from dtrctl.client.transport import TransportOptions

    url = normalize_url(settings.require_url())
    options = TransportOptions(timeout=settings.timeout, retries=settings.retries)
    return FetchedCa(url, describe_certificate(fetch_ca_certificate(url, options)))


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
