"""Which kind of registry serves the run's URL, found out once: one module, one handshake.

1. A kind the user named (`--backend`, `DTRCTL_BACKEND`) or the profile recorded (`dtrctl
   login` keeps what it found; an option wins over the profile, as for every setting): that
   backend, and nothing is asked to find out.
2. Otherwise (`auto`) the first questions go to DTR's `/api/v0`, as to a DTR: a DTR answers in
   its own words and the run costs the round trips `--backend dtr` costs (push-check asks one
   token endpoint more beside them, step 6).
3. Beside them, one probe per host per run (`HostProbe`): `GET /api/v2.0/systeminfo`,
   anonymous. push-check sends it with its first questions, in the background; the other
   commands only when DTR's API turns out to be missing. While they are in flight push-check
   also builds Harbor's backend (its imports take tens of milliseconds), unless the probe
   answers within `PREPARE_HARBOR_AFTER_SECONDS` (loopback) that it is not Harbor: Harbor's
   own questions then go out the moment the probe answers.
4. An answer DTR did not write (a 404 without its `NO_SUCH_*` code) reads the probe: Harbor's
   JSON (with `auth_mode`) sends that question, and every later one, to Harbor.
5. Neither: a host only push-check's references name is a plain registry (`/v2` only); a
   configured URL is an error (exit 5).
6. The registry's `/v2` answers do not depend on the kind and are asked once: push-check asks
   DTR's token endpoint and Harbor's (`token_endpoints`, both on the URL's own host) in the
   same flight, beside the first questions, and uses the first that gives a token, DTR's
   first: a DTR or a Harbor costs no round trip more than with the kind named. An answer that
   is not a token (Harbor's web portal answers DTR's path, a DTR's error Harbor's) is a failed
   guess; when both fail the registry's `GET /v2/` challenge decides.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from dtrctl.client.http import RequestContext, send
from dtrctl.errors import DtrctlError, NoRegistryApi, UsageError
from dtrctl.records.push import as_incomplete

if TYPE_CHECKING:
    import httpx

    from dtrctl.backends.base import Backend
    from dtrctl.backends.dtr.api import DtrClient
    from dtrctl.backends.plain import PlainRegistryBackend
    from dtrctl.records.changes import (
        CreateOutcome,
        ImmutabilityResult,
        RepositorySettings,
        SettingsChange,
        SettingsResult,
    )
    from dtrctl.records.findings import AuditFinding
    from dtrctl.records.push import RepositoryState, TagDetails
    from dtrctl.records.repository import Repository, Tag
    from dtrctl.records.unlock import WindowChange
    from dtrctl.reference import RepositoryName

T = TypeVar("T")
# Step 3: a probe unanswered this long is crossing a network (three round trips: TCP, TLS, the
# request), long enough to build Harbor's backend beside; on loopback it answers sooner, and a
# DTR there pays no Harbor imports.
PREPARE_HARBOR_AFTER_SECONDS = 0.05


def is_foreign_not_found(error: DtrctlError | None) -> bool:
    """A 404 from `/api/v0` that DTR did not write (DTR's codes all begin with NO_SUCH_)."""
    return (
        error is not None
        and error.status == 404
        and not (error.dtr_code or "").startswith("NO_SUCH_")
    )


class DetectingBackend:
    """`auto`: delegates to DTR until an answer DTR did not write and the probe show the URL is
    Harbor (or neither)."""

    def __init__(
        self, dtr: Backend, harbor: Callable[[], Backend], probe: HostProbe, url: str
    ) -> None:
        self._dtr = self._current = dtr
        self.kind = dtr.kind
        self._make_harbor = harbor
        self._probe = probe
        self._url = url
        self._decided = False
        self._lock = threading.Lock()
        self._harbor: Backend | None = None

    @property
    def current(self) -> Backend:
        """The backend decided on so far (DTR until a call showed otherwise)."""
        return self._current

    def _switch(self, error: DtrctlError | None, tried: Backend) -> bool:
        """Whether to call again on Harbor; the decision is made once for the whole run."""
        with self._lock:
            if self._current is not tried:
                return True  # another thread switched meanwhile
            if self._decided or not is_foreign_not_found(error):
                self._decided = True
                return False
            if not self._probe.is_harbor():
                raise _neither(error, self._url)
            self._to_harbor()
            self._decided = True
            return True

    def _to_harbor(self) -> Backend:
        if self._current is self._dtr:
            self._current = self._harbor or self._make_harbor()
            self.kind = self._current.kind
        return self._current

    def _start_push_check(self) -> None:
        """Step 3 for push-check: the probe, and Harbor's backend built beside it (once)."""
        self._probe.start(beside=self._prepare_harbor)

    def _prepare_harbor(self) -> None:
        if self._probe.answered(PREPARE_HARBOR_AFTER_SECONDS) and not self._probe.says_harbor():
            return
        try:
            harbor = self._make_harbor()
        except Exception:  # built again where it is needed, and its failure reported there
            return
        with self._lock:
            self._harbor = self._harbor or harbor

    def _harbor_if_probed(self) -> Backend | None:
        """push-check, after an answer DTR did not write: Harbor when the probe says so."""
        harbor = self._probe.is_harbor()
        with self._lock:
            return self._to_harbor() if harbor else None

    def _call(self, call: Callable[[Backend], T], error_of: Callable[[T], DtrctlError | None]) -> T:
        tried = self._current
        if self._decided:
            return call(tried)
        try:
            result = call(tried)
        except DtrctlError as error:
            if self._switch(error, tried):
                return call(self._current)
            raise
        if self._switch(error_of(result), tried):
            return call(self._current)
        return result

    def _raising(self, call: Callable[[Backend], T]) -> T:
        return self._call(call, lambda result: None)

    def check_credentials(self) -> None:
        self._raising(lambda backend: backend.check_credentials())

    def get_repository(self, name: RepositoryName) -> Repository:
        return self._raising(lambda backend: backend.get_repository(name))

    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]:
        def first_and_rest(backend: Backend) -> tuple[list[Repository], Iterator[Repository]]:
            items = iter(backend.list_repositories(namespace))
            return list(_take_one(items)), items

        head, rest = self._raising(first_and_rest)
        yield from head
        yield from rest

    def create_repository(
        self,
        name: RepositoryName,
        settings: RepositorySettings,
        *,
        exist_ok: bool,
        create_project: bool = False,
    ) -> CreateOutcome:
        return self._raising(
            lambda backend: backend.create_repository(
                name, settings, exist_ok=exist_ok, create_project=create_project
            )
        )

    def audit_findings(self, namespaces: Iterable[str]) -> list[AuditFinding]:
        return self._current.audit_findings(namespaces)

    def set_immutability(self, name: RepositoryName, immutable: bool) -> ImmutabilityResult:
        return self._raising(lambda backend: backend.set_immutability(name, immutable))

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        return self._raising(lambda backend: backend.preview_immutability(name, immutable, current))

    def apply_settings(self, change: SettingsChange) -> SettingsResult:
        return self._raising(lambda backend: backend.apply_settings(change))

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        return self._raising(lambda backend: backend.plan_unlock(name))

    def lift_change(self, change: WindowChange) -> None:
        self._current.lift_change(change)

    def restore_change(self, change: WindowChange) -> None:
        self._current.restore_change(change)

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        self._start_push_check()
        asked = self._current
        state = asked.repository_state(name, username)
        if asked is not self._dtr or not shows_no_dtr_api(state):
            return state
        try:
            harbor = self._harbor_if_probed()
        except DtrctlError as error:
            return state._replace(error=as_incomplete(error))
        return state if harbor is None else harbor.repository_state(name, username)

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        def first_and_rest(backend: Backend) -> tuple[list[Tag], Iterator[Tag]]:
            items = iter(backend.list_tags(name))
            return list(_take_one(items)), items

        head, rest = self._raising(first_and_rest)
        yield from head
        yield from rest

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        self._start_push_check()
        asked = self._current
        details = asked.tag_details(name, tag)
        if asked is not self._dtr or (details.note is None and details.error is None):
            return details
        try:
            harbor = self._harbor_if_probed()
        except DtrctlError:
            return details
        return details if harbor is None else harbor.tag_details(name, tag)

    def push_right(
        self, name: RepositoryName, granted: frozenset[str] | None
    ) -> bool | DtrctlError | None:
        return self._current.push_right(name, granted)

    def token_endpoint(self, url: str) -> tuple[str, str] | None:
        return self._current.token_endpoint(url)

    def token_endpoints(self, url: str) -> dict[str, tuple[str, str]]:
        """Step 6: the token endpoint of each kind the URL may be, by kind, DTR's first (only
        the kind decided, once it is)."""
        if self._current is not self._dtr:
            endpoints = {self.kind: self._current.token_endpoint(url)}
        else:
            from dtrctl.backends.harbor import token_endpoint as harbor_endpoint

            endpoints = {"dtr": self._dtr.token_endpoint(url), "harbor": harbor_endpoint(url)}
        return {kind: endpoint for kind, endpoint in endpoints.items() if endpoint is not None}


