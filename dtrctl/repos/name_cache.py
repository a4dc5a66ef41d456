"""Repository names for shell completion: DTR's answer, kept on disk for a few minutes.

A TAB must stay quick and quiet, so a lookup
- uses only a credential that is available without asking (environment, a stored secret,
  docker's credentials) or none at all (anonymous sees public repositories);
- is bounded to about a second: one try per request, one-second timeouts, and a deadline on the
  whole lookup (credential helpers included);
- gives nothing, and prints nothing, on any failure;
- is cached per DTR URL, user and namespace for `CACHE_TTL_SECONDS` in the user's cache directory
  (`$XDG_CACHE_HOME/dtrctl`, else `~/.cache/dtrctl`; `~/Library/Caches/dtrctl` on macOS,
  `%LOCALAPPDATA%\\dtrctl\\Cache` on Windows), as 0600 files in a 0700 directory.

httpx and keyring are imported only when the cache cannot answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from dtrctl.errors import UsageError
from dtrctl.files import NAME_CACHE_LIMIT, read_bytes_bounded
from dtrctl.settings import ConnectionSettings

CACHE_TTL_SECONDS = 300.0
LOOKUP_SECONDS = 1.0
CACHE_FORMAT = 1

T = TypeVar("T")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """dtrctl's cache directory (see the module docstring); it may not exist yet."""
    env = os.environ if environ is None else environ
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    if sys.platform == "win32":
        local = env.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "dtrctl" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "dtrctl"
    xdg = env.get("XDG_CACHE_HOME")
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache"
    return base / "dtrctl"


@dataclass(frozen=True)
class RepositoryNameCache:
    """Names of the repositories one user sees on one DTR, per namespace (None: all of them)."""

    directory: Path
    url: str
    username: str | None

    def path(self, namespace: str | None) -> Path:
        key = json.dumps([self.url, self.username, namespace])
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        return self.directory / f"repositories-{digest}.json"

    def read(self, namespace: str | None, now: float) -> list[str] | None:
        """The cached names, or None when there are none younger than `CACHE_TTL_SECONDS`."""
        try:
            cached = read_bytes_bounded(self.path(namespace), NAME_CACHE_LIMIT, "the cache")
            document = json.loads(cached)
        except (OSError, ValueError, RecursionError, UsageError):
            return None
        if not isinstance(document, dict):
            return None
        fetched_at = document.get("fetched_at")
        names = document.get("repositories")
        if (
            document.get("format") != CACHE_FORMAT
            or [document.get("url"), document.get("username"), document.get("namespace")]
            != [self.url, self.username, namespace]
            or not isinstance(fetched_at, (int, float))
            # A timestamp from the future (clock changed) is as good as expired.
            or not 0 <= now - fetched_at < CACHE_TTL_SECONDS
            or not isinstance(names, list)
            or not all(isinstance(name, str) for name in names)
        ):
            return None
        return names

    def write(self, namespace: str | None, names: list[str], now: float) -> None:
        from dtrctl.config import write_private_file

        document = {
            "format": CACHE_FORMAT,
            "url": self.url,
            "username": self.username,
            "namespace": namespace,
            "fetched_at": now,
            "repositories": names,
        }
        write_private_file(self.path(namespace), json.dumps(document))


def repository_names(
    settings: ConnectionSettings,
    namespace: str | None = None,
    *,
    clock: Callable[[], float] = time.time,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Full names (`namespace/name`, sorted) of the repositories visible with `settings`, in
    `namespace` when given; [] when DTR cannot tell within about a second, for whatever reason.
    """
    # Completion must never fail loudly: any error simply means "no candidates".
    try:
        from dtrctl.session import load_profile
        from dtrctl.settings import normalize_url

        settings, _ = load_profile(settings)
        url = normalize_url(settings.require_url())
        cache = RepositoryNameCache(cache_dir(environ), url, settings.username)
        now = clock()
        # A fresh list of all repositories also answers for one namespace.
        for scope in dict.fromkeys((namespace, None)):
            cached = cache.read(scope, now)
            if cached is not None:
                return _in_namespace(cached, namespace)
        fetched = _within(LOOKUP_SECONDS, lambda: _fetch(settings, namespace))
        if fetched is None:
            return []
        cache.write(namespace, fetched, now)
        return fetched
    except Exception:
        return []


def forget_repository_names(settings: ConnectionSettings, namespace: str) -> None:
    """Drop the cached lists a new repository in `namespace` makes stale (after `repo
    create`), so the next TAB asks DTR again; `settings` are already merged with the profile."""
    try:
        from dtrctl.settings import normalize_url

        cache = RepositoryNameCache(
            cache_dir(), normalize_url(settings.require_url()), settings.username
        )
        for scope in (None, namespace):
            cache.path(scope).unlink(missing_ok=True)
    except Exception:
        # A cache that cannot be cleaned only expires later; the create itself succeeded.
        return


def _in_namespace(names: list[str], namespace: str | None) -> list[str]:
    if namespace is None:
        return names
    return [name for name in names if name.startswith(f"{namespace}/")]


def _fetch(settings: ConnectionSettings, namespace: str | None) -> list[str]:
    import logging

    from dtrctl.session import open_session

    # The root callback that configures logging does not run while completing: without a
    # handler, a warning (say, an unreadable docker config) would reach Python's last-resort
    # handler and print in the middle of the user's command line.
    quiet = logging.getLogger("dtrctl")
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    quick = replace(settings, timeout=LOOKUP_SECONDS, retries=0)
    with open_session(quick, need_credentials=False, prompt_secret=None) as session:
        return sorted(
            repository.full_name for repository in session.dtr.list_repositories(namespace)
        )


def _within(seconds: float, work: Callable[[], T]) -> T | None:
    """`work()`'s result if it succeeds within `seconds`, else None (it is left to finish alone).

    A thread, because a request timeout bounds each read, not a slow trickle of pages, and a
    docker credential helper has no timeout at all.
    """
    results: list[T] = []

    def run() -> None:
        # Any failure means no candidates; the thread must not print a traceback.
        try:
            results.append(work())
        except Exception:
            return

    thread = threading.Thread(target=run, name="dtrctl-completion-lookup", daemon=True)
    thread.start()
    thread.join(seconds)
    return results[0] if results else None
