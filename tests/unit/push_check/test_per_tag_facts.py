"""push-check where the registry decides immutability per tag (Harbor): the tag's own verdict,
and every lookup that fails or disagrees is an error, never "absent" or "mutable"."""

from __future__ import annotations

from typing import Any

from dtrctl.client.distribution import OCI_MANIFEST, Manifest
from dtrctl.errors import ServerError
from dtrctl.push_check.expected import DigestKind, ExpectedContent
from dtrctl.push_check.gather import CheckOptions, run_checks
from dtrctl.push_check.verdicts import PushVerdict
from dtrctl.records.push import RepositoryState, TagDetails
from dtrctl.reference import ImageReference, RepositoryName

DIGEST = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64
APP = RepositoryName("library", "app")


class PerTagBackend:
    kind = "harbor"

    def __init__(self, details: dict[str, TagDetails], found: bool = True) -> None:
        self.details = details
        self.found = found

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return RepositoryState(found=self.found, immutable=None, has_api=True)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return self.details[tag]


class Registry:
    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags

    def get_manifest(self, name: RepositoryName, reference: str) -> Manifest | None:
        digest = self.tags.get(reference)
        return Manifest(digest, OCI_MANIFEST, {}) if digest else None

    def open_connection(self) -> None:
        """Nothing to open: no network."""


def check(backend: PerTagBackend, tags: dict[str, str], *names: str, digest: str = DIGEST) -> Any:
    references = [ImageReference(None, APP, name) for name in names]
    options = CheckOptions(ExpectedContent(digest, DigestKind.MANIFEST, "--digest"))
    return run_checks(backend, Registry(tags), "msr.example.com", references, options)  # type: ignore[arg-type]


def test_each_tag_gets_its_own_verdict() -> None:
    backend = PerTagBackend(
        {
            "v1": TagDetails(immutable=True, found=True),
            "v2": TagDetails(immutable=True, found=True),
            "latest": TagDetails(immutable=False, found=True),
            "new": TagDetails(found=False),
        }
    )
    results = check(
        backend, {"v1": DIGEST, "v2": OTHER, "latest": OTHER}, "v1", "v2", "latest", "new"
    )
    assert [(r.verdict, r.immutable) for r in results] == [
        (PushVerdict.PRESENT, True),
        (PushVerdict.COLLISION, True),
        (PushVerdict.OVERWRITE, False),
        (PushVerdict.FREE, None),
    ]
    assert "Harbor refuses even an identical re-push" in results[0].reason


def test_a_failed_tag_lookup_is_an_error() -> None:
    backend = PerTagBackend({"v1": TagDetails(error=ServerError("down", status=503))})
    (result,) = check(backend, {"v1": DIGEST}, "v1")
    assert result.verdict is PushVerdict.ERROR and result.error is not None


def test_api_and_registry_disagreeing_is_an_error() -> None:
    backend = PerTagBackend({"v1": TagDetails(found=False), "v2": TagDetails(found=True)})
    results = check(backend, {"v1": DIGEST}, "v1", "v2")
    assert [r.verdict for r in results] == [PushVerdict.ERROR, PushVerdict.ERROR]
    assert "disagree" in results[0].error.message


def test_a_missing_project_is_no_repo() -> None:
    (result,) = check(PerTagBackend({}, found=False), {}, "v1")
    assert result.verdict is PushVerdict.NO_REPO
