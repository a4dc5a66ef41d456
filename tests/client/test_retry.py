"""dtrctl's retry transport and policy, against a scripted inner transport; waits are recorded."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from dtrctl.client import retry as retry_module
from dtrctl.client import transport as transport_module
from dtrctl.client.bounded import REQUEST_DEADLINE
from dtrctl.client.retry import RetryPolicy, RetryTransport, retry_after_seconds
from dtrctl.client.transport import (
    TransportOptions,
    build_http_client,
    retry_policy,
)

URL = "https://dtr.example.com/api/v0/repositories/engineering/api"
TLS_FAILURE = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"

Answer = httpx.Response | Exception


class ClosingStream(httpx.SyncByteStream):
    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b""

    def close(self) -> None:
        self.closed = True


def answer(status: int, **headers: str) -> httpx.Response:
    """A response whose closing can be seen (as a pooled connection's would be given back)."""
    return httpx.Response(status, headers=headers, stream=ClosingStream())


def is_closed(response: httpx.Response) -> bool:
    assert isinstance(response.stream, ClosingStream)
    return response.stream.closed


class Scripted(httpx.BaseTransport):
    """Answers each request with the next response, or raises the next exception."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.sent = 0
        self.closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        next_answer = self.answers.pop(0)
        if isinstance(next_answer, Exception):
            raise next_answer
        return next_answer

    def close(self) -> None:
        self.closed = True


# dtrctl's defaults.
POLICY = RetryPolicy(
    retries=3,
    methods=frozenset({"GET", "HEAD", "PATCH"}),
    statuses=frozenset({429, 502, 503, 504}),
    backoff_factor=0.25,
    max_wait=30.0,
    deadline=120.0,
)


def policy(**changes: Any) -> RetryPolicy:
    return replace(POLICY, **changes)


def send(inner: Scripted, method: str = "GET", **changes: Any) -> httpx.Response:
    return RetryTransport(inner, policy(**changes)).handle_request(httpx.Request(method, URL))


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(retry_module, "sleep", recorded.append)
    return recorded


@pytest.fixture
def highest_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every backoff at its upper bound, so the waits are exact."""
    monkeypatch.setattr(retry_module, "random", SimpleNamespace(uniform=lambda low, high: high))


# What is retried


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "HEAD", "PATCH"])
def test_retryable_statuses_of_retryable_methods_are_asked_again(
    sleeps: list[float], method: str, status: int
) -> None:
    inner = Scripted(answer(status), answer(200))
    assert send(inner, method).status_code == 200
    assert inner.sent == 2
    assert len(sleeps) == 1


def test_methods_are_matched_in_any_case() -> None:
    assert POLICY.is_retryable_method("patch")
    assert not POLICY.is_retryable_method("post")


@pytest.mark.parametrize("status", [200, 400, 401, 404, 409, 500, 501])
def test_other_statuses_are_returned_at_once(sleeps: list[float], status: int) -> None:
    inner = Scripted(answer(status), answer(200))
    assert send(inner).status_code == status
    assert inner.sent == 1
    assert sleeps == []


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("failure", [answer(503), httpx.ReadTimeout("lost")])
def test_other_methods_are_never_retried(sleeps: list[float], method: str, failure: Answer) -> None:
    inner = Scripted(failure, answer(200))
    if isinstance(failure, Exception):
        with pytest.raises(type(failure)):
            send(inner, method)
    else:
        assert send(inner, method) is failure
    assert inner.sent == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadError("connection reset by peer"),
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.WriteTimeout("timed out"),
        httpx.PoolTimeout("timed out"),
        httpx.RemoteProtocolError("server disconnected without sending a response"),
    ],
)
def test_connection_failures_and_timeouts_are_retried(
    sleeps: list[float], failure: Exception
) -> None:
    inner = Scripted(failure, answer(200))
    assert send(inner).status_code == 200
    assert inner.sent == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.UnsupportedProtocol("no scheme"),
        httpx.ProxyError("proxy refused"),
        httpx.DecodingError("bad gzip"),
        ValueError("a bug"),
    ],
)
def test_other_errors_are_raised_at_once(sleeps: list[float], failure: Exception) -> None:
    inner = Scripted(failure, answer(200))
    with pytest.raises(type(failure)):
        send(inner)
    assert inner.sent == 1


def test_a_certificate_that_did_not_verify_is_final(sleeps: list[float]) -> None:
    inner = Scripted(httpx.ConnectError(TLS_FAILURE), answer(200))
    with pytest.raises(httpx.ConnectError):
        send(inner)
    assert inner.sent == 1
    assert sleeps == []