def shows_no_dtr_api(state: RepositoryState) -> bool:
    """Whether DTR's answer about a repository was not DTR's: no API, or a plain registry."""
    return not state.has_api or (state.error is not None and state.error.code == "no_api")


def _neither(error: DtrctlError | None, url: str) -> NoRegistryApi:
    """DTR's "no DTR API here" (with its hint about the URL), saying Harbor is not there either."""
    message = f"{url or 'this URL'} serves no DTR API"
    hint = "Check --url (DTRCTL_URL), or name the kind with --backend"
    if error is not None:
        message, hint = error.message, error.hint or hint
    return NoRegistryApi(f"{message}; it serves no Harbor API either", hint=hint, status=404)


def _take_one(items: Iterator[Any]) -> Iterator[Any]:
    for item in items:
        yield item
        return


class HostProbe:
    """Step 3: whether the host answers as Harbor, asked at most once per run."""

    def __init__(self, http: httpx.Client, url: str) -> None:
        self._http = http
        self._url = url
        self._lock = threading.Lock()
        self._started = False
        self._done = threading.Event()
        self._answer: bool | BaseException = False

    def start(self, beside: Callable[[], None] | None = None) -> None:
        """Ask in the background (once), so the answer arrives beside the first questions;
        `beside`: work for another thread meanwhile, started with the question."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._ask, name="dtrctl-probe", daemon=True).start()
        if beside is not None:
            threading.Thread(target=beside, name="dtrctl-beside-probe", daemon=True).start()

    def is_harbor(self) -> bool:
        """The answer, waiting for it (asked here when nothing asked yet); a failing server
        raises: it is not "neither"."""
        with self._lock:
            ask_here = not self._started
            self._started = True
        if ask_here:
            self._ask()
        self._done.wait()
        if isinstance(self._answer, BaseException):
            raise self._answer
        return self._answer

    def answered(self, timeout: float) -> bool:
        """Whether the answer came within `timeout` seconds (asks nothing)."""
        return self._done.wait(timeout)

    def says_harbor(self) -> bool:
        """The answer where a failure only means "not known to be Harbor": the caller goes on
        as without a probe (asking DTR's repository call, or the registry's `GET /v2/`)."""
        try:
            return self.is_harbor()
        except Exception:  # whatever kept the answer from coming: no shortcut taken
            return False

    def _ask(self) -> None:
        try:
            self._answer = answers_harbor(self._http, self._url)
        except BaseException as error:  # kept for whoever reads the answer, raised there
            self._answer = error
        finally:
            self._done.set()


def answers_harbor(http: httpx.Client, base_url: str) -> bool:
    """Whether `GET /api/v2.0/systeminfo` answers Harbor's JSON with `auth_mode` (Harbor
    answers anonymous callers too: nothing secret is needed to tell, and a wrong password would
    cost Harbor a pause)."""
    context = RequestContext(action="ask the server which registry it is")
    response = send(
        http,
        "GET",
        base_url.rstrip("/") + "/api/v2.0/systeminfo",
        context,
        ok=lambda status: status < 500,  # a failing server says so, it is not "neither"
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(body, dict) and isinstance(body.get("auth_mode"), str)


def backend_for(
    kind: str | None,
    *,
    http: httpx.Client,
    url: str,
    auth: tuple[str, str] | None,
    dtr_api: Callable[[], DtrClient],
    url_from_reference: bool = False,
) -> Backend | PlainRegistryBackend:
    """Step 1: the backend of the kind named; `auto` (or None) detects it (steps 2-6).
    `url_from_reference`: the URL is a host only push-check's references name, which may turn
    out to be a plain registry."""
    from dtrctl.backends.dtr.backend import DtrBackend

    def harbor() -> Backend:
        from dtrctl.backends.harbor.api import HarborClient
        from dtrctl.backends.harbor.backend import HarborBackend

        return HarborBackend(HarborClient(http, url, auth))

    kind = kind or "auto"
    if kind == "registry":
        from dtrctl.backends.plain import PlainRegistryBackend

        return PlainRegistryBackend()
    if kind == "dtr":
        return DtrBackend(dtr_api(), url=url)
    if kind == "harbor":
        return harbor()
    if kind == "auto":
        # Only a host named by push-check's references, not the configured DTR, may turn out
        # to be a plain registry: a configured DTR that stops answering like one is an error.
        probe = HostProbe(http, url)
        dtr = DtrBackend(
            dtr_api(), url=url, plain_fallback=url_from_reference, another_kind=probe.says_harbor
        )
        return DetectingBackend(dtr, harbor, probe, url)
    raise UsageError(f"--backend {kind} is not available yet")
