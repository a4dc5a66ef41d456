"""Connection settings, as the CLI gathered them from options, environment and profile."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dtrctl.errors import MissingSetting, UsageError

if TYPE_CHECKING:
    from dtrctl.reference import Registry

# URL parsing and the reference grammar are imported where used: every command module imports
# this one, and `--help` or a TAB never parses a URL.

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to connect: from options and environment, then the profile."""

    url: str | None = None
    username: str | None = None
    ca_file: str | None = None
    bundle: str | None = None
    insecure: bool = False
    allow_http: bool = False
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    # --quiet: no summaries, progress or notes on stderr (errors and warnings still).
    quiet: bool = False
    profile: str | None = None
    # The registry kind: auto (detect), dtr, harbor or registry; None: not given here.
    backend: str | None = None
    # --anonymous: a read may run without credentials when none are found (CI gates too).
    anonymous: bool = False

    def with_url(self, url: str) -> ConnectionSettings:
        return replace(self, url=url)

    def with_username(self, username: str) -> ConnectionSettings:
        return replace(self, username=username)

    def with_profile(self, profile: str) -> ConnectionSettings:
        return replace(self, profile=profile)

    def require_url(self) -> str:
        if not self.url:
            raise MissingSetting(
                "no DTR URL given",
                hint="Pass --url https://dtr.example.com or set DTRCTL_URL",
            )
        return self.url


def normalize_url(text: str) -> str:
    """`dtr.example.com` → `https://dtr.example.com`; no trailing slash; http only if explicit."""
    candidate = text.strip()
    if "://" not in candidate:
        candidate = f"https://{candidate}"
    from urllib.parse import urlsplit

    from dtrctl.reference import parse_registry

    try:
        parts = urlsplit(candidate)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"invalid DTR URL {text!r}", hint="Use a URL like https://dtr.example.com")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(
            f"invalid DTR URL {text!r}",
            hint="Give scheme, host and port only; credentials never go in the URL",
        )
    registry = parse_registry(parts.netloc)
    port = parts.port if parts.port not in (None, 443 if parts.scheme == "https" else 80) else None
    host = registry.host if port is None else f"{registry.host}:{port}"
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}"


def url_registry(url: str) -> Registry:
    """The registry (host and non-default port) a DTR URL points at, as references name it."""
    from urllib.parse import urlsplit

    from dtrctl.reference import Registry, parse_registry

    parts = urlsplit(url)
    registry = parse_registry(parts.netloc)
    if parts.scheme == "http" and registry.port == 80:
        return Registry(registry.host)
    return registry


def is_loopback(url: str) -> bool:
    return url_registry(url).host in LOOPBACK_HOSTS
