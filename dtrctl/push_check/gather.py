"""Push-check orchestration: gather the facts for each tag and decide, without a terminal.

What costs across a WAN is round trips, so every question is asked at once: each repository's
state from the backend's API, every tag's manifest (one `GET` each, which tells presence and
digest, and the config digest too) and every tag's details. Where the backend knows the
registry's token endpoint, the token is asked for without first asking `GET /v2/` for the
registry's challenge: only a refused token makes the challenge worth a round trip. Everything
goes through the session's one HTTP client, and registry tokens are fetched once per scope. A
tag of a repository the backend reports absent is `no-repo`, whatever the registry said of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from dtrctl.client.limits import POOL_CONNECTIONS
from dtrctl.errors import DtrctlError, InvalidResponse, PermissionDenied
from dtrctl.push_check.expected import DigestKind, ExpectedContent
from dtrctl.push_check.verdicts import (
    CheckResult,
    PushVerdict,
    TagFacts,
    decide,
    matching_protect_pattern,
)
from dtrctl.records.push import RepositoryState, TagDetails, as_incomplete
from dtrctl.reference import ImageReference, RepositoryName
from dtrctl.settings import url_registry

if TYPE_CHECKING:
    from dtrctl.backends.base import PushCheckFacts
    from dtrctl.client.distribution import Manifest, RegistryClient
    from dtrctl.client.registry_auth import Challenge
    from dtrctl.session import Session

DEFAULT_CONCURRENCY = 8
MULTI_PLATFORM_CONFIG_NOTE = (
    "multi-platform tag: it has no single config digest to compare with --config-digest "
    "(compare the index digest with --digest instead)"
)

T = TypeVar("T")
TagKey = tuple[RepositoryName, str]


class CheckOptions(NamedTuple):
    """How push-check decides, besides what the registry says."""

    expected: ExpectedContent | None = None
    protect: tuple[str, ...] = ()
    assume_immutable: bool = False
    concurrency: int = DEFAULT_CONCURRENCY


def check_references(
    session: Session, references: Sequence[ImageReference], options: CheckOptions
) -> list[CheckResult]:
    """One result per reference, in input order, against the session's registry. Under `auto`,
    the kind is found out beside the first questions (`dtrctl.backends.detect`), and each kind's
    token endpoint is asked in the same flight: a DTR or a Harbor costs no round trip more."""
    from dtrctl.client.distribution import RegistryClient

    backend = session.push_check_backend
    guesses = token_guesses(backend, session.url)
    registry = RegistryClient(
        session.http,
        session.url,
        session.auth,
        other_guesses=tuple(guesses),
        # Harbor's token lists the actions granted: asking for push tells whether it would be
        # refused, without another request (DTR's access call tells it instead). A guess asks
        # as its kind does; the registry's own challenge as the kind learnt meanwhile.
        ask_push=lambda challenge: guesses.get(challenge, backend.kind == "harbor"),
    )
    username = session.credential.username if session.credential else None
    host = str(url_registry(session.url))
    anonymous_dtr = None
    if session.dtr_needs_credentials:
        from dtrctl.auth.anonymous import gate_needs_credentials

        anonymous_dtr = gate_needs_credentials(session.url, host)
    return run_checks(
        backend,
        registry,
        host,
        references,
        options,
        username,
        anonymous_dtr=anonymous_dtr,
        token_requests=max(1, len(guesses)),
    )


def token_guesses(backend: PushCheckFacts, url: str) -> dict[Challenge, bool]:
    """The token endpoints to ask before the registry's challenge, in order, each with whether
    it is Harbor's (whose token tells the push right): the backend's, or under `auto` each
    kind's."""
    from dtrctl.backends.detect import DetectingBackend
    from dtrctl.client.registry_auth import Challenge

    if isinstance(backend, DetectingBackend):
        endpoints = backend.token_endpoints(url)
    else:
        endpoint = backend.token_endpoint(url)
        endpoints = {backend.kind: endpoint} if endpoint else {}
    return {
        Challenge("bearer", *endpoint): kind == "harbor" for kind, endpoint in endpoints.items()
    }


class TagLookups(NamedTuple):
    """The pending answers about one tag."""

    manifest: Future[Manifest | DtrctlError | None]
    details: Future[TagDetails]


