"""Harbor changes: immutability as rules dtrctl owns, project checks, descriptions.

Turning immutability on puts the repository into dtrctl's packed rule of the project (or its
plain rule: `packing`), unless an enabled rule already covers every tag. Turning it off takes
the repository out of dtrctl's rules only: a rule dtrctl did not create is never edited or
deleted, and when one still makes the repository immutable the change fails (Conflict, exit 1)
naming it. Every plan is evaluated first as Harbor would evaluate the resulting rules
(`packing.plan_project`, pure), and every change is verified by reading the rules again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dtrctl.backends.harbor.doublestar import V1_3_4, GlobVersion
from dtrctl.backends.harbor.packing import (
    ProjectPlan,
    RuleAction,
    RuleLayout,
    after_rules,
    plan_project,
)
from dtrctl.backends.harbor.rules import Immutability, ImmutableRule, repository_immutability
from dtrctl.errors import (
    Conflict,
    DtrctlError,
    InvalidResponse,
    NetworkError,
    NotFound,
    RepositoryExists,
    RepositoryNotFound,
    RequestTimeout,
    UsageError,
)
from dtrctl.records.changes import (
    CreateOutcome,
    ImmutabilityResult,
    RepositorySettings,
    SettingsChange,
    SettingsResult,
)
from dtrctl.reference import RepositoryName

if TYPE_CHECKING:
    from dtrctl.backends.harbor.backend import HarborBackend
    from dtrctl.records.repository import Repository

# A request whose answer never arrived whole: Harbor may or may not have acted on it.
LOST_ANSWER = (RequestTimeout, NetworkError, InvalidResponse)


@dataclass(frozen=True)
class RulePlan:
    """The rule writes that give a repository the wanted immutability, or why none can."""

    actions: tuple[RuleAction, ...] = ()
    error: DtrctlError | None = None
    warnings: tuple[str, ...] = ()
    layout: tuple[RuleLayout, ...] = ()


def plan_immutability(
    rules: list[ImmutableRule],
    project: str,
    path: str,
    immutable: bool,
    glob: GlobVersion | None = V1_3_4,
) -> RulePlan:
    """Pure: what to write so that Harbor's evaluation gives `project/path` the wanted state;
    `glob` is the server's doublestar version (None: unknown, then both must agree)."""
    plan = plan_project(
        rules, project, [path] if immutable else (), () if immutable else [path], glob
    )
    if path in plan.errors:
        return RulePlan(error=plan.errors[path])
    if path not in plan.changing:
        return RulePlan()
    return RulePlan(plan.actions, warnings=plan.warnings, layout=plan.layout)


def _execute(
    backend: HarborBackend, project: str, actions: tuple[RuleAction, ...]
) -> DtrctlError | None:
    """Send the writes in order, up to the first that fails, whose error is returned: the rules
    read again then decide what was done (a lost answer may or may not have been acted on)."""
    for action in actions:
        try:
            if action.kind == "create":
                backend.api.create_rule(project, action.rule)  # None: Harbor had it (409)
            elif action.kind in ("enable", "update"):
                # Either only `disabled` differs from the stored rule (Harbor toggles it) or,
                # the rule enabled, only its content (Harbor replaces it).
                backend.api.update_rule(project, action.rule)
            elif action.rule.id is not None:
                backend.api.delete_rule(project, action.rule.id)
        except DtrctlError as failure:
            return failure
    return None


@dataclass(frozen=True)
class ProjectChange:
    """What dtrctl did (or would do) to a project's rules: per path, the result."""

    results: dict[str, ImmutabilityResult]
    layout: tuple[RuleLayout, ...] = ()


