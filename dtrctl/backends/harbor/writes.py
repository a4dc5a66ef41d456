"""Harbor changes: immutability as rules dtrctl owns, project checks, descriptions.

Turning immutability on adds dtrctl's canonical rule (exact repository path, tag `**`) or
re-enables its disabled one, unless an enabled rule already covers every tag. Turning it off
deletes dtrctl's rule only: a rule dtrctl did not create is never edited or deleted, and when
one still makes the repository immutable the change fails (Conflict, exit 1) naming it. Every
plan is evaluated first as Harbor would evaluate the resulting rules (`plan_immutability`, pure),
and every change is verified by reading the rules again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from dtrctl.backends.harbor.doublestar import V1_3_4, GlobVersion
from dtrctl.backends.harbor.rules import (
    MAX_UI_RULES,
    Immutability,
    ImmutableRule,
    canonical_rule,
    is_canonical_for,
    repository_immutability,
)
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
AUDIT_HINT = "Fix or delete that rule in Harbor; `dtrctl repo audit` lists malformed rules"


@dataclass(frozen=True)
class RuleAction:
    kind: Literal["create", "enable", "delete"]
    rule: ImmutableRule


@dataclass(frozen=True)
class RulePlan:
    """The rule writes that give a repository the wanted immutability, or why none can."""

    actions: tuple[RuleAction, ...] = ()
    error: DtrctlError | None = None
    warnings: tuple[str, ...] = ()
    # Turning off: how Harbor's rules leave the repository once the plan is done.
    after: Immutability | None = None


def plan_immutability(
    rules: list[ImmutableRule],
    project: str,
    path: str,
    immutable: bool,
    glob: GlobVersion | None = V1_3_4,
) -> RulePlan:
    """Pure: what to write so that Harbor's evaluation gives `project/path` the wanted state;
    `glob` is the server's doublestar version (None: unknown, then both must agree)."""
    if immutable:
        return _plan_on(rules, project, path, glob)
    return _plan_off(rules, project, path, glob)


def _plan_on(
    rules: list[ImmutableRule], project: str, path: str, glob: GlobVersion | None
) -> RulePlan:
    if repository_immutability(rules, path, glob).immutable:
        return RulePlan()
    disabled_own = next((r for r in rules if r.disabled and is_canonical_for(r, path)), None)
    if disabled_own is not None:
        action = RuleAction("enable", replace(disabled_own, disabled=False))
        after = [action.rule if rule is disabled_own else rule for rule in rules]
    else:
        action = RuleAction("create", canonical_rule(path))
        after = [*rules, action.rule]
    result = repository_immutability(after, path, glob)
    if not result.immutable:
        stopped = result.stopped_at
        some = " for some tags" if result.stops_some_tags else ""
        why = (
            f"Harbor stops evaluating the rules of project {project}{some} at "
            f"{stopped.describe()} ({result.stop_reason}), before dtrctl's rule"
            if stopped is not None
            else "the project's rules would still not cover every tag"
        )
        error = Conflict(f"cannot make {project}/{path} immutable: {why}", hint=AUDIT_HINT)
        return RulePlan(error=error)
    warnings: tuple[str, ...] = ()
    if action.kind == "create" and len(rules) + 1 > MAX_UI_RULES:
        warnings = (
            f"project {project} would have {len(rules) + 1} immutability rules: Harbor's UI shows "
            f"only {MAX_UI_RULES} and cannot add more (one pattern rule such as "
            f"'{path.rsplit('/', 1)[0] + '/**' if '/' in path else '**'}' could replace several)",
        )
    return RulePlan((action,), warnings=warnings)


def _plan_off(
    rules: list[ImmutableRule], project: str, path: str, glob: GlobVersion | None
) -> RulePlan:
    own = [rule for rule in rules if not rule.disabled and is_canonical_for(rule, path)]
    remaining = [rule for rule in rules if rule not in own]
    result = repository_immutability(remaining, path, glob)
    if result.immutable:
        covering = next(item.rule for item in result.applied if item.covers == "all")
        return RulePlan(
            error=Conflict(
                f"{project}/{path} stays immutable: {covering.describe()} of project {project} "
                "covers every tag, and dtrctl never edits or deletes a rule it did not create",
                hint="Change or delete that rule in Harbor if the repository must be mutable",
            )
        )
    return RulePlan(tuple(RuleAction("delete", rule) for rule in own), after=result)


def _execute(backend: HarborBackend, project: str, plan: RulePlan) -> DtrctlError | None:
    """Send the writes; the first lost answer is returned (the re-read decides), others raise."""
    for action in plan.actions:
        try:
            if action.kind == "create":
                backend.api.create_rule(project, action.rule)  # None: Harbor had it (409)
            elif action.kind == "enable":
                # Only `disabled` differs from the stored rule: Harbor toggles it.
                backend.api.update_rule(project, action.rule)
            elif action.rule.id is not None:
                backend.api.delete_rule(project, action.rule.id)
        except LOST_ANSWER as lost:
            return lost
    return None


def _immutability_change(
    backend: HarborBackend, name: RepositoryName, immutable: bool, *, write: bool
) -> ImmutabilityResult:
    project, path = name.namespace, name.name
    with backend.project_lock(project):
        rules = backend.api.list_rules(project)
        glob = backend.glob_version()
        plan = plan_immutability(rules, project, path, immutable, glob)
        if plan.error is not None:
            raise plan.error
        if not plan.actions or not write:
            return ImmutabilityResult(
                str(name),
                immutable,
                changed=bool(plan.actions),
                warnings=plan.warnings,
                **_left(plan.after),
            )
        lost = _execute(backend, project, plan)
        after = repository_immutability(backend.api.list_rules(project), path, glob)
        now = after.immutable
    if now != immutable:
        if lost is not None:
            lost.hint = f"Harbor may not have applied the change: check {name} before retrying"
            raise lost
        raise InvalidResponse(
            f"Harbor accepted the rule change for {name} but its rules make it "
            f"{'mutable' if immutable else 'immutable'}"
        )
    return ImmutabilityResult(
        str(name), immutable, changed=True, warnings=plan.warnings, **_left(after, immutable)
    )


def _left(after: Immutability | None, immutable: bool = False) -> dict[str, Any]:
    """Turning off: the rules that still make some tags immutable, by id and in words."""
    from dtrctl.backends.harbor.repository_record import applied_summary

    if after is None or immutable:
        return {}
    return {
        "rules_left": tuple(item.rule.id for item in after.applied if item.rule.id is not None),
        "still_immutable": applied_summary(after),
    }


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
