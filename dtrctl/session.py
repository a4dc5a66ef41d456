"""From settings to a ready connection: URL, credentials, one HTTP client for the whole run."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from dtrctl.errors import UsageError
from dtrctl.settings import ConnectionSettings, is_loopback, normalize_url, url_registry

if TYPE_CHECKING:
    import httpx

    from dtrctl.auth.anonymous import Anonymous, Need
    from dtrctl.auth.credential import Credential
    from dtrctl.backends.base import Backend, PushCheckFacts
    from dtrctl.backends.dtr.api import DtrClient
    from dtrctl.backends.plain import PlainRegistryBackend
    from dtrctl.config import Profile

logger = logging.getLogger(__name__)


@dataclass
class Session:
    """One run's connection to one DTR: close it (or use `with`) when done."""

    url: str
    settings: ConnectionSettings
    credential: Credential | None
    http: httpx.Client
    profile: Profile | None = None
    # The URL is the host push-check's references name, not a configured DTR.
    url_from_reference: bool = False
    # Anonymous only as long as the host proves a plain registry: a DTR answer is exit 3.
    dtr_needs_credentials: bool = False
    _dtr: DtrClient | None = None
    _backend: Backend | PlainRegistryBackend | None = None

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.credential.username, self.credential.secret) if self.credential else None

    @property
    def backend(self) -> Backend:
        """The registry's repository administration; on a plain registry, which has none, a
        usage error (exit 2) before any request."""
        backend = self._kind_backend()
        from dtrctl.backends.plain import PlainRegistryBackend, refuse_administration

        if isinstance(backend, PlainRegistryBackend):
            refuse_administration()
        return backend

    @property
    def push_check_backend(self) -> PushCheckFacts:
        """What push-check asks of the registry's API, whatever its kind (a plain one too)."""
        return self._kind_backend()

    def _kind_backend(self) -> Backend | PlainRegistryBackend:
        if self._backend is None:
            from dtrctl.backends.detect import backend_for

            self._backend = backend_for(
                self.settings.backend,
                http=self.http,
                url=self.url,
                auth=self.auth,
                dtr_api=lambda: self.dtr,
                url_from_reference=self.url_from_reference,
            )
        return self._backend

    @property
    def dtr(self) -> DtrClient:
        if self._dtr is None:
            from dtrctl.backends.dtr.api import DtrClient

            self._dtr = DtrClient(self.http, self.url, self.auth)
        return self._dtr

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def load_profile(
    settings: ConnectionSettings, *, must_exist: bool = True
) -> tuple[ConnectionSettings, Profile | None]:
    """Fill what options and environment left open from the active profile of the config file.

    A profile named explicitly must exist, unless `must_exist` is false (login creates it).
    """
    from dataclasses import replace

    from dtrctl.config import active_profile_name, load_config

    config = load_config()
    name = active_profile_name(settings.profile, config=config)
    profile = config.get_profile(name)
    if profile is None:
        if settings.profile and must_exist:
            known = ", ".join(sorted(config.profiles)) or "none"
            raise UsageError(
                f"profile {settings.profile!r} is not in {config.path}",
                hint=f"Known profiles: {known}. Create one with `dtrctl login --profile NAME`",
            )
        return settings, None
    merged = replace(
        settings,
        url=settings.url or profile.url,
        username=settings.username or profile.username,
        ca_file=settings.ca_file or profile.ca_file,
        bundle=settings.bundle or profile.bundle,
        insecure=settings.insecure or profile.insecure,
        backend=settings.backend or profile.backend,
        profile=name,
    )
    return merged, profile


def open_session(
    settings: ConnectionSettings,
    *,
    need_credentials: bool,
    prompt_secret: Callable[[str, str | None], tuple[str, str] | None] | None = None,
    secret: str | None = None,
    profile: Profile | None = None,
    profile_loaded: bool = False,
    gate: bool = False,
    notice: Callable[[str], None] | None = None,
    url_from_reference: bool = False,
) -> Session:
    """Resolve URL and credentials, then build the run's HTTP client.

    Settings not yet merged with the active profile are merged here (`profile_loaded` says the
    caller did it already). Without a credential, `dtrctl.auth.anonymous` decides: a write
    (`need_credentials`) or a CI `gate` against a DTR fails before any request; another read goes
    anonymous and says so once through `notice`. `url_from_reference`: the URL is the host
    push-check's references name, not a configured DTR.
    """
    from dtrctl.auth.anonymous import Anonymous, Need, anonymous_notice

    if not profile_loaded:
        settings, profile = load_profile(settings)
    url = normalize_url(settings.require_url())
    if url.startswith("http://") and not is_loopback(url) and not settings.allow_http:
        raise UsageError(
            f"refusing to send credentials over plain HTTP to {url}",
            hint="Use https://, or pass --allow-http if you really mean it",
        )
    credential, anonymous = _credential(
        settings,
        url,
        profile,
        secret=secret,
        prompt_secret=prompt_secret if need_credentials else None,
        need=Need.WRITE if need_credentials else Need.GATE if gate else Need.READ,
        url_from_reference=url_from_reference,
    )
    if anonymous is Anonymous.NOTICE and notice is not None:
        notice(anonymous_notice(url))
    from dtrctl.client.transport import TransportOptions, build_http_client

    options = TransportOptions(
        timeout=settings.timeout,
        retries=settings.retries,
        ca_file=settings.ca_file,
        bundle=settings.bundle,
        insecure=settings.insecure,
    )
    http = build_http_client(options)
    return Session(
        url=url,
        settings=settings,
        credential=credential,
        http=http,
        profile=profile,
        url_from_reference=url_from_reference,
        dtr_needs_credentials=anonymous is Anonymous.UNLESS_DTR,
    )


def _credential(
    settings: ConnectionSettings,
    url: str,
    profile: Profile | None,
    *,
    secret: str | None,
    prompt_secret: Callable[[str, str | None], tuple[str, str] | None] | None,
    need: Need,
    url_from_reference: bool,
) -> tuple[Credential | None, Anonymous | None]:
    """The run's credential, or None and how the anonymous run goes on (or `MissingCredentials`)."""
    from dtrctl.auth.anonymous import anonymous_run
    from dtrctl.auth.credential import Credential
    from dtrctl.auth.resolve import USERNAME_VARIABLE, resolve_credentials

    host = str(url_registry(url))
    lookup = resolve_credentials(
        host=host, url=url, username=settings.username, secret=secret, profile=profile
    )
    credential = lookup.credential
    if credential is None and prompt_secret is not None:
        prompted = prompt_secret(url, settings.username)
        if prompted:
            credential = Credential(prompted[0], prompted[1], "prompt")
    source = credential.source if credential else "none (anonymous)"
    who = f" for user {credential.username}" if credential else ""
    logger.debug(f"credentials: using {source}{who}")
    if credential is None and lookup.unusable_reason:
        logger.debug(f"credentials: {lookup.unusable_reason}")
    if credential is not None:
        return credential, None
    return None, anonymous_run(
        need,
        url=url,
        host=host,
        named_user=settings.username
        or os.environ.get(USERNAME_VARIABLE)
        or (profile.username if profile else None),
        unusable_reason=lookup.unusable_reason,
        declared_anonymous=settings.anonymous,
        plain_registry=settings.backend == "registry",
        url_from_reference=url_from_reference,
    )