def change_project(
    backend: HarborBackend, project: str, wanted: dict[str, bool], *, write: bool
) -> ProjectChange:
    """Give every path of `project` in `wanted` its immutability with one plan (`write` False:
    only plan); each write verified by reading the rules again."""
    on = [path for path, immutable in wanted.items() if immutable]
    off = [path for path, immutable in wanted.items() if not immutable]
    with backend.project_lock(project):
        rules = backend.api.list_rules(project)
        glob = backend.glob_version()
        plan = plan_project(rules, project, on, off, glob)
        failed: dict[str, DtrctlError] = dict(plan.errors)
        warnings = plan.warnings
        now = after_rules(rules, plan.actions)  # as planned; as read again once written
        if plan.actions and write:
            failure = _execute(backend, project, plan.actions)
            now = backend.api.list_rules(project)
            wrong = _unverified(project, now, plan, wanted, glob, failure)
            failed.update(wrong)
            if failure is not None and not wrong:
                # Every repository is as asked; a later write (a clean-up) was refused.
                warnings += (
                    f"{failure.message}: the repositories are as asked, but dtrctl's "
                    f"rules of project {project} are not all packed yet",
                )
    results = {
        path: ImmutabilityResult(f"{project}/{path}", None, changed=False, error=failed[path])
        if path in failed
        else ImmutabilityResult(
            f"{project}/{path}",
            immutable,
            changed=path in plan.changing,
            warnings=warnings,
            **({} if immutable else _left(repository_immutability(now, path, glob))),
        )
        for path, immutable in wanted.items()
    }
    return ProjectChange(results, plan.layout if plan.changing else ())


def _left(after: Immutability) -> dict[str, Any]:
    """Turning off: the rules that still make some tags immutable, by id and in words."""
    from dtrctl.backends.harbor.repository_record import applied_summary

    return {
        "rules_left": tuple(item.rule.id for item in after.applied if item.rule.id is not None),
        "still_immutable": applied_summary(after),
    }


def _unverified(
    project: str,
    rules: list[ImmutableRule],
    plan: ProjectPlan,
    wanted: dict[str, bool],
    glob: GlobVersion | None,
    failure: DtrctlError | None,
) -> dict[str, DtrctlError]:
    """An error for each path asked about that Harbor's rules, read again, do not leave as the
    plan wants (for every path asked, should a path not asked be wrong)."""
    wrong = [
        path
        for path, immutable in sorted(plan.expected.items())
        if repository_immutability(rules, path, glob).immutable != immutable
    ]
    if not wrong:
        return {}
    if failure is None:
        state = "mutable" if plan.expected[wrong[0]] else "immutable"
        failure = InvalidResponse(
            f"Harbor accepted the rule changes of project {project} but its rules make "
            f"{project}/{wrong[0]} {state}"
        )
    elif isinstance(failure, LOST_ANSWER):
        failure.hint = (
            f"Harbor may not have applied the change: check project {project} before retrying"
        )
    asked = [path for path in wanted if path not in plan.errors]
    if all(path in wanted for path in wrong):
        asked = [path for path in asked if path in wrong]
    return dict.fromkeys(asked, failure)


def _immutability_change(
    backend: HarborBackend, name: RepositoryName, immutable: bool, *, write: bool
) -> ImmutabilityResult:
    result = change_project(backend, name.namespace, {name.name: immutable}, write=write)
    outcome = result.results[name.name]
    if outcome.error is not None:  # one repository's change: the backend raises (#19)
        raise outcome.error
    return outcome


def set_immutability(
    backend: HarborBackend, name: RepositoryName, immutable: bool
) -> ImmutabilityResult:
    return _immutability_change(backend, name, immutable, write=True)


def preview_immutability(
    backend: HarborBackend, name: RepositoryName, immutable: bool
) -> ImmutabilityResult:
    """What `set_immutability` would do, changing nothing (`changed` means "would change")."""
    return _immutability_change(backend, name, immutable, write=False)


# RepositorySettings fields DTR has and Harbor has not (also policy keys), and why.
UNSUPPORTED_SETTINGS = (
    ("visibility", "visibility is a setting of the whole project on Harbor"),
    ("tag_limit", "Harbor has no tag limit per repository (use a tag retention policy)"),
    ("scan_on_push", "scan on push is a setting of the whole project on Harbor"),
    ("long_description", "Harbor has one description per repository: use --description"),
)


