"""Under `auto`, push-check builds Harbor's backend while the first questions are in flight
(its imports take tens of milliseconds), so that Harbor's own questions go out the moment the
probe answers; where the answers come at once and say DTR, it is never built."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from dtrctl.backends.detect import DetectingBackend, HostProbe
from dtrctl.records.push import RepositoryState
from dtrctl.reference import RepositoryName

APP = RepositoryName("library", "app")
NO_DTR_API = RepositoryState(found=True, immutable=None, has_api=False)
HARBORS = RepositoryState(found=False, immutable=None, has_api=True)


class Probe:
    """A probe whose answer is known at once (`answered`) or only later."""

    def __init__(self, *, harbor: bool, answered_at_once: bool) -> None:
        self.harbor = harbor
        self.answered_at_once = answered_at_once

    def start(self, beside: Callable[[], None] | None = None) -> None:
        if beside is not None:
            beside()  # here rather than in a thread: what it did is known when start returns

    def answered(self, timeout: float) -> bool:
        return self.answered_at_once

    def says_harbor(self) -> bool:
        return self.harbor

    def is_harbor(self) -> bool:
        return self.harbor


class Backend:
    def __init__(self, kind: str, state: RepositoryState, log: list[str]) -> None:
        self.kind = kind
        self.state = state
        self.log = log

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        self.log.append(f"{self.kind} asked")
        return self.state


def detecting(probe: Probe, dtr_state: RepositoryState) -> tuple[DetectingBackend, list[str]]:
    log: list[str] = []

    def harbor() -> Any:
        log.append("harbor built")
        return Backend("harbor", HARBORS, log)

    dtr = cast(Any, Backend("dtr", dtr_state, log))
    return DetectingBackend(dtr, harbor, cast(HostProbe, probe), "https://r.example"), log


def test_harbor_is_built_before_dtrs_answer_while_the_probe_is_in_flight() -> None:
    backend, log = detecting(Probe(harbor=True, answered_at_once=False), NO_DTR_API)
    assert backend.repository_state(APP, "alice") == HARBORS
    # Built once, beside the first questions, and used when the probe said Harbor.
    assert log == ["harbor built", "dtr asked", "harbor asked"]
    assert backend.kind == "harbor"


def test_a_dtr_answering_at_once_never_builds_harbor() -> None:
    found = RepositoryState(found=True, immutable=True, has_api=True)
    backend, log = detecting(Probe(harbor=False, answered_at_once=True), found)
    assert backend.repository_state(APP, "alice") == found
    assert log == ["dtr asked"]


def test_a_harbor_answering_at_once_is_built_beside_too() -> None:
    backend, log = detecting(Probe(harbor=True, answered_at_once=True), NO_DTR_API)
    assert backend.repository_state(APP, "alice") == HARBORS
    assert log.count("harbor built") == 1
