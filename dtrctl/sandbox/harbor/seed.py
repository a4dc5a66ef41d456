"""The Harbor flavor's accounts, projects and `demo` seed.

Every Harbor sandbox has projects `library` (public) and `engineering` (private), the DTR
flavor's demo users with the same passwords (DTR's read-only is a guest here, read-write a
developer, admin a project admin), two Harbor-only users and two robot accounts. The `demo`
seed adds repositories, images and immutable tag rules (see `seed_demo`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dtrctl.sandbox.accounts import DEMO_USERS
from dtrctl.sandbox.harbor.state import ALL_PROJECT_PERMISSIONS, HarborState, Permission
from dtrctl.sandbox.images import build_image, build_index

SEEDS = ("demo",)
DTR_LEVEL_ROLES = {"read-only": "guest", "read-write": "developer", "admin": "projectAdmin"}
PROJECTS = (("library", True), ("engineering", False))


@dataclass(frozen=True)
class HarborAccount:
    """A demo account as `dtrctl sandbox --flavor harbor` prints it."""

    username: str
    password: str
    description: str


HARBOR_ONLY_USERS = (
    HarborAccount("carol", "sandbox-carol-password", "maintainer of engineering (lists rules)"),
    HarborAccount("dave", "sandbox-dave-password", "project admin of engineering (writes rules)"),
)
_CI_ROBOT_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        ("project", "read"),
        ("repository", "list"),
        ("repository", "read"),
        ("repository", "pull"),
        ("repository", "push"),
        ("artifact", "list"),
        ("artifact", "read"),
        ("tag", "list"),
        ("immutable-tag", "list"),
        ("immutable-tag", "create"),
        ("immutable-tag", "update"),
        ("immutable-tag", "delete"),
    }
)
ROBOTS: tuple[tuple[HarborAccount, str, str | None, frozenset[Permission]], ...] = (
    (
        HarborAccount(
            "robot$engineering+ci",
            "sandbox-robot-ci-secret",
            "project robot of engineering: pull, push, immutable tag rules",
        ),
        "ci",
        "engineering",
        _CI_ROBOT_PERMISSIONS,
    ),
    (
        HarborAccount(
            "robot$dtrctl",
            "sandbox-robot-dtrctl-secret",
            "system robot: everything in every project, and creating projects",
        ),
        "dtrctl",
        None,
        ALL_PROJECT_PERMISSIONS | {("project", "create")},
    ),
)


def demo_accounts() -> list[HarborAccount]:
    users = [
        HarborAccount(user.username, user.password, _describe(user.sysadmin, user.grants))
        for user in DEMO_USERS
    ]
    return [*users, *HARBOR_ONLY_USERS, *(account for account, *_ in ROBOTS)]


def _describe(sysadmin: bool, grants: tuple[tuple[str, str], ...]) -> str:
    if sysadmin:
        return "system admin: may do everything"
    return ", ".join(f"{DTR_LEVEL_ROLES[level]} of {project}" for project, level in grants)


def add_defaults(state: HarborState) -> None:
    """The projects and accounts every Harbor sandbox has."""
    for user in DEMO_USERS:
        state.add_harbor_user(user.username, user.password, sysadmin=user.sysadmin)
    for name, public in PROJECTS:
        state.add_project(name, public=public)
    for user in DEMO_USERS:
        for project, level in user.grants:
            state.add_member(user.username, project, DTR_LEVEL_ROLES[level])
    state.add_harbor_user("carol", "sandbox-carol-password", engineering="maintainer")
    state.add_harbor_user("dave", "sandbox-dave-password", engineering="projectAdmin")
    for account, name, scope, permissions in ROBOTS:
        state.add_robot(name, account.password, scope, permissions, account.description)


def canonical_rule(path: str, disabled: bool = False) -> dict[str, object]:
    """The rule Harbor's UI writes for "every tag of this repository is immutable"."""
    return {
        "action": "immutable",
        "template": "immutable_template",
        "priority": 0,
        "disabled": disabled,
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": path}]
        },
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
    }


def seed_demo(state: HarborState) -> None:
    """Repositories, images and rules: `library/nginx` and `engineering/api` immutable (one
    canonical rule each), `engineering/team/app` immutable for `v*` tags only, `library/alpine`
    under a disabled rule (so mutable), `engineering/web` without any rule."""
    library, engineering = state.project("library"), state.project("engineering")
    assert library is not None and engineering is not None
    for project, path in (
        ("library", "nginx"),
        ("library", "alpine"),
        ("engineering", "api"),
        ("engineering", "web"),
        ("engineering", "team/app"),
    ):
        state.add_project_repository(project, path)
    state.put_image("library", "nginx", "1.25", build_image("library/nginx:1.25"))
    alpine = build_index(
        [build_image("library/alpine:3.20", arch=arch) for arch in ("amd64", "arm64")]
    )
    state.put_image("library", "alpine", "3.20", alpine)
    state.put_image("engineering", "api", "1.0.0", author="alice")
    state.put_image("engineering", "api", "1.1.0", author="alice")
    state.put_image("engineering", "web", "v1", author="alice")
    state.put_image("engineering", "team/app", "v1.0", author="alice")
    state.put_image("engineering", "team/app", "latest", author="alice")
    state.create_rule(library, canonical_rule("nginx"))
    alpine_rule = state.create_rule(library, canonical_rule("alpine"))
    state.update_rule(library, alpine_rule, {"id": alpine_rule.id, "disabled": True})
    state.create_rule(engineering, canonical_rule("api"))
    team_rule = canonical_rule("team/**")
    team_rule["tag_selectors"] = [{"kind": "doublestar", "decoration": "matches", "pattern": "v*"}]
    state.create_rule(engineering, team_rule)


def apply_seed(state: HarborState, seed: str | None) -> None:
    add_defaults(state)
    if seed is None:
        return
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; known: {', '.join(SEEDS)}")
    seed_demo(state)
