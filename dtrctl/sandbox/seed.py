"""The `demo` seed: a few repositories, mutable and immutable, some with tags."""

from __future__ import annotations

from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.images import build_image, build_index
from dtrctl.sandbox.state import SandboxState

SEEDS = ("demo",)


def seed_demo(state: SandboxState) -> None:
    repositories = [
        RepositoryRecord(
            "library",
            "nginx",
            immutable=True,
            visibility="public",
            short_description="Immutable public image with a published tag",
        ),
        RepositoryRecord(
            "library",
            "alpine",
            visibility="public",
            short_description="Mutable public multi-platform image",
        ),
        RepositoryRecord(
            "engineering",
            "api",
            tag_limit=10,
            short_description="Mutable private repository keeping 10 tags",
        ),
        RepositoryRecord(
            "engineering", "web", immutable=True, short_description="Immutable private repository"
        ),
        RepositoryRecord("ci", "builder", short_description="Mutable private CI images"),
        RepositoryRecord(
            "demo",
            "hello",
            immutable=True,
            visibility="public",
            short_description="Immutable public demo repository",
        ),
    ]
    for repository in repositories:
        state.add_repository(repository)
    state.put_image("library", "nginx", "1.25", build_image("library/nginx:1.25"))
    state.put_image(
        "library",
        "alpine",
        "3.20",
        build_index(
            [
                build_image("library/alpine:3.20", arch="amd64"),
                build_image("library/alpine:3.20", arch="arm64"),
            ]
        ),
    )
    state.put_image("engineering", "api", "1.0.0", author="alice")
    state.put_image("engineering", "api", "1.1.0", author="alice")
    state.put_image("engineering", "web", "v1", author="alice")


def apply_seed(state: SandboxState, seed: str | None) -> None:
    if seed is None:
        return
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; known: {', '.join(SEEDS)}")
    seed_demo(state)
