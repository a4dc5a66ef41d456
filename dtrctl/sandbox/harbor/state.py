"""What the Harbor flavor knows beyond the registry content: projects, members and their roles,
robot accounts, immutable tag rules and the integer ids Harbor's API shows.

Registry content (repositories, manifests, tags, blobs, tokens) stays in SandboxState, so the
/v2 implementation is shared with the DTR flavor. A Harbor repository is stored as a
RepositoryRecord with `namespace` the project and `name` the path inside it (which may hold `/`).

Permissions (a subset of Harbor's RBAC): guests and limited guests read; developers also push;
maintainers also delete tags and artifacts and *list* immutable tag rules; project admins also
*write* rules. Anyone reads a public project; system admins may do everything.
"""

from __future__ import annotations

import hmac
import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.harbor.matching import is_immutable
from dtrctl.sandbox.harbor.rule_records import (
    RuleConflict,
    StoredRule,
    body_id,
    rule_content,
    tag_filter,
)
from dtrctl.sandbox.manifests import parse_manifest
from dtrctl.sandbox.state import SandboxState, StoredManifest, utc_timestamp

ROLE_IDS = {"projectAdmin": 1, "developer": 2, "guest": 3, "maintainer": 4, "limitedGuest": 5}
PROJECT_CREATION_RESTRICTIONS = ("everyone", "adminonly")

Permission = tuple[str, str]  # (resource, action), as Harbor's API names them

_READ: frozenset[Permission] = frozenset(
    {
        ("project", "read"),
        ("repository", "list"),
        ("repository", "read"),
        ("repository", "pull"),
        ("artifact", "list"),
        ("artifact", "read"),
        ("tag", "list"),
    }
)
_DEVELOPER = _READ | {
    ("repository", "push"),
    ("repository", "update"),
    ("artifact", "create"),
    ("tag", "create"),
}
_MAINTAINER = _DEVELOPER | {
    ("repository", "delete"),
    ("artifact", "delete"),
    ("tag", "delete"),
    ("immutable-tag", "list"),
}
_PROJECT_ADMIN = _MAINTAINER | {
    ("immutable-tag", "create"),
    ("immutable-tag", "update"),
    ("immutable-tag", "delete"),
    ("project", "update"),
}
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "limitedGuest": _READ,
    "guest": _READ,
    "developer": _DEVELOPER,
    "maintainer": _MAINTAINER,
    "projectAdmin": _PROJECT_ADMIN,
}
ALL_PROJECT_PERMISSIONS = _PROJECT_ADMIN | {("project", "delete")}


@dataclass
class Project:
    project_id: int
    name: str
    public: bool
    owner_id: int
    owner_name: str
    creation_time: str
    update_time: str


