"""`repo unlock` on Harbor: the enabled rules that select the repository, lifted for the window.

Harbor has no per-repository switch, so the window lifts every enabled rule that, on its own,
makes some tag of the repository immutable (evaluated as Harbor does,
`rules.repository_immutability`), then puts it back. A rule naming the repository in a brace
list (dtrctl's packed rules, `{api,web}`) is narrowed to the list without it (`narrowing`), so
the other repositories stay immutable; any other rule is disabled. A disabled rule's pattern may
select other repositories too (`team/**`): those are named, since they are mutable for the
window as well. `PUT .../immutabletagrules/{id}` with only `disabled` changed toggles it and
nothing else; with `disabled` as stored it replaces the content (FACTS.md). A rule deleted
during the window is created again from the journal's copy: the window restores what was there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dtrctl.backends.harbor.doublestar import GLOB_VERSIONS, V1_3_4, GlobVersion
from dtrctl.backends.harbor.narrowing import narrowing, same_content
from dtrctl.backends.harbor.rules import ImmutableRule, repository_immutability
from dtrctl.errors import Conflict, DtrctlError, InvalidResponse, UsageError
from dtrctl.records.unlock import WindowChange

if TYPE_CHECKING:
    from dtrctl.backends.harbor.backend import HarborBackend
    from dtrctl.reference import RepositoryName


def any_immutable(rules: list[ImmutableRule], path: str, glob: GlobVersion | None) -> bool:
    """Whether the rules make some tag of repository `path` immutable under the server's
    doublestar, or, when its version is unknown, under either: the window must make the
    repository mutable whichever the server links."""
    versions = (glob,) if glob is not None else GLOB_VERSIONS
    return any(repository_immutability(rules, path, v).level != "none" for v in versions)


def makes_immutable(rule: ImmutableRule, path: str, glob: GlobVersion | None = V1_3_4) -> bool:
    """Whether `rule`, enabled and alone, makes some tag of repository `path` immutable."""
    return any_immutable([replace(rule, disabled=False)], path, glob)


def plan_unlock(backend: HarborBackend, name: RepositoryName) -> tuple[WindowChange, ...]:
    """One change per enabled rule that selects the repository: narrowed when it names it in a
    brace list and Harbor's evaluation shows that is enough (`narrowing`), else disabled, with
    the other repositories it selects."""
    project, path = name.namespace, name.name
    backend.api.get_repository(project, path)  # RepositoryNotFound (exit 4) as on DTR
    rules = backend.api.list_rules(project)
    glob = backend.glob_version()
    selecting = [r for r in rules if not r.disabled and makes_immutable(r, path, glob)]
    if not selecting:
        return ()
    others = sorted(
        repository.path
        for repository in backend.api.list_repositories(project)
        if repository.path != path
    )
    narrowed = {rule.id: narrowing(rules, rule, path, others, glob) for rule in selecting}
    after = [
        (narrowed[rule.id] or replace(rule, disabled=True)) if rule in selecting else rule
        for rule in rules
    ]
    if any_immutable(after, path, glob):  # pragma: no cover - defensive
        raise Conflict(f"lifting the rules that select {name} would not make it mutable")
    return tuple(_change(name, rule, narrowed[rule.id], others, glob) for rule in selecting)


def _change(
    name: RepositoryName,
    rule: ImmutableRule,
    narrowed: ImmutableRule | None,
    others: list[str],
    glob: GlobVersion | None,
) -> WindowChange:
    project = name.namespace
    description = f"{rule.describe()} of project {project}"
    if narrowed is not None:
        pattern = rule.repository_selectors[0].pattern
        summary = f"narrowed rule {rule.id} of project {project}: {pattern} without {name.name}"
        covers: tuple[str, ...] = ()
    else:
        summary = f"disabled {description}"
        covers = tuple(f"{project}/{o}" for o in others if makes_immutable(rule, o, glob))
    return WindowChange(
        "rule",
        str(name),
        description,
        project=project,
        rule_id=rule.id,
        rule=rule.to_api(),
        also_covers=covers,
        narrowed=narrowed.to_api() if narrowed is not None else None,
        summary=summary,
    )


def _checked(change: WindowChange) -> int:
    if change.kind != "rule" or change.rule_id is None:
        raise UsageError(
            f"the unlock journal holds DTR's flag for {change.repository}, but the registry is "
            "Harbor",
            hint="Run `dtrctl repo unlock --recover` against the registry the window was opened on",
        )
    return change.rule_id


def _find(backend: HarborBackend, project: str, rule_id: int) -> ImmutableRule | None:
    return next((r for r in backend.api.list_rules(project) if r.id == rule_id), None)


def _toggle(backend: HarborBackend, change: WindowChange, disabled: bool) -> bool:
    """Set the rule's `disabled`; False when the rule is gone. A lost answer is settled by
    reading the rules again."""
    rule_id = _checked(change)
    current = _find(backend, change.project, rule_id)
    if current is None:
        return False
    if current.disabled == disabled:
        return True
    try:
        backend.api.update_rule(change.project, replace(current, disabled=disabled))
    except DtrctlError:
        now = _find(backend, change.project, rule_id)
        if now is None or now.disabled != disabled:
            raise
        return True
    now = _find(backend, change.project, rule_id)
    if now is not None and now.disabled != disabled:
        raise InvalidResponse(
            f"Harbor accepted the change of immutability rule {rule_id} of project "
            f"{change.project} but lists it {'disabled' if now.disabled else 'enabled'}"
        )
    return True


def _replace_content(
    backend: HarborBackend,
    change: WindowChange,
    source: ImmutableRule,
    target: ImmutableRule,
    *,
    restoring: bool,
) -> bool:
    """Replace the rule's content `source` by `target` (a PUT of the full body, `disabled` as
    Harbor has it, so Harbor replaces rather than toggles); False when the rule is gone. A rule
    someone else changed meanwhile is never overwritten: when restoring, it is kept if it
    selects the repository again, else a `Conflict` names what was found; a lost answer is
    settled by reading the rules again."""
    rule_id = _checked(change)
    current = _find(backend, change.project, rule_id)
    if current is None:
        return False
    if same_content(current, target):
        return True
    if not same_content(current, source):
        path = change.repository[len(change.project) + 1 :]
        if restoring and makes_immutable(current, path, backend.glob_version()):
            return True  # their edit covers the repository again: nothing of ours to restore
        raise _changed_meanwhile(change, current, replace(source, id=rule_id), restoring)
    try:
        backend.api.update_rule(
            change.project, replace(target, id=rule_id, disabled=current.disabled)
        )
    except DtrctlError:
        now = _find(backend, change.project, rule_id)
        if now is None or not same_content(now, target):
            raise
        return True
    now = _find(backend, change.project, rule_id)
    if now is not None and not same_content(now, target):
        raise InvalidResponse(
            f"Harbor accepted the new content of immutability rule {rule_id} of project "
            f"{change.project} but lists it as {now.describe()}"
        )
    return True


def _changed_meanwhile(
    change: WindowChange, current: ImmutableRule, expected: ImmutableRule, restoring: bool
) -> Conflict:
    found = (
        f"immutability rule {current.id} of project {change.project} was changed by someone "
        f"else {'during the window' if restoring else 'since dtrctl read it'}: it is now "
        f"{current.describe()}, where dtrctl expected {expected.describe()}; dtrctl leaves it "
        "as it is"
    )
    if not restoring:
        return Conflict(
            found,
            hint="The command did not run and anything lifted is put back: check the rule in "
            "Harbor, then retry",
        )
    original = ImmutableRule.from_api(change.rule).describe() if change.rule else "as before"
    return Conflict(
        f"{found}, and it no longer makes {change.repository} immutable",
        hint=f"Check the rule in Harbor: make it select {change.repository} again (before the "
        f"window it was {original}); `dtrctl repo unlock --recover` then finds it restored",
    )


def _bodies(change: WindowChange) -> tuple[ImmutableRule, ImmutableRule]:
    """A narrowed rule's (original, narrowed) content from the journal's copies."""
    if change.rule is None or change.narrowed is None:  # pragma: no cover - from_journal checks
        raise UsageError(f"the unlock journal has no copy of rule {change.rule_id}")
    return ImmutableRule.from_api(change.rule), ImmutableRule.from_api(change.narrowed)


def lift(backend: HarborBackend, change: WindowChange) -> None:
    """Disable or narrow the rule (a rule deleted meanwhile needs nothing)."""
    with backend.project_lock(change.project):
        if change.narrowed is None:
            _toggle(backend, change, True)
            return
        original, narrowed = _bodies(change)
        try:
            _replace_content(backend, change, original, narrowed, restoring=False)
        except DtrctlError as error:
            error.hint = error.hint or (
                f"dtrctl could not narrow rule {change.rule_id} of project {change.project}: the "
                "command did not run and everything lifted is put back. Check the rule in "
                "Harbor, then retry"
            )
            raise


def restore(backend: HarborBackend, change: WindowChange) -> None:
    """Enable the rule again, or put its content back; create it again from the journal's copy
    if it was deleted."""
    with backend.project_lock(change.project):
        if change.narrowed is None:
            if _toggle(backend, change, False):
                return
        else:
            original, narrowed = _bodies(change)
            if _replace_content(backend, change, narrowed, original, restoring=True):
                return
        if change.rule is None:
            raise UsageError(f"the unlock journal has no copy of rule {change.rule_id}")
        copy = replace(ImmutableRule.from_api(change.rule), id=None, disabled=False)
        backend.api.create_rule(change.project, copy)  # None: an identical rule is there (409)
