"""The push-check decision: what a push of each tag would do, and the run's exit code.

Pure: no I/O, no terminal. `check.py` gathers the facts (repository, tag, digests) and this
module turns them into a verdict per tag, a reason in the user's (and DTR's) terms, the JSON form
and the exit code of the whole run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from dtrctl.errors import DtrctlError, ExitCode, MissingSetting, UsageError
from dtrctl.reference import ImageReference, Registry
from dtrctl.settings import normalize_url, url_registry

SHORT_DIGEST_HEX = 12


class PushVerdict(str, Enum):
    FREE = "free"  # tag absent: push
    PRESENT = "present"  # tag has the expected digest: skip the push
    OVERWRITE = "overwrite"  # mutable and different or unknown: the push replaces the tag
    COLLISION = "collision"  # immutable (or protected) and different or unknown: refused
    NO_REPO = "no-repo"  # repository absent or not visible: the push would fail
    ERROR = "error"  # the check could not complete: never read as "absent"


class TagFacts(NamedTuple):
    """What the registry said about one tag of an existing repository."""

    exists: bool
    # The repository's immutability; None where the registry cannot tell (a plain registry).
    immutable: bool | None
    # The digest compared with the expected one (the config digest under --config-digest);
    # None when absent or not comparable (e.g. the config digest of a multi-platform tag).
    comparable_digest: str | None


class Decision(NamedTuple):
    """The verdict for one tag, and why an existing tag is write-once."""

    verdict: PushVerdict
    # Why an existing tag counts as write-once: "repository", "protect" or "assume-immutable".
    write_once_by: str | None = None
    protected_by: str | None = None


def matching_protect_pattern(tag: str, patterns: Iterable[str]) -> str | None:
    """The first `--protect` glob (`dtrctl.globs`, case-sensitive like tags) `tag` matches."""
    if not patterns:
        return None
    from dtrctl.globs import glob_matches  # only when there are patterns: most runs have none

    return next((pattern for pattern in patterns if glob_matches(pattern, tag)), None)


def decide(
    facts: TagFacts,
    *,
    expected_digest: str | None,
    protected_by: str | None = None,
    assume_immutable: bool = False,
) -> Decision:
    """The verdict for one tag of an existing repository."""
    if not facts.exists:
        return Decision(PushVerdict.FREE, protected_by=protected_by)
    if expected_digest is not None and facts.comparable_digest == expected_digest:
        return Decision(PushVerdict.PRESENT, protected_by=protected_by)
    if facts.immutable:
        write_once_by: str | None = "repository"
    elif protected_by is not None:
        write_once_by = "protect"
    elif facts.immutable is None and assume_immutable:
        write_once_by = "assume-immutable"
    else:
        write_once_by = None
    verdict = PushVerdict.COLLISION if write_once_by else PushVerdict.OVERWRITE
    return Decision(verdict, write_once_by, protected_by)


def short_digest(digest: str | None) -> str:
    if not digest:
        return "-"
    algorithm, _, hex_digits = digest.partition(":")
    return f"{algorithm}:{hex_digits[:SHORT_DIGEST_HEX]}"


@dataclass(frozen=True)
class CheckResult:
    """One tag's outcome, in the order the references were given."""

    reference: str  # normalized host[:port]/ns/name:tag
    host: str
    repository: str  # ns/name
    tag: str
    verdict: PushVerdict
    exists: bool | None = None
    immutable: bool | None = None
    remote_digest: str | None = None
    expected_digest: str | None = None
    # Under --config-digest: the remote config digest compared (None when not comparable).
    remote_config_digest: str | None = None
    write_once_by: str | None = None
    protected_by: str | None = None
    author: str | None = None
    pushed_at: str | None = None
    notes: tuple[str, ...] = ()
    error: DtrctlError | None = None
    # `immutable` is the registry's verdict for this tag (Harbor), not the repository's flag.
    per_tag: bool = False

    @property
    def reason(self) -> str:
        """Why this verdict, in DTR's own words for a collision."""
        image = f"{self.host}/{self.repository}"
        if self.verdict is PushVerdict.FREE:
            return "tag absent: the push will create it"
        if self.verdict is PushVerdict.PRESENT and self.per_tag and self.immutable:
            return (
                "already published with the expected digest on an immutable tag: skip the push "
                "(Harbor refuses even an identical re-push)"
            )
        if self.verdict is PushVerdict.PRESENT:
            return "already published with the expected digest: skip the push"
        if self.verdict is PushVerdict.OVERWRITE and self.immutable is None:
            return (
                "the push will replace the tag, unless the registry protects it: it does not say "
                "(--assume-immutable treats its tags as immutable)"
            )
        if self.verdict is PushVerdict.OVERWRITE and self.per_tag:
            return "the push will replace the tag (no rule of the project makes it immutable)"
        if self.verdict is PushVerdict.OVERWRITE:
            return "the push will replace the tag (the repository is mutable)"
        if self.verdict is PushVerdict.NO_REPO:
            return f"repository {self.repository} does not exist, or this user may not see it"
        if self.verdict is PushVerdict.ERROR:
            return self.error.message if self.error else "the check could not complete"
        if self.write_once_by == "protect":
            return (
                f"push would overwrite a protected tag: {self.tag} matches "
                f"--protect {self.protected_by!r}"
            )
        if self.write_once_by == "assume-immutable":
            return (
                f"push would be refused: tag {self.tag} exists and --assume-immutable treats "
                f"{image} as an immutable repository"
            )
        if self.per_tag:
            return (
                f"push would be refused: tag {self.tag} of {image} is immutable under the "
                "project's rules (Harbor answers 412)"
            )
        return (
            f"push would be refused: tag={self.tag} cannot be overwritten because {image} "
            "is an immutable repository"
        )

    def is_failure(self, *, strict: bool) -> bool:
        """A verdict that fails the pipeline (JUnit `<failure>`); errors are separate."""
        return self.verdict in (PushVerdict.COLLISION, PushVerdict.NO_REPO) or (
            strict and self.verdict is PushVerdict.OVERWRITE
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "repository": self.repository,
            "tag": self.tag,
            "exists": self.exists,
            "immutable": self.immutable,
            "remote_digest": self.remote_digest,
            "expected_digest": self.expected_digest,
            "verdict": self.verdict.value,
            "remote_config_digest": self.remote_config_digest,
            "protected_by": self.protected_by,
            "author": self.author,
            "pushed_at": self.pushed_at,
            "reason": self.reason,
            "notes": list(self.notes),
            "error": self.error.to_dict() if self.error else None,
        }