def test_a_verification_failure_found_among_the_causes_is_final(sleeps: list[float]) -> None:
    error = httpx.ConnectError("handshake failed")
    error.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    inner = Scripted(error, answer(200))
    with pytest.raises(httpx.ConnectError):
        send(inner)
    assert inner.sent == 1


def test_a_refused_client_certificate_is_final(sleeps: list[float]) -> None:
    error = httpx.ConnectError("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert")
    inner = Scripted(error, answer(200))
    with pytest.raises(httpx.ConnectError):
        send(inner)
    assert inner.sent == 1


# When the retries run out


def test_exhausted_retries_return_the_last_answer(sleeps: list[float]) -> None:
    answers = [answer(503, attempt=str(n)) for n in range(4)]
    inner = Scripted(*answers, answer(200))
    last = send(inner, retries=3)
    assert last is answers[-1]
    assert not is_closed(last)
    assert inner.sent == 4
    assert len(sleeps) == 3


def test_a_client_gets_the_last_retryable_answer_not_an_exception(sleeps: list[float]) -> None:
    inner = Scripted(answer(503), answer(502))
    with httpx.Client(transport=RetryTransport(inner, policy(retries=1))) as client:
        assert client.get(URL).status_code == 502
    assert inner.sent == 2


def test_exhausted_retries_raise_the_last_failure(sleeps: list[float]) -> None:
    last = httpx.ReadTimeout("third")
    inner = Scripted(httpx.ConnectError("first"), httpx.ReadTimeout("second"), last)
    with pytest.raises(httpx.ReadTimeout) as raised:
        send(inner, retries=2)
    assert raised.value is last
    assert inner.sent == 3
    assert len(sleeps) == 2


def test_every_retried_answer_is_closed_and_the_returned_one_is_not(sleeps: list[float]) -> None:
    retried = [answer(503), answer(429), answer(502)]
    final = answer(200)
    assert send(Scripted(*retried, final)) is final
    assert [is_closed(response) for response in retried] == [True, True, True]
    assert not is_closed(final)


# How long it waits


def test_backoff_doubles_from_twice_the_factor(sleeps: list[float], highest_jitter: None) -> None:
    inner = Scripted(*[answer(503) for _ in range(4)], answer(200))
    send(inner, retries=4, backoff_factor=0.25)
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped_by_the_longest_wait(sleeps: list[float], highest_jitter: None) -> None:
    inner = Scripted(*[answer(503) for _ in range(3)], answer(200))
    send(inner, retries=3, backoff_factor=2.0, max_wait=5.0)
    assert sleeps == [4.0, 5.0, 5.0]


def test_backoff_follows_an_exception_too(sleeps: list[float], highest_jitter: None) -> None:
    send(Scripted(httpx.ConnectError("refused"), answer(200)))
    assert sleeps == [0.5]


def test_jitter_spreads_each_wait_over_zero_to_its_bound() -> None:
    waits = [policy(backoff_factor=0.25).backoff(3) for _ in range(500)]
    assert all(0.0 <= wait <= 2.0 for wait in waits)
    # Full jitter: both ends of the range are reached (failing by chance: below 1e-20).
    assert min(waits) < 0.2 and max(waits) > 1.8


def test_jittered_waits_stay_under_the_longest_wait() -> None:
    waits = [policy(backoff_factor=1.0, max_wait=30.0).backoff(10) for _ in range(200)]
    assert all(0.0 <= wait <= 30.0 for wait in waits)
    assert max(waits) == 30.0


def test_no_backoff_factor_means_no_wait(sleeps: list[float]) -> None:
    send(Scripted(answer(503), answer(503), answer(200)), backoff_factor=0)
    assert sleeps == [0.0, 0.0]


def test_retry_after_seconds_are_waited(sleeps: list[float]) -> None:
    inner = Scripted(answer(503, **{"Retry-After": "7"}), answer(429, **{"Retry-After": " 3 "}))
    inner.answers.append(answer(200))
    assert send(inner).status_code == 200
    assert sleeps == [7.0, 3.0]


def test_retry_after_is_capped_by_the_longest_wait(sleeps: list[float]) -> None:
    send(Scripted(answer(503, **{"Retry-After": "3600"}), answer(200)))
    assert sleeps == [30.0]


def test_retry_after_as_an_http_date_is_waited(sleeps: list[float]) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    send(Scripted(answer(503, **{"Retry-After": format_datetime(when, usegmt=True)}), answer(200)))
    [wait] = sleeps
    # The date has whole seconds and time passes while the test runs.
    assert 17.0 <= wait <= 20.0


