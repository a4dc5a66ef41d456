"""Retries of requests that are safe to repeat, as one synchronous transport layer.

The policy and its semantics are httpx-retries' (which dtrctl used before): the same settings,
waits, Retry-After handling and deadline. dtrctl keeps its own because httpx-retries imports
asyncio for an async half dtrctl never uses, about 10 ms of every run's start-up.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from dtrctl.client.bounded import REQUEST_DEADLINE
from dtrctl.client.http import is_tls_failure

# Failures after which asking again may well succeed (httpx-retries' defaults).
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

# Looked up at every wait, so tests can record the waits instead of sleeping.
sleep = time.sleep


@dataclass(frozen=True)
class RetryPolicy:
    """When to ask again and how long to wait first.

    A wait is the server's Retry-After if it asks for a positive one, else full-jitter
    exponential backoff: anything up to `backoff_factor * 2**n` before retry n. Each wait is at
    most `max_wait`; `deadline` bounds the sum of the waits of one request, and `window` the
    time from its first attempt to the end of its last: no retry starts that could not end by
    then, and each attempt ends by then.
    """

    retries: int
    methods: frozenset[str]
    statuses: frozenset[int]
    backoff_factor: float = 0.0
    max_wait: float = 30.0
    deadline: float | None = None
    window: float | None = None

    def is_retryable_method(self, method: str) -> bool:
        return method.upper() in self.methods

    def is_retryable_status(self, status: int) -> bool:
        return status in self.statuses

    def is_retryable_exception(self, error: Exception) -> bool:
        # A certificate that did not verify fails the same way on every try.
        return isinstance(error, RETRYABLE_ERRORS) and not is_tls_failure(error)

    def is_exhausted(self, retries_made: int, waited: float) -> bool:
        return retries_made >= self.retries or (
            self.deadline is not None and waited >= self.deadline
        )

    def wait(self, retry: int, answer: httpx.Response | Exception, waited: float = 0.0) -> float:
        """Seconds to wait before retry number `retry` (1, 2, ...), after `answer`."""
        seconds = 0.0
        if isinstance(answer, httpx.Response):
            requested = retry_after_seconds(answer.headers.get("Retry-After", ""))
            if requested is not None:
                seconds = min(requested, self.max_wait)
        if seconds <= 0:
            # Retry-After 0 (or a date already past) still gets the backoff, as in httpx-retries.
            seconds = self.backoff(retry)
        if self.deadline is not None:
            seconds = min(seconds, max(0.0, self.deadline - waited))
        return seconds

    def backoff(self, retry: int) -> float:
        return min(self.backoff_factor * 2**retry * random.uniform(0.0, 1.0), self.max_wait)


def retry_after_seconds(value: str) -> float | None:
    """A Retry-After header (delay seconds or HTTP-date) in seconds from now; None if absent or
    unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


# A request extension: send this request once whatever its method (it serves a later request
# that has retries of its own, and must not keep that one waiting).
ONCE = "dtrctl_once"


class RetryTransport(httpx.BaseTransport):
    """Sends a request of a retryable method again after a retryable status or failure.

    When the retries, the deadline or the window run out, the last answer is returned as it is
    (the caller turns it into an error) and the last failure is raised.
    """

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy) -> None:
        self._inner = inner
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        if not policy.is_retryable_method(request.method) or request.extensions.get(ONCE):
            return self._inner.handle_request(request)
        ends = None if policy.window is None else time.monotonic() + policy.window
        if ends is not None:
            request.extensions[REQUEST_DEADLINE] = ends
        retries_made, waited = 0, 0.0
        while True:
            answer: httpx.Response | Exception
            try:
                answer = self._inner.handle_request(request)
            except Exception as error:
                if not policy.is_retryable_exception(error):
                    raise
                answer = error
            else:
                if not policy.is_retryable_status(answer.status_code):
                    return answer
            seconds = policy.wait(retries_made + 1, answer, waited)
            out_of_time = ends is not None and time.monotonic() + seconds >= ends
            if out_of_time or policy.is_exhausted(retries_made, waited):
                if isinstance(answer, Exception):
                    raise answer
                return answer
            if isinstance(answer, httpx.Response):
                # Give the connection back to the pool before waiting.
                answer.close()
            retries_made += 1
            sleep(seconds)
            waited += seconds

    def close(self) -> None:
        self._inner.close()
