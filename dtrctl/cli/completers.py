"""Completers of repository names and image references for `autocompletion=` on arguments.

Imported by every command that completes from the server, so it imports nothing heavy: the
names come through `dtrctl.repos.name_cache` only when its cache cannot answer.
"""

import re

import typer

from dtrctl.settings import ConnectionSettings

# Namespaces and names as DTR spells them (dtrctl.reference.COMPONENT_RE), or a prefix of one.
COMPONENT_PREFIX_RE = re.compile(r"[a-z0-9._-]*")


# Completers for `autocompletion=` on Typer arguments. Typer passes the Context of the command
# being completed; the global options (--url, --profile, ...) are on its root, parsed from the
# command line and the environment.


def complete_repository(ctx: typer.Context, incomplete: str) -> list[str]:
    """`NAMESPACE/NAME` of the repositories visible on the DTR, starting with `incomplete`."""
    return _repositories_starting_with(_settings(ctx), incomplete)


def complete_namespace(ctx: typer.Context, incomplete: str) -> list[str]:
    """Namespaces that hold repositories visible on the DTR, starting with `incomplete`."""
    if not COMPONENT_PREFIX_RE.fullmatch(incomplete):
        return []
    from dtrctl.repos.name_cache import repository_names

    names = repository_names(_settings(ctx))
    namespaces = dict.fromkeys(full_name.partition("/")[0] for full_name in names)
    return [namespace for namespace in namespaces if namespace.startswith(incomplete)]


def complete_reference(ctx: typer.Context, incomplete: str) -> list[str]:
    """Image references for push-check: `[HOST[:PORT]/]NAMESPACE/NAME`, with the host if typed.

    With a host, the names come from that registry: the configured URL when it names the same
    registry (as push-check decides), else https://HOST.
    """
    settings = _settings(ctx)
    host, separator, rest = incomplete.partition("/")
    if not separator or not _looks_like_registry(host):
        return _repositories_starting_with(settings, incomplete)
    # The profile's URL counts as --url does: it may name this host with a port or http://.
    url = _registry_url(host, _with_profile(settings).url)
    if url is None:
        return []
    return [f"{host}/{name}" for name in _repositories_starting_with(settings.with_url(url), rest)]


def complete_visibility(incomplete: str) -> list[str]:
    """The values of --visibility (never file names)."""
    return [value for value in ("private", "public") if value.startswith(incomplete)]


def complete_flavor(incomplete: str) -> list[str]:
    """The values of `sandbox --flavor`."""
    return [value for value in ("dtr", "harbor") if value.startswith(incomplete)]


def complete_profile(incomplete: str) -> list[str]:
    """The profiles of the config file (nothing when it cannot be read)."""
    from dtrctl.config import load_config
    from dtrctl.errors import DtrctlError

    try:
        names = load_config().profiles
    except DtrctlError:
        return []
    return [name for name in names if name.startswith(incomplete)]


def _with_profile(settings: ConnectionSettings) -> ConnectionSettings:
    """The settings with what the active profile fills in; as given when it cannot be read."""
    from dtrctl.errors import DtrctlError
    from dtrctl.session import load_profile

    try:
        return load_profile(settings)[0]
    except DtrctlError:
        return settings


def _repositories_starting_with(settings: ConnectionSettings, incomplete: str) -> list[str]:
    namespace, separator, name = incomplete.partition("/")
    # Only a prefix of NAMESPACE/NAME asks the server; a tag, digest or typo does not.
    if not COMPONENT_PREFIX_RE.fullmatch(namespace) or not COMPONENT_PREFIX_RE.fullmatch(name):
        return []
    from dtrctl.repos.name_cache import repository_names

    names = repository_names(settings, namespace if separator else None)
    return [full_name for full_name in names if full_name.startswith(incomplete)]


def _settings(ctx: typer.Context) -> ConnectionSettings:
    """The connection settings the command line and environment give (the callback that
    builds them does not run while completing)."""
    params = ctx.find_root().params
    return ConnectionSettings(
        url=params.get("url"),
        username=params.get("username"),
        ca_file=params.get("ca_file"),
        bundle=params.get("bundle"),
        insecure=bool(params.get("insecure")),
        allow_http=bool(params.get("allow_http")),
        profile=params.get("profile"),
    )


def _looks_like_registry(component: str) -> bool:
    # Docker's rule, as dtrctl.reference applies it: a dot, a colon, uppercase, or localhost.
    return (
        "." in component
        or ":" in component
        or component == "localhost"
        or component != component.lower()
    )


def _registry_url(host: str, configured_url: str | None) -> str | None:
    """The URL push-check would use for references on `host`; None when it would refuse."""
    from dtrctl.errors import DtrctlError
    from dtrctl.reference import parse_registry
    from dtrctl.settings import normalize_url, url_registry

    try:
        registry = parse_registry(host)
        if not configured_url:
            return normalize_url(f"https://{registry}")
        url = normalize_url(configured_url)
    except DtrctlError:
        return None
    return url if url_registry(url) == registry else None
