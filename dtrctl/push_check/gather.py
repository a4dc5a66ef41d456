"""Push-check orchestration: gather the facts for each tag and decide, without a terminal.

Requests are economical and concurrent: each repository is fetched once from the DTR API (all
repositories at once), then every tag's `/v2` manifest HEAD and DTR tag details are fetched
together; everything goes through the session's one HTTP client, and registry tokens are fetched
once per scope. A repository the DTR API reports absent is `no-repo` without asking `/v2`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from dtrctl.errors import (
    DtrctlError,
    InvalidResponse,
    PermissionDenied,
)
from dtrctl.push_check.expected import DigestKind, ExpectedContent
from dtrctl.push_check.facts import RepositoryState, TagDetails, as_incomplete
from dtrctl.push_check.verdicts import (
    CheckResult,
    PushVerdict,
    TagFacts,
    decide,
    matching_protect_pattern,
)
from dtrctl.reference import ImageReference, RepositoryName
from dtrctl.settings import url_registry

if TYPE_CHECKING:
    from dtrctl.backends.base import Backend
    from dtrctl.client.registry import Manifest, ManifestHead
    from dtrctl.session import Session

DEFAULT_CONCURRENCY = 8
MULTI_PLATFORM_CONFIG_NOTE = (
    "multi-platform tag: it has no single config digest to compare with --config-digest "
    "(compare the index digest with --digest instead)"
)

T = TypeVar("T")


class RegistryApi(Protocol):
    def head_manifest(self, name: RepositoryName, tag: str) -> ManifestHead | None: ...
    def get_manifest(self, name: RepositoryName, reference: str) -> Manifest | None: ...


class CheckOptions(NamedTuple):
    """How push-check decides, besides what the registry says."""

    expected: ExpectedContent | None = None
    protect: tuple[str, ...] = ()
    assume_immutable: bool = False
    concurrency: int = DEFAULT_CONCURRENCY


def check_references(
    session: Session, references: Sequence[ImageReference], options: CheckOptions
) -> list[CheckResult]:
    """One result per reference, in input order, against the session's registry."""
    from dtrctl.client.registry import RegistryClient

    registry = RegistryClient(session.http, session.url, session.auth)
    username = session.credential.username if session.credential else None
    host = str(url_registry(session.url))
    anonymous_dtr = None
    if session.dtr_needs_credentials:
        from dtrctl.auth.anonymous import gate_needs_credentials

        anonymous_dtr = gate_needs_credentials(session.url, host)
    return run_checks(
        session.backend, registry, host, references, options, username, anonymous_dtr=anonymous_dtr
    )


def run_checks(
    backend: Backend,
    registry: RegistryApi,
    host: str,
    references: Sequence[ImageReference],
    options: CheckOptions,
    username: str | None = None,
    *,
    anonymous_dtr: DtrctlError | None = None,
) -> list[CheckResult]:
    """`anonymous_dtr`: raised if the registry answers like a DTR (an anonymous CI gate that may
    only check a plain registry)."""
    names = list(dict.fromkeys(reference.repository for reference in references))
    keys = list(dict.fromkeys((reference.repository, reference.tag) for reference in references))
    pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency))
    try:
        found = pool.map(lambda name: backend.repository_state(name, username), names)
        states = dict(zip(names, found, strict=True))
        if anonymous_dtr is not None and any(state.has_api for state in states.values()):
            raise anonymous_dtr
        checked = [key for key in keys if states[key[0]].found and states[key[0]].error is None]
        heads = {
            key: pool.submit(_capture, partial(registry.head_manifest, *key)) for key in checked
        }
        details = {
            key: pool.submit(backend.tag_details, *key) for key in checked if states[key[0]].has_api
        }
        configs = _config_digests(pool, registry, heads, details, options)
        results = {
            key: _result(
                key,
                host,
                states[key[0]],
                TagLookups(heads.get(key), details.get(key), configs.get(key)),
                options,
            )
            for key in keys
        }
    except BaseException as error:
        # Ctrl-C or a failure: start nothing more and leave what is in flight (a request blocked
        # in a read cannot be stopped; after Ctrl-C the process does not wait for it).
        if isinstance(error, KeyboardInterrupt):
            from dtrctl.interrupts import second_interrupt_exits

            second_interrupt_exits()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [results[(reference.repository, reference.tag)] for reference in references]


def _capture(call: Callable[[], T]) -> T | DtrctlError:
    try:
        return call()
    except DtrctlError as error:
        return as_incomplete(error)


class ConfigLookup(NamedTuple):
    """A tag's config digest, or a note why there is none to compare."""

    digest: str | None
    note: str | None = None


