"""The installed `dtrctl push-check` against the sandbox DTR, with real images pushed by skopeo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dtrctl.sandbox.images import Artifact, Image, Index, build_image, build_index, write_oci_layout
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import Run, Skopeo, run_dtrctl

pytestmark = [pytest.mark.integration, pytest.mark.skopeo]

ADMIN = ("admin", "sandbox-admin-password")
ALICE = ("alice", "sandbox-alice-password")
BOB = ("bob", "sandbox-bob-password")


def multi_platform(seed: str) -> Index:
    return build_index([build_image(seed, arch="amd64"), build_image(seed, arch="arm64")])


@dataclass(frozen=True)
class Published:
    """What the pipeline under test has built, and what is already in the registry."""

    server: SandboxServer
    skopeo: Skopeo
    layout: Path
    single: Image  # pushed as engineering/web:1.0 (immutable) and demo/hello:1.0 (public)
    single_next: Image  # built, not pushed
    multi: Index  # pushed as engineering/api:2.0 (mutable)
    multi_next: Index  # built, not pushed

    def push(self, source_tag: str, destination: str, creds: tuple[str, str] = ALICE) -> Any:
        return self.skopeo.copy(
            self.layout,
            source_tag,
            f"{self.server.host_port}/{destination}",
            creds=":".join(creds),
            check=False,
        )


@pytest.fixture
def published(sandbox: SandboxServer, skopeo: Skopeo, tmp_path: Path) -> Published:
    layout = tmp_path / "layout"
    images: dict[str, Artifact] = {
        "single": build_image("release-1"),
        "single-next": build_image("release-2"),
        "multi": multi_platform("multi-1"),
        "multi-next": multi_platform("multi-2"),
    }
    for tag, artifact in images.items():
        write_oci_layout(layout, artifact, tag)
    state = Published(
        sandbox,
        skopeo,
        layout,
        images["single"],  # type: ignore[arg-type]
        images["single-next"],  # type: ignore[arg-type]
        images["multi"],  # type: ignore[arg-type]
        images["multi-next"],  # type: ignore[arg-type]
    )
    for source, destination, creds in (
        ("single", "engineering/web:1.0", ALICE),
        ("multi", "engineering/api:2.0", ALICE),
        ("single", "demo/hello:1.0", ADMIN),
    ):
        pushed = state.push(source, destination, creds)
        assert pushed.returncode == 0, pushed.stderr
    return state


def check(
    published: Published, *args: str, user: tuple[str, str] | None = ADMIN
) -> tuple[Run, dict[str, Any] | None]:
    env = {"DTRCTL_URL": published.server.url}
    if user is not None:
        env |= {"DTRCTL_USERNAME": user[0], "DTRCTL_PASSWORD": user[1]}
    result = run_dtrctl("push-check", *args, env=env)
    document = json.loads(result.stdout) if "json" in args else None
    return result, document


def test_immutable_tag_with_the_same_digest_is_present(published: Published) -> None:
    result, document = check(
        published, "engineering/web:1.0", "--digest", published.single.digest, "-o", "json"
    )
    assert result.code == 0, result.stderr
    assert document is not None
    assert document["ok"] is True
    (present,) = document["results"]
    assert present["reference"] == f"{published.server.host_port}/engineering/web:1.0"
    assert (present["verdict"], present["exists"], present["immutable"]) == ("present", True, True)
    assert present["remote_digest"] == published.single.digest
    assert present["author"] == "alice"


def test_collision_is_exactly_what_dtr_then_refuses(published: Published) -> None:
    result, _ = check(published, "engineering/web:1.0", "--digest", published.single_next.digest)
    assert result.code == 1
    assert result.stdout.startswith("collision")
    predicted = (
        f"tag=1.0 cannot be overwritten because {published.server.host_port}/engineering/web "
        "is an immutable repository"
    )
    assert predicted in result.stdout

    refused = published.push("single-next", "engineering/web:1.0")
    assert refused.returncode != 0
    assert predicted in refused.stderr


def test_free_tag_is_pushed_then_present(published: Published) -> None:
    digest = published.single_next.digest
    before, _ = check(published, "engineering/web:1.1", "--digest", digest)
    assert before.code == 0
    assert before.stdout.startswith("free")

    assert published.push("single-next", "engineering/web:1.1").returncode == 0

    after, document = check(published, "engineering/web:1.1", "--digest", digest, "-o", "json")
    assert after.code == 0
    assert document is not None
    assert document["results"][0]["verdict"] == "present"


def test_multi_platform_tag_compares_the_index_digest(published: Published) -> None:
    same, document = check(
        published, "engineering/api:2.0", "--digest", published.multi.digest, "-o", "json"
    )
    assert same.code == 0
    assert document is not None
    assert document["results"][0]["verdict"] == "present"
    assert document["results"][0]["remote_digest"] == published.multi.digest

    different, document = check(
        published, "engineering/api:2.0", "--digest", published.multi_next.digest, "-o", "json"
    )
    assert different.code == 0
    assert document is not None
    assert (document["results"][0]["verdict"], document["results"][0]["immutable"]) == (
        "overwrite",
        False,
    )

    strict, _ = check(
        published, "engineering/api:2.0", "--digest", published.multi_next.digest, "--strict"
    )
    assert strict.code == 1

    # The prediction holds: the mutable tag is replaced.
    assert published.push("multi-next", "engineering/api:2.0").returncode == 0
    replaced, _ = check(published, "engineering/api:2.0", "--digest", published.multi_next.digest)
    assert replaced.stdout.startswith("present")


def test_expected_digest_from_an_oci_layout(published: Published) -> None:
    result, document = check(
        published,
        "engineering/web:1.0",
        "engineering/api:2.0",
        "--oci-layout",
        f"{published.layout}:single",
        "-o",
        "json",
    )
    assert result.code == 0
    assert document is not None
    assert [item["verdict"] for item in document["results"]] == ["present", "overwrite"]
    assert {item["expected_digest"] for item in document["results"]} == {published.single.digest}


def test_expected_digest_from_buildx_metadata(published: Published, tmp_path: Path) -> None:
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"containerimage.digest": published.multi.digest}))
    result, _ = check(published, "engineering/api:2.0", "--metadata-file", str(metadata))
    assert result.code == 0
    assert result.stdout.startswith("present")


def test_config_digest_single_and_multi_platform(published: Published) -> None:
    image_id = published.single.config.digest
    result, document = check(
        published,
        "engineering/web:1.0",
        "engineering/api:2.0",
        "--config-digest",
        image_id,
        "-o",
        "json",
    )
    assert result.code == 0, result.stdout
    assert document is not None
    single, multi = document["results"]
    assert (single["verdict"], single["remote_config_digest"]) == ("present", image_id)
    assert single["expected_digest"] == image_id
    assert multi["verdict"] == "overwrite"
    assert multi["remote_config_digest"] is None
    assert any("multi-platform" in note for note in multi["notes"])


def test_missing_repository_is_no_repo(published: Published) -> None:
    result, document = check(published, "engineering/ghost:1.0", "-o", "json")
    assert result.code == 4
    assert document is not None
    assert document["results"][0]["verdict"] == "no-repo"
    assert document["results"][0]["immutable"] is None


def test_bad_credentials_are_exit_3(published: Published) -> None:
    result, document = check(
        published, "engineering/web:1.0", "-o", "json", user=("alice", "wrong-password")
    )
    assert result.code == 3
    assert document is not None
    assert document["ok"] is False
    assert document["results"][0]["verdict"] == "error"
    assert document["results"][0]["error"]["code"] == "auth"


def test_read_only_user_sees_the_policy_but_not_other_teams(published: Published) -> None:
    visible, _ = check(
        published, "engineering/web:1.0", "--digest", published.single_next.digest, user=BOB
    )
    assert visible.code == 1
    assert visible.stdout.startswith("collision")
    hidden, _ = check(published, "ci/builder:1.0", user=BOB)
    assert hidden.code == 4
    assert hidden.stdout.startswith("no-repo")


def test_read_only_user_is_told_a_new_tag_cannot_be_pushed(published: Published) -> None:
    refused, document = check(published, "engineering/web:9.9", "-o", "json", user=BOB)
    assert refused.code == 3
    assert document is not None
    assert document["results"][0]["error"]["code"] == "permission"
    allowed, document = check(published, "engineering/web:9.9", "-o", "json", user=ALICE)
    assert allowed.code == 0
    assert document is not None
    assert document["results"][0]["verdict"] == "free"


def test_anonymous_check_of_a_public_repository(published: Published) -> None:
    args = (
        f"{published.server.host_port}/demo/hello:1.0",
        "demo/hello:1.1",
        "--digest",
        published.single.digest,
    )
    env = {"DTRCTL_URL": published.server.url}
    # A CI gate without credentials fails against a DTR, naming where it looked...
    refused = run_dtrctl("push-check", *args, env=env)
    assert refused.code == 3, refused.stdout + refused.stderr
    assert refused.stdout == ""
    assert "DTRCTL_PASSWORD" in refused.stderr and "config.json" in refused.stderr
    assert "--anonymous" in refused.stderr
    # ...unless the run declares itself anonymous.
    result = run_dtrctl("--anonymous", "push-check", *args, env=env)
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("present")
    assert lines[1].startswith("free")
