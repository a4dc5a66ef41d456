"""When a run may go without credentials, and what it says when it may not.

The rule (docs/reliability.md):

- a command that changes something needs a credential: exit 3 without one;
- a named user (`--username`, `DTRCTL_USERNAME`, the profile's `username`) without a secret, or a
  secret without a user, is exit 3: the user meant to authenticate, so never silently anonymous;
- `push-check` and `repo audit` gate CI: against a DTR they need a credential (exit 3), unless
  `--anonymous` is given or the registry is plain (`--backend registry`, or a host that only the
  references name and that turns out to have no DTR API);
- other read commands may run anonymously, and say so once on stderr.

`--anonymous` allows every read to run without a credential when none is found; it never
discards one that is found.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from dtrctl.auth.resolve import PASSWORD_VARIABLE, TOKEN_VARIABLE, USERNAME_VARIABLE
from dtrctl.errors import MissingCredentials

CREDENTIALS_HINT = (
    f"Set {USERNAME_VARIABLE} and {PASSWORD_VARIABLE} (a UCP password or a DTR access token), "
    "run `dtrctl login`, or `docker login` to the DTR host"
)
ANONYMOUS_HINT = "pass --anonymous (DTRCTL_ANONYMOUS=1) to check public repositories only"


class Need(str, Enum):
    """How much a command needs a credential."""

    WRITE = "write"  # changes something: always
    GATE = "gate"  # push-check, repo audit: against a DTR, unless --anonymous
    READ = "read"  # anything else: anonymous allowed, with a notice


class Anonymous(str, Enum):
    """What an anonymous run does next."""

    SILENT = "silent"  # declared (--anonymous) or a plain registry
    NOTICE = "notice"  # a read: say once on stderr that the run is anonymous
    UNLESS_DTR = "unless-dtr"  # a gate on a host named by the references: fail if it is a DTR


def sources_tried(host: str, environ: Mapping[str, str] | None = None) -> str:
    """The credential sources dtrctl looked in, for a message; no secret, no value."""
    from dtrctl.auth.docker_config import docker_config_path
    from dtrctl.auth.secret_store import credentials_path

    return (
        f"--password-stdin, {PASSWORD_VARIABLE}/{TOKEN_VARIABLE}; the secret `dtrctl login` "
        f"stored (system keyring, {credentials_path(environ)}); docker's credentials for {host} "
        f"(DOCKER_AUTH_CONFIG, {docker_config_path(environ)}, credential helpers)"
    )


def anonymous_run(
    need: Need,
    *,
    url: str,
    host: str,
    named_user: str | None,
    unusable_reason: str | None,
    declared_anonymous: bool,
    plain_registry: bool,
    url_from_reference: bool,
) -> Anonymous:
    """How a run without a credential goes on; `MissingCredentials` (exit 3) when it may not."""
    tried = f"tried {sources_tried(host)}"
    if need is Need.WRITE:
        reason = unusable_reason or (
            f"no secret found for user {named_user} at {url}"
            if named_user
            else f"this command needs credentials for {url}"
        )
        raise MissingCredentials(f"{reason}; {tried}", hint=CREDENTIALS_HINT)
    if declared_anonymous:
        return Anonymous.SILENT
    if named_user is not None:
        raise MissingCredentials(
            f"no secret found for user {named_user} at {url}, and a named user never runs "
            f"anonymously; {tried}",
            hint=f"{CREDENTIALS_HINT}; or {ANONYMOUS_HINT}",
        )
    if unusable_reason is not None:
        raise MissingCredentials(
            f"{unusable_reason}; {tried}", hint=f"{CREDENTIALS_HINT}; or {ANONYMOUS_HINT}"
        )
    if plain_registry:
        return Anonymous.SILENT
    if need is Need.GATE:
        if url_from_reference:
            return Anonymous.UNLESS_DTR
        raise gate_needs_credentials(url, host)
    return Anonymous.NOTICE


def gate_needs_credentials(url: str, host: str) -> MissingCredentials:
    """A CI gate with no credential for a DTR: its answer would cover public repositories only."""
    return MissingCredentials(
        f"no credentials for the DTR at {url}: an anonymous check sees public repositories only; "
        f"tried {sources_tried(host)}",
        hint=f"{CREDENTIALS_HINT}; or {ANONYMOUS_HINT}",
    )


def anonymous_notice(url: str) -> str:
    return (
        f"no credentials found for {url}: running anonymously (public repositories only); "
        "`dtrctl -v` shows where dtrctl looked"
    )