def run_checks(
    backend: PushCheckFacts,
    registry: RegistryClient,
    host: str,
    references: Sequence[ImageReference],
    options: CheckOptions,
    username: str | None = None,
    *,
    anonymous_dtr: DtrctlError | None = None,
    token_requests: int = 1,
) -> list[CheckResult]:
    """`anonymous_dtr`: raised if the registry answers like a DTR (an anonymous CI gate that may
    only check a plain registry); `token_requests`: how many token endpoints the first
    question of a repository asks at once."""
    names = list(dict.fromkeys(reference.repository for reference in references))
    keys = list(dict.fromkeys((reference.repository, reference.tag) for reference in references))
    # Threads wait on the network, not the CPU: enough for every question of a typical run
    # to be in flight at once.
    workers = max(1, options.concurrency, min(64, len(names) + 2 * len(keys)))
    opening = keys_opening_a_connection(keys, token_requests)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dtrctl-check")
    try:
        state_futures = {
            name: pool.submit(backend.repository_state, name, username) for name in names
        }
        manifests = {
            key: pool.submit(_capture, partial(_manifest, registry, key, open_first=key in opening))
            for key in keys
        }
        details = {key: pool.submit(backend.tag_details, *key) for key in keys}
        states = {name: future.result() for name, future in state_futures.items()}
        if anonymous_dtr is not None and any(state.has_api for state in states.values()):
            raise anonymous_dtr
        if username is not None:
            for name in names:
                pending = [manifests[key] for key in keys if key[0] == name]
                states[name] = _with_push_right(
                    backend, registry, (name, username), states[name], pending
                )
        results = {
            key: _result(
                key, host, states[key[0]], TagLookups(manifests[key], details[key]), options
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


def keys_opening_a_connection(keys: Sequence[TagKey], token_requests: int = 1) -> set[TagKey]:
    """The tags whose manifest GET first opens a connection of its own (`open_connection`).

    The first tag of each repository asks for the repository's token; the GETs of the others
    wait for it and then all go at once, when the API's questions may still hold the other
    connections: one that finds none idle opens one, two round trips more over TLS. So each of
    them opens its connection while the token is on its way, within what the pool leaves beside
    the first questions (each repository's state, each tag's details, the `token_requests` of
    each repository, the probe).
    """
    names = dict.fromkeys(name for name, _ in keys)
    first_questions = (1 + token_requests) * len(names) + len(keys) + 1
    firsts = set(_firsts(keys))
    waiting = [key for key in keys if key not in firsts]
    return set(waiting[: max(0, POOL_CONNECTIONS - first_questions)])


def _firsts(keys: Sequence[TagKey]) -> list[TagKey]:
    """The first tag of each repository."""
    return list({name: (name, tag) for name, tag in reversed(keys)}.values())


def _manifest(registry: RegistryClient, key: TagKey, *, open_first: bool) -> Manifest | None:
    if open_first:
        registry.open_connection()
    return registry.get_manifest(*key)


def _with_push_right(
    backend: PushCheckFacts,
    registry: RegistryClient,
    who: tuple[RepositoryName, str],
    state: RepositoryState,
    pending: list[Future[Manifest | DtrctlError | None]],
) -> RepositoryState:
    """The caller's push right where the repository state did not tell it (Harbor): from the
    token the manifest reads used, else the backend's look-up; a failure is kept, never
    "allowed"."""
    name, username = who
    if state.error is not None or not state.found or not state.has_api or state.user:
        return state
    for future in pending:
        future.result()  # the manifest reads fetch the token whose claim tells the right
    right = backend.push_right(name, registry.granted_actions(name))
    if isinstance(right, DtrctlError):
        return state._replace(push_error=as_incomplete(right))
    if right is False:
        return state._replace(
            push_error=PermissionDenied(
                f"user {username} may not push to {name}: the registry grants no push right there",
                hint="On Harbor a push needs the developer role (or above) in the project, or "
                "a robot account of that project with the push permission",
            )
        )
    return state


def _capture(call: Callable[[], T]) -> T | DtrctlError:
    try:
        return call()
    except DtrctlError as error:
        return as_incomplete(error)


class ConfigLookup(NamedTuple):
    """A tag's config digest, or a note why there is none to compare."""

    digest: str | None
    note: str | None = None


def _config_digest(manifest: Manifest) -> ConfigLookup:
    """The config digest to compare under --config-digest, from the manifest already read."""
    if manifest.is_index:
        return ConfigLookup(None, MULTI_PLATFORM_CONFIG_NOTE)
    if manifest.config_digest is None:
        return ConfigLookup(None, "the remote manifest names no config digest")
    return ConfigLookup(manifest.config_digest)


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
    if not state.found:
        return replace(base, verdict=PushVerdict.NO_REPO, exists=False)
    head = lookups.manifest.result()
    if isinstance(head, DtrctlError):
        return replace(base, error=head)
    details = lookups.details.result() if state.has_api else TagDetails()
    base = _with_per_tag_facts(base, details, head)
    if base.error is not None:
        return base
    notes = [note for note in (state.note, details.note) if note]
    comparable = head.digest if head else None
    remote_config = None
    if head is not None and expected is not None and expected.kind is DigestKind.CONFIG:
        config = _config_digest(head)
        remote_config, comparable = config.digest, config.digest
        notes += [config.note] if config.note else []
    decision = decide(
        TagFacts(exists=head is not None, immutable=base.immutable, comparable_digest=comparable),
        expected_digest=expected.digest if expected else None,
        protected_by=base.protected_by,
        assume_immutable=options.assume_immutable,
    )
    writes = decision.verdict in (PushVerdict.FREE, PushVerdict.OVERWRITE)
    if writes and (state.may_push is False or state.push_error is not None):
        # The push would be attempted, and the registry would refuse it for want of the right.
        return replace(
            base,
            exists=head is not None,
            remote_digest=head.digest if head else None,
            error=state.push_error or _read_only(state.user, name),
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


def _read_only(user: str | None, name: RepositoryName) -> PermissionDenied:
    return PermissionDenied(
        f"user {user} may not push to {name}: read-only access",
        hint="Ask a repository or organization admin for read-write access",
    )


def _with_per_tag_facts(
    base: CheckResult, details: TagDetails, head: Manifest | None
) -> CheckResult:
    """The tag's own immutability where the registry decides per tag (Harbor), or its error."""
    problem = _per_tag_problem(details, head, f"{base.repository}:{base.tag}")
    if problem is not None:
        return replace(base, exists=head is not None, error=problem)
    if details.immutable is not None:
        return replace(base, immutable=details.immutable, per_tag=True)
    return base


def _per_tag_problem(
    details: TagDetails, head: Manifest | None, reference: str
) -> DtrctlError | None:
    """A per-tag look-up that failed, or that disagrees with the registry about the tag."""
    if details.error is not None:
        return details.error
    if details.found is not None and details.found != (head is not None):
        said = "knows" if details.found else "does not know"
        return InvalidResponse(
            f"the registry and its API disagree about {reference}: the API {said} the tag",
            hint="A push or delete may be under way: check again",
        )
    return None
