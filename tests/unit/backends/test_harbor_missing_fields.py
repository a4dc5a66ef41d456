"""Harbor answers without a field dtrctl decides on: unknown, never "mutable" or "no"."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dtrctl.backends.harbor.backend import HarborBackend
from dtrctl.backends.harbor.rules import canonical_rule
from dtrctl.backends.harbor.wire import HarborArtifact, HarborTag
from dtrctl.errors import ExitCode, PermissionDenied
from dtrctl.reference import RepositoryName
from tests.unit.backends.test_harbor_backend import DIGEST, FakeHarbor, backend, fake, pattern_rule

__all__ = ["backend", "fake"]
APP = RepositoryName("library", "app")


def test_a_tag_without_the_immutable_field_is_parsed_as_unknown() -> None:
    artifact = HarborArtifact.from_api({"digest": DIGEST, "tags": [{"name": "1.0"}]})
    assert artifact.tags[0].immutable is None
    told = HarborArtifact.from_api(
        {"digest": DIGEST, "tags": [{"name": "1.0", "immutable": False}]}
    )
    assert told.tags[0].immutable is False


class TestTheRulesDecideWhereHarborDoesNotSay:
    @pytest.fixture(autouse=True)
    def _unsaid(self, fake: FakeHarbor) -> None:
        for tag in ("1.0", "latest"):
            fake.artifacts[("library", "app", tag)] = HarborArtifact(
                DIGEST, (HarborTag(tag, None),)
            )

    def test_a_rule_that_selects_the_tag_makes_it_immutable(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        fake.projects["library"] = [replace(canonical_rule("app"), id=4)]
        details = backend.tag_details(APP, "1.0")
        assert (details.immutable, details.found, details.error) == (True, True, None)
        assert details.note is not None and "rule 4 makes it immutable" in details.note

    def test_no_rule_selecting_it_leaves_it_mutable_with_a_note(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        fake.projects["library"] = [pattern_rule(1, "app", "v*")]
        details = backend.tag_details(APP, "latest")
        assert details.immutable is False
        assert details.note is not None and "no 'immutable' field" in details.note

    def test_rules_that_cannot_be_read_are_an_error(
        self, backend: HarborBackend, fake: FakeHarbor
    ) -> None:
        def refused(project: str) -> list[object]:
            raise PermissionDenied("forbidden", status=403)

        fake.list_rules = refused  # type: ignore[method-assign,assignment]
        details = backend.tag_details(APP, "1.0")
        assert details.immutable is None and details.error is not None
        assert details.error.exit_code is ExitCode.UNAVAILABLE


def test_a_verdict_that_depends_on_an_unknown_harbor_version_is_an_error(
    backend: HarborBackend, fake: FakeHarbor
) -> None:
    """`{a/a,a/b}` selects `a/b` on doublestar v1.3.4 and is a syntax error (mutable) on v1.1.1."""
    name = RepositoryName("library", "a/b")
    fake.artifacts[("library", "a/b", "1.0")] = HarborArtifact(DIGEST, (HarborTag("1.0", None),))
    fake.projects["library"] = [pattern_rule(1, "{a/a,a/b}")]
    fake.version = None
    details = backend.tag_details(name, "1.0")
    assert details.immutable is None and details.error is not None
    assert details.error.exit_code is ExitCode.UNAVAILABLE