def test_retry_after_as_a_far_http_date_is_capped(sleeps: list[float]) -> None:
    when = datetime.now(timezone.utc) + timedelta(hours=2)
    send(Scripted(answer(503, **{"Retry-After": format_datetime(when, usegmt=True)}), answer(200)))
    assert sleeps == [30.0]


@pytest.mark.parametrize("retry_after", ["0", "Thu, 01 Jan 1970 00:00:00 GMT", "soon", "-5", "1.5"])
def test_a_zero_past_or_unreadable_retry_after_falls_back_to_the_backoff(
    sleeps: list[float], highest_jitter: None, retry_after: str
) -> None:
    send(Scripted(answer(503, **{"Retry-After": retry_after}), answer(200)))
    assert sleeps == [0.5]


def test_retry_after_digits_must_be_ascii() -> None:
    assert retry_after_seconds("٣") is None
    assert retry_after_seconds("3") == 3.0


def test_retry_after_dates_without_a_zone_are_utc() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=100)
    # "-0000" is RFC 2822's "zone unknown": parsed as a date without a zone.
    text = when.strftime("%a, %d %b %Y %H:%M:%S -0000")
    seconds = retry_after_seconds(text)
    assert seconds is not None and 97.0 <= seconds <= 100.0


def test_the_deadline_caps_the_sum_of_the_waits(sleeps: list[float]) -> None:
    answers = [answer(503, **{"Retry-After": "30"}) for _ in range(11)]
    inner = Scripted(*answers)
    last = send(inner, retries=10, deadline=45.0)
    assert sleeps == [30.0, 15.0]
    # The attempt after the last wait is still made, and its answer returned.
    assert inner.sent == 3
    assert last is answers[2]


def test_the_deadline_also_ends_retries_after_failures(
    sleeps: list[float], highest_jitter: None
) -> None:
    inner = Scripted(*[httpx.ConnectError(f"refused {n}") for n in range(5)])
    with pytest.raises(httpx.ConnectError, match="refused 2"):
        send(inner, retries=10, backoff_factor=100.0, deadline=40.0)
    assert sleeps == [30.0, 10.0]
    assert inner.sent == 3


def test_no_retry_starts_that_could_not_end_within_the_window(sleeps: list[float]) -> None:
    # The window is timeout x (retries + 1): a 20 s wait leaves no time in a 10 s window.
    first = answer(503, **{"Retry-After": "20"})
    inner = Scripted(first, answer(200))
    assert send(inner, retries=3, window=10.0) is first
    assert sleeps == []
    assert inner.sent == 1


def test_a_failure_ends_the_request_when_the_window_is_spent(sleeps: list[float]) -> None:
    inner = Scripted(httpx.ReadTimeout("slow"), answer(200))
    with pytest.raises(httpx.ReadTimeout):
        send(inner, retries=3, window=0.0)
    assert inner.sent == 1


def test_every_attempt_gets_the_end_of_the_window(sleeps: list[float]) -> None:
    seen: list[float] = []

    class Recording(Scripted):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request.extensions[REQUEST_DEADLINE])
            return super().handle_request(request)

    before = time.monotonic()
    send(Recording(answer(503), answer(200)), retries=3, window=60.0)
    assert len(seen) == 2 and seen[0] == seen[1]
    assert before + 60.0 <= seen[0] <= time.monotonic() + 60.0


# The transport in the client


def test_closing_the_transport_closes_the_inner_one() -> None:
    inner = Scripted()
    RetryTransport(inner, policy()).close()
    assert inner.closed


def test_the_client_policy_comes_from_the_options() -> None:
    options = TransportOptions(retries=5, backoff_factor=0.5, retry_deadline=60.0)
    assert retry_policy(options) == RetryPolicy(
        retries=5,
        methods=frozenset({"GET", "HEAD", "PATCH"}),
        statuses=frozenset({429, 502, 503, 504}),
        backoff_factor=0.5,
        max_wait=30.0,
        deadline=60.0,
        window=30.0 * 6,
    )


def test_the_client_retries_through_its_transport(
    sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = Scripted(answer(503), answer(200))
    monkeypatch.setattr(transport_module, "ConnectionPool", lambda *_, **__: inner)
    with build_http_client(TransportOptions(retries=1)) as client:
        assert client.get(URL).status_code == 200
    assert inner.sent == 2
    assert inner.closed


def test_importing_the_http_layer_does_not_import_asyncio() -> None:
    code = "import sys, dtrctl.client.transport; print('asyncio' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