def check_supported(settings: RepositorySettings) -> None:
    """A UsageError for settings DTR has and Harbor has not."""
    for field_name, why in UNSUPPORTED_SETTINGS:
        if getattr(settings, field_name) is not None:
            word = field_name.replace("_", " ")
            raise UsageError(f"{word} does not apply on Harbor: {why}")


def _ensure_project(backend: HarborBackend, project: str, *, create: bool) -> bool:
    """Whether the project had to be created; NotFound naming it when it is missing."""
    if backend.api.project_exists(project):
        return False
    if not create:
        raise NotFound(
            f"project {project} does not exist on Harbor",
            hint="Create it in Harbor, or pass --create-project",
        )
    try:
        backend.api.create_project(project)
    except Conflict:
        return False  # created by someone else meanwhile
    return True


def _describe(backend: HarborBackend, name: RepositoryName, description: str | None) -> bool:
    if description is None:
        return False
    current = backend.api.get_repository(name.namespace, name.name)
    if current.description == description:
        return False
    backend.api.update_repository_description(name.namespace, name.name, description)
    return True


def create_repository(
    backend: HarborBackend,
    name: RepositoryName,
    settings: RepositorySettings,
    *,
    exist_ok: bool,
    create_project: bool = False,
) -> CreateOutcome:
    check_supported(settings)
    settings.validate()
    changed = _ensure_project(backend, name.namespace, create=create_project)
    try:
        existing = backend.api.get_repository(name.namespace, name.name)
    except RepositoryNotFound:
        existing = None
    if existing is not None and not exist_ok:
        raise RepositoryExists(
            f"repository {name} already exists on Harbor",
            hint="Pass --exist-ok to apply the settings given to it",
        )
    if existing is None and settings.short_description is not None:
        raise UsageError(
            f"repository {name} is not on Harbor yet, so it has no description to set",
            hint="Harbor creates a repository at its first push: set the description after it",
        )
    notes = [f"project {name.namespace} created"] if changed else []
    if settings.immutable is not None:
        result = set_immutability(backend, name, settings.immutable)
        changed |= result.changed
        notes += result.warnings
    changed |= _describe(backend, name, settings.short_description if existing else None)
    if existing is None:
        notes.append(_first_push_note(name, settings))
    record = backend.get_repository(name) if existing else _unpushed_record(backend, name)
    return CreateOutcome(record, created=False, changed=changed, notes=tuple(notes))


def _first_push_note(name: RepositoryName, settings: RepositorySettings) -> str:
    if settings.immutable:
        return (
            f"Harbor creates repository {name} at its first push; dtrctl's immutability rule "
            "applies to it from then on"
        )
    return (
        f"nothing to create on Harbor: project {name.namespace} exists, and repository {name} "
        "appears at its first push"
    )


def _unpushed_record(backend: HarborBackend, name: RepositoryName) -> Repository:
    """The record of a repository not pushed yet: the rules that will apply to it."""
    from dtrctl.backends.harbor.repository_record import repository_record

    rules = backend.api.list_rules(name.namespace)
    public = backend.api.get_project(name.namespace).public
    return repository_record(
        name.namespace, name.name, rules, public=public, glob=backend.glob_version()
    )


def apply_settings(backend: HarborBackend, change: SettingsChange) -> SettingsResult:
    """Immutability by rules, the description by a repository PUT; other settings refused."""
    check_supported(change.settings)
    changed = False
    if change.settings.immutable is not None:
        changed = set_immutability(backend, change.name, change.settings.immutable).changed
    if change.settings.short_description is not None:
        changed |= _describe(backend, change.name, change.settings.short_description)
    return SettingsResult(str(change.name), "updated" if changed else "unchanged")
