"""The push-check decision table, exit-code aggregation, --protect and registry selection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtrctl.errors import (
    AuthenticationFailed,
    ExitCode,
    MissingSetting,
    RequestTimeout,
    ServerError,
    UsageError,
)
from dtrctl.push_check.verdicts import (
    CheckResult,
    PushVerdict,
    TagFacts,
    decide,
    exit_code_for,
    matching_protect_pattern,
    select_registry_url,
    short_digest,
)
from dtrctl.reference import parse_image_reference

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("exists", "immutable", "remote", "expected", "protected", "assume", "verdict"),
    [
        # Tag absent: push, whatever the policy.
        (False, True, None, NEW, None, False, PushVerdict.FREE),
        (False, False, None, None, "v*", False, PushVerdict.FREE),
        (False, None, None, None, None, True, PushVerdict.FREE),
        # Same digest: already published, even in an immutable repository.
        (True, True, NEW, NEW, None, False, PushVerdict.PRESENT),
        (True, False, NEW, NEW, "v*", False, PushVerdict.PRESENT),
        (True, None, NEW, NEW, None, True, PushVerdict.PRESENT),
        # Immutable repository, different or unknown digest: DTR refuses.
        (True, True, OLD, NEW, None, False, PushVerdict.COLLISION),
        (True, True, OLD, None, None, False, PushVerdict.COLLISION),
        (True, True, None, NEW, None, False, PushVerdict.COLLISION),
        # Mutable repository: the push replaces the tag, unless --protect matches.
        (True, False, OLD, NEW, None, False, PushVerdict.OVERWRITE),
        (True, False, OLD, None, None, False, PushVerdict.OVERWRITE),
        (True, False, OLD, NEW, "v*", False, PushVerdict.COLLISION),
        # The registry cannot tell: existence and digest only, --assume-immutable decides.
        (True, None, OLD, NEW, None, False, PushVerdict.OVERWRITE),
        (True, None, OLD, NEW, None, True, PushVerdict.COLLISION),
        # --assume-immutable does not override a repository DTR reports as mutable.
        (True, False, OLD, NEW, None, True, PushVerdict.OVERWRITE),
    ],
)
def test_decision_table(
    exists: bool,
    immutable: bool | None,
    remote: str | None,
    expected: str | None,
    protected: str | None,
    assume: bool,
    verdict: PushVerdict,
) -> None:
    decision = decide(
        TagFacts(exists=exists, immutable=immutable, comparable_digest=remote),
        expected_digest=expected,
        protected_by=protected,
        assume_immutable=assume,
    )
    assert decision.verdict is verdict


def test_collision_says_what_made_the_tag_write_once() -> None:
    facts = TagFacts(exists=True, immutable=True, comparable_digest=OLD)
    assert decide(facts, expected_digest=NEW, protected_by="v*").write_once_by == "repository"
    mutable = TagFacts(exists=True, immutable=False, comparable_digest=OLD)
    assert decide(mutable, expected_digest=NEW, protected_by="v*").write_once_by == "protect"
    unknown = TagFacts(exists=True, immutable=None, comparable_digest=OLD)
    assert (
        decide(unknown, expected_digest=NEW, assume_immutable=True).write_once_by
        == "assume-immutable"
    )


@pytest.mark.parametrize(
    ("tag", "patterns", "match"),
    [
        ("v1.4.2", ["v*"], "v*"),
        ("latest", ["v*"], None),
        ("V1", ["v*"], None),  # tags are case-sensitive
        ("1.4.2", ["latest", "[0-9]*.*.*"], "[0-9]*.*.*"),
        ("1.4", ["?.?"], "?.?"),
        ("release-2024", [], None),
    ],
)
def test_protect_patterns_are_case_sensitive_globs(
    tag: str, patterns: list[str], match: str | None
) -> None:
    assert matching_protect_pattern(tag, patterns) == match


def result(verdict: PushVerdict, error: Exception | None = None, **fields: object) -> CheckResult:
    return CheckResult(
        reference="dtr.example.com/ns/app:1.0",
        host="dtr.example.com",
        repository="ns/app",
        tag="1.0",
        verdict=verdict,
        error=error,  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


FREE = result(PushVerdict.FREE)
PRESENT = result(PushVerdict.PRESENT)
OVERWRITE = result(PushVerdict.OVERWRITE)
COLLISION = result(PushVerdict.COLLISION, write_once_by="repository")
NO_REPO = result(PushVerdict.NO_REPO)
AUTH_ERROR = result(PushVerdict.ERROR, AuthenticationFailed("bad credentials"))
SERVER_ERROR = result(PushVerdict.ERROR, ServerError("HTTP 503"))


@pytest.mark.parametrize(
    ("results", "strict", "code"),
    [
        ([FREE, PRESENT], False, ExitCode.OK),
        ([FREE, OVERWRITE], False, ExitCode.OK),
        ([FREE, OVERWRITE], True, ExitCode.FAILED),
        ([PRESENT, COLLISION], False, ExitCode.FAILED),
        ([NO_REPO, FREE], False, ExitCode.NOT_FOUND),
        # A refused push is worse than a missing repository.
        ([NO_REPO, COLLISION], False, ExitCode.FAILED),
        ([NO_REPO, OVERWRITE], True, ExitCode.FAILED),
        # A check that could not complete wins over every verdict.
        ([COLLISION, SERVER_ERROR, NO_REPO], False, ExitCode.UNAVAILABLE),
        ([COLLISION, AUTH_ERROR], False, ExitCode.AUTH),
        ([SERVER_ERROR, AUTH_ERROR], False, ExitCode.AUTH),
        ([], False, ExitCode.OK),
    ],
)
def test_exit_code_of_mixed_outcomes(
    results: list[CheckResult], strict: bool, code: ExitCode
) -> None:
    assert exit_code_for(results, strict=strict) == code


def test_error_that_is_neither_auth_nor_availability_counts_as_unavailable() -> None:
    odd = result(PushVerdict.ERROR, UsageError("HTTP 400 from the registry"))
    assert exit_code_for([odd], strict=False) == ExitCode.UNAVAILABLE


OUTCOMES = [FREE, PRESENT, OVERWRITE, COLLISION, NO_REPO, AUTH_ERROR, SERVER_ERROR]


@given(st.lists(st.sampled_from(OUTCOMES), max_size=8), st.booleans())
def test_exit_code_is_zero_exactly_when_every_push_is_fine(
    results: list[CheckResult], strict: bool
) -> None:
    fine = {PushVerdict.FREE, PushVerdict.PRESENT} | (set() if strict else {PushVerdict.OVERWRITE})
    expected_ok = all(item.verdict in fine for item in results)
    assert (exit_code_for(results, strict=strict) == ExitCode.OK) is expected_ok


def test_collision_reason_uses_dtrs_own_words() -> None:
    assert COLLISION.reason == (
        "push would be refused: tag=1.0 cannot be overwritten because dtr.example.com/ns/app "
        "is an immutable repository"
    )
    protected = result(PushVerdict.COLLISION, write_once_by="protect", protected_by="v*")
    assert "--protect 'v*'" in protected.reason


def test_json_form_has_the_documented_keys() -> None:
    document = result(PushVerdict.ERROR, RequestTimeout("timed out")).to_json()
    assert {
        "reference",
        "repository",
        "tag",
        "exists",
        "immutable",
        "remote_digest",
        "expected_digest",
        "verdict",
        "error",
    } <= document.keys()
    assert document["verdict"] == "error"
    assert document["error"]["code"] == "timeout"
    assert document["error"]["exit_code"] == 5


def test_short_digest() -> None:
    assert short_digest(OLD) == "sha256:aaaaaaaaaaaa"
    assert short_digest(None) == "-"


def refs(*texts: str) -> list:
    return [parse_image_reference(text, allow_digest=False) for text in texts]


@pytest.mark.parametrize(
    ("texts", "configured", "url"),
    [
        (["ns/app:1", "dtr.example.com/ns/app:2"], "https://dtr.example.com", None),
        (["dtr.example.com:443/ns/app"], "https://dtr.example.com", None),
        (["dtr.example.com/ns/app"], "https://dtr.example.com:443/", "https://dtr.example.com"),
        (["localhost:5000/ns/app"], "http://localhost:5000", None),
        (["dtr.example.com/a/b", "dtr.example.com:443/c/d"], None, "https://dtr.example.com"),
        (["registry.local:5000/a/b"], None, "https://registry.local:5000"),
    ],
)
def test_registry_url_follows_the_configured_url_or_the_references_host(
    texts: list[str], configured: str | None, url: str | None
) -> None:
    wanted = url or configured.rstrip("/")  # type: ignore[union-attr]
    assert select_registry_url(refs(*texts), configured) == wanted


def test_reference_naming_another_host_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as raised:
        select_registry_url(refs("other.example.com/ns/app:1"), "https://dtr.example.com")
    assert raised.value.exit_code == ExitCode.USAGE
    assert "other.example.com" in raised.value.message
    with pytest.raises(UsageError):
        select_registry_url(refs("dtr.example.com:5000/ns/app:1"), "https://dtr.example.com")


def test_without_url_the_references_must_name_one_host() -> None:
    with pytest.raises(MissingSetting) as raised:
        select_registry_url(refs("ns/app:1"), None)
    assert "--url" in (raised.value.hint or "")
    assert "DTRCTL_URL" in (raised.value.hint or "")
    with pytest.raises(UsageError, match="several registries"):
        select_registry_url(refs("a.example.com/ns/app", "b.example.com/ns/app"), None)