def incomplete_exit_code(error: DtrctlError) -> ExitCode:
    """A check that could not complete is 3 (credentials, permission) or else 5."""
    return ExitCode.AUTH if error.exit_code == ExitCode.AUTH else ExitCode.UNAVAILABLE


def exit_code_for(results: Sequence[CheckResult], *, strict: bool) -> ExitCode:
    """Incomplete checks win (3 before 5), then a refused push (1), then a missing repo (4)."""
    incomplete = {
        incomplete_exit_code(result.error)
        for result in results
        if result.verdict is PushVerdict.ERROR and result.error is not None
    }
    if incomplete:
        return min(incomplete)
    verdicts = {result.verdict for result in results}
    if PushVerdict.COLLISION in verdicts or (strict and PushVerdict.OVERWRITE in verdicts):
        return ExitCode.FAILED
    if PushVerdict.NO_REPO in verdicts:
        return ExitCode.NOT_FOUND
    return ExitCode.OK


def _same_registry(reference: Registry, url: str) -> bool:
    configured = url_registry(url)
    if reference == configured:
        return True
    # An explicit default port names the same registry (`dtr:443` is `dtr`; 80 for http://).
    default_port = 80 if urlsplit(url).scheme == "http" else 443
    return (
        reference.host == configured.host
        and configured.port is None
        and (reference.port == default_port)
    )


def select_registry_url(references: Sequence[ImageReference], configured_url: str | None) -> str:
    """The URL to check `references` against: the configured one, or `https://<host>` of REFs.

    A REF naming another host than the configured URL's is a usage error; without a configured
    URL every REF must name the same host.
    """
    if configured_url:
        url = normalize_url(configured_url)
        for reference in references:
            if reference.registry is not None and not _same_registry(reference.registry, url):
                raise UsageError(
                    f"{reference} names registry {reference.registry}, but the configured URL "
                    f"is {url}",
                    hint="Check one registry at a time: drop the host from the reference or "
                    "change --url (DTRCTL_URL)",
                )
        return url
    hosts = {reference.registry for reference in references}
    if None in hosts:
        raise MissingSetting(
            "no DTR URL given and a reference names no registry host",
            hint="Pass --url https://dtr.example.com, set DTRCTL_URL, or write references as "
            "dtr.example.com/ns/name:tag",
        )
    if len(hosts) > 1:
        raise UsageError(
            "the references name several registries: "
            + ", ".join(sorted(str(host) for host in hosts)),
            hint="Check one registry at a time",
        )
    return normalize_url(f"https://{next(iter(hosts))}")