@dataclass
class HarborUser:
    user_id: int
    username: str
    password: str
    sysadmin: bool
    creation_time: str
    # project name -> role name (a key of ROLE_IDS)
    roles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Robot:
    robot_id: int
    name: str  # as presented: `robot$name` or `robot$project+name`
    secret: str
    # None: a system robot, whose permissions hold in every project.
    project: str | None
    permissions: frozenset[Permission]
    description: str = ""


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: a user or a robot."""

    user: HarborUser | None = None
    robot: Robot | None = None

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.username
        assert self.robot is not None
        return self.robot.name

    @property
    def sysadmin(self) -> bool:
        return self.user is not None and self.user.sysadmin


class HarborState(SandboxState):
    def __init__(self, *, project_creation_restriction: str = "everyone") -> None:
        super().__init__(create_on_push=False)
        if project_creation_restriction not in PROJECT_CREATION_RESTRICTIONS:
            raise ValueError(
                f"project creation restriction must be one of "
                f"{', '.join(PROJECT_CREATION_RESTRICTIONS)}"
            )
        self.project_creation_restriction = project_creation_restriction
        self._projects: dict[str, Project] = {}
        self._users: dict[str, HarborUser] = {}
        self._robots: dict[str, Robot] = {}
        self._rules: dict[int, StoredRule] = {}
        self._rule_ids = itertools.count(1)
        self._project_ids = itertools.count(1)
        # Integer ids for repositories, artifacts and tags, given on first sight.
        self._object_ids: dict[tuple[str, ...], int] = {}
        self._repository_times: dict[tuple[str, str], str] = {}
        self._descriptions: dict[tuple[str, str], str] = {}

    def object_id(self, *key: str) -> int:
        with self.lock:
            if key not in self._object_ids:
                self._object_ids[key] = len(self._object_ids) + 1
            return self._object_ids[key]

    # Accounts

    def add_harbor_user(
        self, username: str, password: str, sysadmin: bool = False, **roles: str
    ) -> HarborUser:
        """Add a user; `roles` maps project names to role names (projectAdmin, maintainer...)."""
        with self.lock:
            user = HarborUser(len(self._users) + 1, username, password, sysadmin, utc_timestamp())
            self._users[username] = user
            for project, role in roles.items():
                self.add_member(username, project, role)
            return user

    def add_member(self, username: str, project: str, role: str) -> None:
        if role not in ROLE_IDS:
            raise ValueError(f"role must be one of {', '.join(ROLE_IDS)}")
        with self.lock:
            self._users[username].roles[project] = role

    def add_robot(
        self,
        name: str,
        secret: str,
        project: str | None,
        permissions: frozenset[Permission],
        description: str = "",
    ) -> Robot:
        full = f"robot${project}+{name}" if project is not None else f"robot${name}"
        with self.lock:
            robot = Robot(len(self._robots) + 1, full, secret, project, permissions, description)
            self._robots[full] = robot
            return robot

    def authenticate(self, username: str, secret: str) -> bool:
        return self.caller(username, secret) is not None

    def caller(self, username: str, secret: str) -> Caller | None:
        """The caller these Basic credentials identify; None when they are wrong."""
        with self.lock:
            robot = self._robots.get(username)
            user = self._users.get(username)
        if robot is not None and hmac.compare_digest(secret, robot.secret):
            return Caller(robot=robot)
        if user is not None and hmac.compare_digest(secret, user.password):
            return Caller(user=user)
        return None

    def caller_named(self, username: str | None) -> Caller | None:
        with self.lock:
            if username in self._robots:
                return Caller(robot=self._robots[username])
            if username in self._users:
                return Caller(user=self._users[username])
            return None

    def permissions(self, caller: Caller | None, project: Project) -> frozenset[Permission]:
        """What the caller may do in the project."""
        public = _READ if project.public else frozenset()
        if caller is None:
            return public
        if caller.sysadmin:
            return ALL_PROJECT_PERMISSIONS
        if caller.robot is not None:
            own = caller.robot.project in (None, project.name)
            return public | (caller.robot.permissions if own else frozenset())
        assert caller.user is not None
        role = caller.user.roles.get(project.name)
        return public | (ROLE_PERMISSIONS[role] if role else frozenset())

    def can(self, caller: Caller | None, project: Project, resource: str, action: str) -> bool:
        return (resource, action) in self.permissions(caller, project)

    def role_ids(self, caller: Caller | None, project: Project) -> list[int]:
        if caller is None or caller.user is None:
            return []
        role = caller.user.roles.get(project.name)
        return [ROLE_IDS[role]] if role else []

    # Projects

    def add_project(self, name: str, public: bool = False, owner: str = "admin") -> Project:
        with self.lock:
            if name in self._projects:
                raise ValueError(f"project {name} exists")
            owner_user = self._users.get(owner)
            now = utc_timestamp()
            project = Project(
                next(self._project_ids),
                name,
                public,
                owner_user.user_id if owner_user else 1,
                owner,
                now,
                now,
            )
            self._projects[name] = project
            if owner_user is not None and not owner_user.sysadmin:
                owner_user.roles.setdefault(name, "projectAdmin")
            return project

    def project(self, name: str) -> Project | None:
        with self.lock:
            return self._projects.get(name)

    def project_by_id(self, project_id: int) -> Project | None:
        with self.lock:
            return next((p for p in self._projects.values() if p.project_id == project_id), None)

    def projects(self) -> list[Project]:
        with self.lock:
            return sorted(self._projects.values(), key=lambda project: project.project_id)

    def project_repositories(self, project: str | None = None) -> list[RepositoryRecord]:
        """Repositories, sorted by full name; all of them or one project's."""
        with self.lock:
            return [
                self._repositories[key]
                for key in self._sorted_keys
                if project is None or key[0] == project
            ]

    def add_project_repository(self, project: str, path: str) -> RepositoryRecord:
        """A repository as a first push creates it."""
        with self.lock:
            if project not in self._projects:
                raise KeyError(f"no project {project}")
            stored = self.add_repository(RepositoryRecord(namespace=project, name=path))
            self.object_id("repository", project, path)
            self._repository_times[(project, path)] = utc_timestamp()
            return stored

    def repository_time(self, project: str, path: str) -> str:
        with self.lock:
            return self._repository_times.get((project, path), "")

    def description(self, project: str, path: str) -> str:
        with self.lock:
            return self._descriptions.get((project, path), "")

    def set_description(self, project: str, path: str, description: str) -> None:
        with self.lock:
            self._descriptions[(project, path)] = description

    def delete_project_repository(self, project: str, path: str) -> None:
        """Remove a repository and its content; rules that name it stay, as in Harbor."""
        with self.lock:
            self.delete_repository(project, path)
            self._descriptions.pop((project, path), None)
            self._repository_times.pop((project, path), None)

    def delete_artifact(self, project: str, path: str, digest: str) -> None:
        """Remove an artifact, its tags, and the members of an index that nothing else keeps
        (no tag, no other index), as Harbor's deleteDeeply does."""
        with self.lock:
            manifest = self.manifest(project, path, digest)
            self.delete_manifest(project, path, digest)
            contents = self._contents_of(project, path)
            kept = {child for other in contents.manifests.values() for child in other.children}
            tagged = {tag.digest for tag in contents.tags.values()}
            for child in manifest.children if manifest is not None else ():
                if child not in kept and child not in tagged:
                    self.delete_manifest(project, path, child)

    def copy_artifact(self, source: tuple[str, str], digest: str, target: tuple[str, str]) -> None:
        """Copy a manifest, the members of an index and the links to their blobs from one
        repository into another (which must exist); tags are the caller's."""
        with self.lock:
            pending = [digest]
            while pending:
                manifest = self.manifest(*source, pending.pop())
                if manifest is None:
                    raise KeyError(f"no manifest {digest} in {'/'.join(source)}")
                pending.extend(manifest.children)
                parsed = parse_manifest(manifest.media_type, manifest.body)
                for blob in (parsed.config, *parsed.layers):
                    if blob is not None:
                        self.mount_blob(*target, blob.digest, source)
                self._contents_of(*target).manifests.setdefault(
                    manifest.digest, replace(manifest, created_at=utc_timestamp())
                )

    def artifacts(self, project: str, path: str) -> list[StoredManifest]:
        """The repository's top-level artifacts (not the members of an index), newest first."""
        with self.lock:
            manifests = self._contents_or_empty(project, path).manifests
            children = {child for manifest in manifests.values() for child in manifest.children}
            tops = [m for digest, m in manifests.items() if digest not in children]
        return sorted(tops, key=lambda manifest: (manifest.created_at, manifest.digest))[::-1]

    # Immutable tag rules

    def rules(self, project: Project) -> list[StoredRule]:
        """The project's rules, sorted by id."""
        with self.lock:
            return sorted(
                (rule for rule in self._rules.values() if rule.project_id == project.project_id),
                key=lambda rule: rule.id,
            )

    def rule(self, project: Project, rule_id: int) -> StoredRule | None:
        with self.lock:
            rule = self._rules.get(rule_id)
            return rule if rule is not None and rule.project_id == project.project_id else None

    def _check_unique(self, project: Project, key: str, rule_id: int = 0) -> None:
        for rule in self.rules(project):
            if rule.id != rule_id and rule.tag_filter == key:
                raise RuleConflict

    def create_rule(self, project: Project, body: dict[str, Any]) -> StoredRule:
        """Store a rule, always enabled (as Harbor does, whatever `disabled` says); its
        `tag_filter` keeps the `id` and `disabled` sent, as Harbor's does."""
        content = rule_content(body)
        key = tag_filter(project.project_id, body_id(body), body.get("disabled") is True, content)
        with self.lock:
            self._check_unique(project, key)
            rule = StoredRule(next(self._rule_ids), project.project_id, False, content, key)
            self._rules[rule.id] = rule
            return rule

    def update_rule(self, project: Project, rule: StoredRule, body: dict[str, Any]) -> None:
        """Toggle `disabled` when it differs (ignoring everything else, the stored filter too),
        else replace content."""
        with self.lock:
            disabled = bool(body.get("disabled", False))
            if disabled != rule.disabled:
                rule.disabled = disabled
                return
            content = rule_content(body)
            key = tag_filter(project.project_id, rule.id, disabled, content)
            self._check_unique(project, key, rule.id)
            rule.content, rule.tag_filter = content, key

    def delete_rule(self, rule: StoredRule) -> None:
        with self.lock:
            self._rules.pop(rule.id, None)

    def tag_is_immutable(self, project: str, path: str, tag: str) -> bool:
        """Whether the project's current rules make `tag` of `project/path` immutable."""
        with self.lock:
            found = self._projects.get(project)
            rules = [rule.as_dict() for rule in self.rules(found)] if found else []
        return is_immutable(rules, path, tag)
