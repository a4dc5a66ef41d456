"""The installed `dtrctl push-check` against Debian's docker-registry: plain v2, no DTR API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dtrctl.sandbox.images import build_image, build_index, write_oci_layout
from tests.integration.conftest import PlainRegistry, Run, Skopeo, run_dtrctl

pytestmark = [pytest.mark.integration, pytest.mark.skopeo, pytest.mark.registry]

CI_USER = ("ci", "registry-ci-password")
RELEASE = build_image("plain-1")
NEXT = build_image("plain-2")
MULTI = build_index([build_image("plain-m", arch="amd64"), build_image("plain-m", arch="arm64")])


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    directory = tmp_path / "layout"
    for tag, artifact in (("release", RELEASE), ("next", NEXT), ("multi", MULTI)):
        write_oci_layout(directory, artifact, tag)
    return directory


def check(registry: PlainRegistry, *args: str, user: tuple[str, str] | None = None) -> Run:
    # The configured URL is a plain registry: declared, or its bare 404 on /api/v0 is exit 5.
    env = {"DTRCTL_URL": registry.url, "DTRCTL_BACKEND": "registry"}
    if user is not None:
        env |= {"DTRCTL_USERNAME": user[0], "DTRCTL_PASSWORD": user[1]}
    return run_dtrctl("push-check", *args, env=env)


def verdicts(result: Run) -> list[tuple[str, Any]]:
    return [(item["verdict"], item["immutable"]) for item in json.loads(result.stdout)["results"]]


def test_open_registry_uses_existence_and_digest_only(
    start_registry: Callable[..., PlainRegistry], skopeo: Skopeo, layout: Path
) -> None:
    registry = start_registry()
    skopeo.copy(layout, "release", f"{registry.host_port}/team/app:1.0")
    skopeo.copy(layout, "multi", f"{registry.host_port}/team/app:multi")
    refs = ("team/app:1.0", "team/app:multi", "team/app:2.0", "team/new:1.0")

    same = check(registry, *refs, "--digest", RELEASE.digest, "-o", "json")
    assert same.code == 0, same.stdout + same.stderr
    assert verdicts(same) == [
        ("present", None),
        ("overwrite", None),
        ("free", None),
        # A plain registry creates repositories on push: an absent one is free.
        ("free", None),
    ]
    (multi,) = [item for item in json.loads(same.stdout)["results"] if item["tag"] == "multi"]
    assert multi["remote_digest"] == MULTI.digest

    text = check(registry, "team/app:1.0", "--digest", NEXT.digest)
    assert text.code == 0
    assert text.stdout.startswith("overwrite")
    assert "no DTR API" in text.stderr

    strict = check(registry, "team/app:1.0", "--digest", NEXT.digest, "--strict")
    assert strict.code == 1


def test_assume_immutable_turns_existing_tags_into_collisions(
    start_registry: Callable[..., PlainRegistry], skopeo: Skopeo, layout: Path
) -> None:
    registry = start_registry()
    skopeo.copy(layout, "release", f"{registry.host_port}/team/app:1.0")
    result = check(
        registry,
        "team/app:1.0",
        "team/app:2.0",
        "--digest",
        NEXT.digest,
        "--assume-immutable",
        "-o",
        "json",
    )
    assert result.code == 1
    assert verdicts(result) == [("collision", None), ("free", None)]
    present = check(registry, "team/app:1.0", "--digest", RELEASE.digest, "--assume-immutable")
    assert present.code == 0
    assert present.stdout.startswith("present")


def test_htpasswd_registry_with_basic_auth(
    start_registry: Callable[..., PlainRegistry], skopeo: Skopeo, layout: Path
) -> None:
    registry = start_registry(CI_USER)
    skopeo.copy(layout, "release", f"{registry.host_port}/team/app:1.0", creds=":".join(CI_USER))

    granted = check(
        registry,
        "team/app:1.0",
        "team/app:2.0",
        "--digest",
        RELEASE.digest,
        "-o",
        "json",
        user=CI_USER,
    )
    assert granted.code == 0, granted.stdout + granted.stderr
    assert verdicts(granted) == [("present", None), ("free", None)]

    anonymous = check(registry, "team/app:1.0", "-o", "json")
    assert anonymous.code == 3
    assert json.loads(anonymous.stdout)["results"][0]["error"]["code"] == "auth"

    wrong = check(registry, "team/app:2.0", user=(CI_USER[0], "wrong-password"))
    assert wrong.code == 3
    assert wrong.stdout.startswith("error")
