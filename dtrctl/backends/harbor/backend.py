"""`HarborBackend`: the `Backend` interface on MSR 4 / Harbor's API v2.0.

A DTR-style `namespace/name` is `project/repository-path` here. Harbor has no per-repository
immutability flag: a repository is immutable when the project's rules, evaluated as Harbor
evaluates them (`rules.repository_immutability`), make every tag immutable. Records reuse
`dtrctl.records.repository.Repository` (`immutable` is true only for level `all`) and add
`immutability` and the rules that apply to their JSON form.

The writes, `repo unlock` and the repository records are imported by the methods that use them:
push-check, which needs none of them, does not pay for loading them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from dtrctl.backends.harbor import push_facts
from dtrctl.backends.harbor.doublestar import (
    GLOB_VERSIONS,
    V1_3_4,
    GlobVersion,
    PatternError,
    check_pattern,
    glob_version_for,
    version_dependent,
)
from dtrctl.backends.harbor.rules import ImmutableRule

if TYPE_CHECKING:
    from dtrctl.backends.harbor import writes
    from dtrctl.backends.harbor.wire import (
        HarborArtifact,
        HarborProject,
        HarborRepository,
        HarborTag,
    )
    from dtrctl.errors import DtrctlError
    from dtrctl.records.changes import (
        CreateOutcome,
        ImmutabilityResult,
        RepositorySettings,
        SettingsChange,
        SettingsResult,
    )
    from dtrctl.records.findings import AuditFinding
    from dtrctl.records.push import RepositoryState, TagDetails
    from dtrctl.records.repository import Repository, Tag
    from dtrctl.records.unlock import WindowChange
    from dtrctl.reference import RepositoryName


class HarborApi(Protocol):
    """The calls of `dtrctl.backends.harbor.api.HarborClient` the backend uses."""

    def check_credentials(self) -> None: ...
    def harbor_version(self) -> str | None: ...
    def project_exists(self, project: str) -> bool: ...
    def get_project(self, project: str) -> HarborProject: ...
    def create_project(self, project: str, *, public: bool = False) -> None: ...
    def list_projects(self) -> Iterator[HarborProject]: ...
    def current_permissions(self, scope: str | None = None) -> list[tuple[str, str]]: ...
    def list_rules(self, project: str) -> list[ImmutableRule]: ...
    def create_rule(self, project: str, rule: ImmutableRule) -> int | None: ...
    def update_rule(self, project: str, rule: ImmutableRule) -> None: ...
    def delete_rule(self, project: str, rule_id: int) -> None: ...
    def list_repositories(self, project: str | None = None) -> Iterator[HarborRepository]: ...
    def get_repository(self, project: str, path: str) -> HarborRepository: ...
    def update_repository_description(self, project: str, path: str, description: str) -> None: ...
    def get_artifact(self, project: str, path: str, tag: str) -> HarborArtifact | None: ...
    def list_artifacts(self, project: str, path: str) -> Iterator[HarborArtifact]: ...


class HarborBackend:
    kind = "harbor"

    def __init__(self, api: HarborApi) -> None:
        self.api = api
        # Rule writes of one project are serialized: each decides from a fresh list.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._glob: list[GlobVersion | None] = []  # read once, when first needed

    def glob_version(self) -> GlobVersion | None:
        """The doublestar the server links, from its `harbor_version`; None when it is unknown
        (an anonymous caller of Harbor >= 2.13, a proxy): then only what both versions agree
        on is immutable, and where they differ `repo audit` says so."""
        with self._locks_guard:
            if not self._glob:
                self._glob.append(glob_version_for(self.api.harbor_version()))
            return self._glob[0]

    def glob_for(self, rules: list[ImmutableRule] | str) -> GlobVersion | None:
        """The doublestar to evaluate `rules` with: the server's (`glob_version`, asked once a
        run) only where one of their patterns may read differently in the two versions, or is
        malformed (the reason differs); where none does (no rules, rules not readable, `**`,
        `v*`), either version gives the same answer and nothing is asked."""
        if isinstance(rules, str) or all(
            _reads_alike(selector.pattern)
            for rule in rules
            for selector in (*rule.repository_selectors, *rule.tag_selectors)
        ):
            return V1_3_4
        return self.glob_version()

    def project_lock(self, project: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(project, threading.Lock())

    def check_credentials(self) -> None:
        self.api.check_credentials()

    def _rules_or_why(self, project: str) -> list[ImmutableRule] | str:
        """The project's rules, or why this caller may not read them (Harbor lets only
        maintainers and admins list rules): the repositories' immutability is then unknown."""
        from dtrctl.errors import PermissionDenied

        try:
            return self.api.list_rules(project)
        except PermissionDenied as error:
            # The client's message names the user and the project.
            return f"{error.message} (Harbor lets maintainers and project admins list rules)"

    def get_repository(self, name: RepositoryName) -> Repository:
        found = self.api.get_repository(name.namespace, name.name)
        rules = self._rules_or_why(name.namespace)
        public = self.api.get_project(name.namespace).public
        from dtrctl.backends.harbor.repository_record import repository_record

        return repository_record(
            name.namespace, name.name, rules, public=public, found=found, glob=self.glob_for(rules)
        )

    def list_repositories(self, namespace: str | None = None) -> Iterable[Repository]:
        """Every repository (of one project), each project's rules read once."""
        if namespace is not None:
            public = {namespace: self.api.get_project(namespace).public}
        else:
            public = {project.name: project.public for project in self.api.list_projects()}
        from dtrctl.backends.harbor.repository_record import repository_record

        rules: dict[str, list[ImmutableRule] | str] = {}
        globs: dict[str, GlobVersion | None] = {}
        for found in self.api.list_repositories(namespace):
            if found.project not in rules:
                rules[found.project] = self._rules_or_why(found.project)
                globs[found.project] = self.glob_for(rules[found.project])
            yield repository_record(
                found.project,
                found.path,
                rules[found.project],
                public=public.get(found.project, False),
                found=found,
                glob=globs[found.project],
            )

    def audit_findings(self, namespaces: Iterable[str]) -> list[AuditFinding]:
        """Malformed rules of each project: they silently switch immutability off."""
        from dtrctl.backends.harbor.rule_findings import malformed_rule_findings
        from dtrctl.records.findings import AuditFinding

        found = []
        for project in sorted(set(namespaces)):
            rules = self.api.list_rules(project)
            found += [
                AuditFinding(project, item.rule_id, item.severity, item.code, item.message)
                for item in malformed_rule_findings(rules, self.glob_for(rules))
            ]
        return found

    def create_repository(
        self,
        name: RepositoryName,
        settings: RepositorySettings,
        *,
        exist_ok: bool,
        create_project: bool = False,
    ) -> CreateOutcome:
        from dtrctl.backends.harbor import writes

        return writes.create_repository(
            self, name, settings, exist_ok=exist_ok, create_project=create_project
        )

    def set_immutability(self, name: RepositoryName, immutable: bool) -> ImmutabilityResult:
        from dtrctl.backends.harbor import writes

        return writes.set_immutability(self, name, immutable)

    def preview_immutability(
        self, name: RepositoryName, immutable: bool, current: Repository | None = None
    ) -> ImmutabilityResult:
        from dtrctl.backends.harbor import writes

        return writes.preview_immutability(self, name, immutable)

    def change_project(
        self, project: str, wanted: dict[str, bool], *, write: bool
    ) -> writes.ProjectChange:
        """Every path of `project` in `wanted` immutable or not, in one plan of its rules."""
        from dtrctl.backends.harbor import writes

        return writes.change_project(self, project, wanted, write=write)

    def apply_settings(self, change: SettingsChange) -> SettingsResult:
        from dtrctl.backends.harbor import writes

        return writes.apply_settings(self, change)

    def plan_unlock(self, name: RepositoryName) -> tuple[WindowChange, ...]:
        from dtrctl.backends.harbor import unlock

        return unlock.plan_unlock(self, name)

    def lift_change(self, change: WindowChange) -> None:
        from dtrctl.backends.harbor import unlock

        unlock.lift(self, change)

    def restore_change(self, change: WindowChange) -> None:
        from dtrctl.backends.harbor import unlock

        unlock.restore(self, change)

    def repository_state(self, name: RepositoryName, username: str | None) -> RepositoryState:
        return push_facts.repository_state(self.api, name)

    def push_right(
        self, name: RepositoryName, granted: frozenset[str] | None
    ) -> bool | DtrctlError:
        return push_facts.push_right(self.api, name, granted)

    def list_tags(self, name: RepositoryName) -> Iterable[Tag]:
        """One entry per tag of each artifact (an index is one artifact: no platform)."""
        found = False
        for artifact in self.api.list_artifacts(name.namespace, name.name):
            found = True
            yield from (tag_record(artifact, tag) for tag in artifact.tags)
        if not found:
            # Harbor may list an absent repository as empty: an empty list must mean "exists".
            self.api.get_repository(name.namespace, name.name)

    def tag_details(self, name: RepositoryName, tag: str) -> TagDetails:
        return push_facts.tag_details(self.api, name, tag, self.glob_version)

    def token_endpoint(self, url: str) -> tuple[str, str]:
        from dtrctl.backends.harbor import token_endpoint

        return token_endpoint(url)


def tag_record(artifact: HarborArtifact, tag: HarborTag) -> Tag:
    """dtrctl's record of a Harbor tag; Harbor keeps no pusher, only the tag's push time."""
    from dtrctl.records.repository import Tag, TagManifest

    manifest = TagManifest(
        digest=artifact.digest,
        media_type=artifact.media_type,
        os=artifact.os,
        architecture=artifact.architecture,
        size=artifact.size,
        created_at=artifact.push_time,
    )
    pushed = tag.push_time or artifact.push_time
    return Tag(
        name=tag.name,
        digest=artifact.digest,
        created_at=pushed,
        updated_at=pushed,
        manifest=manifest,
    )


def _reads_alike(pattern: str) -> bool:
    """Whether both doublestar versions answer alike for every name, errors included."""
    if version_dependent(pattern):
        return False
    try:
        for version in GLOB_VERSIONS:
            check_pattern(pattern, version)
    except PatternError:
        return False
    return True
