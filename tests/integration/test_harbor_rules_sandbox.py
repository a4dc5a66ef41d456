"""The installed `dtrctl` on Harbor's rules against `dtrctl sandbox --flavor harbor` (Harbor 2.13,
doublestar v1.3.4): per-tag stops of a partly malformed pattern, `explain` and `rules lint`."""

from __future__ import annotations

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.test_harbor_sandbox import add_rule, as_json, dtrctl, harbor

pytestmark = pytest.mark.integration
__all__ = ["harbor"]  # the fixture


def test_a_tag_pattern_malformed_for_some_tags_stops_harbor_for_those_only(
    harbor: SandboxServer,
) -> None:
    add_rule(harbor, "library", "alpine", "x[")
    add_rule(harbor, "library", "alpine", "**")
    run = dtrctl(harbor, "repo", "show", "library/alpine", "-o", "json")
    assert run.code == 0, run.stderr
    repository = as_json(run)["repository"]
    assert repository["immutability"] == "some"
    assert repository["stopped_at"]["some_tags"] is True