def _config_digests(
    pool: ThreadPoolExecutor,
    registry: RegistryApi,
    heads: dict[tuple[RepositoryName, str], Future[ManifestHead | DtrctlError | None]],
    details: dict[tuple[RepositoryName, str], Future[TagDetails]],
    options: CheckOptions,
) -> dict[tuple[RepositoryName, str], Future[ConfigLookup | DtrctlError]]:
    """Under --config-digest: each existing tag's config digest, from DTR's API or `/v2`."""
    if options.expected is None or options.expected.kind is not DigestKind.CONFIG:
        return {}
    lookups: dict[tuple[RepositoryName, str], Future[ConfigLookup | DtrctlError]] = {}
    for key, head_future in heads.items():
        head = head_future.result()
        if head is None or isinstance(head, DtrctlError):
            continue
        if head.is_index:
            lookups[key] = _done(ConfigLookup(None, MULTI_PLATFORM_CONFIG_NOTE))
            continue
        known = details[key].result().config_digest if key in details else None
        if known:
            lookups[key] = _done(ConfigLookup(known))
        else:
            lookups[key] = pool.submit(
                _capture, partial(_config_from_registry, registry, key[0], head.digest)
            )
    return lookups


def _done(value: T) -> Future[T]:
    future: Future[T] = Future()
    future.set_result(value)
    return future


def _config_from_registry(registry: RegistryApi, name: RepositoryName, digest: str) -> ConfigLookup:
    manifest = registry.get_manifest(name, digest)
    if manifest is None:
        raise InvalidResponse(f"the registry named manifest {digest} of {name} but cannot serve it")
    if manifest.is_index:
        return ConfigLookup(None, MULTI_PLATFORM_CONFIG_NOTE)
    if manifest.config_digest is None:
        return ConfigLookup(None, "the remote manifest names no config digest")
    return ConfigLookup(manifest.config_digest)


class TagLookups(NamedTuple):
    """The pending answers about one tag; None where the question was not asked."""

    head: Future[ManifestHead | DtrctlError | None] | None
    details: Future[TagDetails] | None
    config: Future[ConfigLookup | DtrctlError] | None


def _unanswered(
    key: tuple[RepositoryName, str], host: str, state: RepositoryState, options: CheckOptions
) -> CheckResult:
    """What is known of a tag before any answer about it: an error verdict until decided."""
    name, tag = key
    return CheckResult(
        reference=f"{host}/{name}:{tag}",
        host=host,
        repository=str(name),
        tag=tag,
        verdict=PushVerdict.ERROR,
        immutable=state.immutable,
        expected_digest=options.expected.digest if options.expected else None,
        protected_by=matching_protect_pattern(tag, options.protect),
    )


def _result(
    key: tuple[RepositoryName, str],
    host: str,
    state: RepositoryState,
    lookups: TagLookups,
    options: CheckOptions,
) -> CheckResult:
    name = key[0]
    expected = options.expected
    base = _unanswered(key, host, state, options)
    if state.error is not None:
        return replace(base, error=state.error)
    if not state.found or lookups.head is None:
        return replace(base, verdict=PushVerdict.NO_REPO, exists=False)
    head = lookups.head.result()
    if isinstance(head, DtrctlError):
        return replace(base, error=head)
    details = lookups.details.result() if lookups.details else TagDetails()
    notes = [note for note in (state.note, details.note) if note]
    comparable = head.digest if head else None
    remote_config = None
    if head is not None and lookups.config is not None:
        config = lookups.config.result()
        if isinstance(config, DtrctlError):
            return replace(base, exists=True, remote_digest=head.digest, error=config)
        remote_config, comparable = config.digest, config.digest
        notes += [config.note] if config.note else []
    decision = decide(
        TagFacts(exists=head is not None, immutable=state.immutable, comparable_digest=comparable),
        expected_digest=expected.digest if expected else None,
        protected_by=base.protected_by,
        assume_immutable=options.assume_immutable,
    )
    if state.may_push is False and decision.verdict in (PushVerdict.FREE, PushVerdict.OVERWRITE):
        # The push would be attempted, and DTR would refuse it for want of the right.
        return replace(
            base,
            exists=head is not None,
            remote_digest=head.digest if head else None,
            error=PermissionDenied(
                f"user {state.user} may not push to {name}: read-only access",
                hint="Ask a repository or organization admin for read-write access",
            ),
        )
    return replace(
        base,
        verdict=decision.verdict,
        exists=head is not None,
        remote_digest=head.digest if head else None,
        remote_config_digest=remote_config,
        write_once_by=decision.write_once_by,
        author=details.author if head else None,
        pushed_at=details.pushed_at if head else None,
        notes=tuple(notes),
    )
