"""dtrctl's own Harbor rules packed: one rule `repoMatches '{a,b,c}'`, tags `**`, for many
repositories of a project, so a namespace of 40 immutable repositories is not 40 rules.

A **packed rule** is dtrctl's when it has exactly this shape (enabled or not; `priority` ignored,
as Harbor never reads it): action `immutable`, template `immutable_template`, one repository
selector `doublestar`/`repoMatches` whose pattern is `{` + repository paths (without the
project, each valid, strictly sorted, so no duplicates) joined by `,` + `}`, and one tag
selector `doublestar`/`matches` `**`; no excludes. A **canonical rule** (one literal path, see
`rules.canonical_rule`) is dtrctl's too. No other rule is ever changed.

A name goes into a packed rule only where the server's doublestar reads `{name}` as exactly that
name: with v1.3.4 any path; with v1.1.1 no path holding `/` (a syntax error there); with an
unknown version only what both versions read alike (`version_dependent`). Other names get a
canonical rule. Nor does a group hold a one-component name and one below it (`a`, `a/b`):
v1.3.4 reads `{a,a/b}` as `a/b` only (`packing_draft.selects_each`). A packed pattern holds at
most `MAX_PACKED_PATTERN` characters: Harbor keeps the re-serialized rule in a `text` column
under a unique index (`UNIQUE(project_id, tag_filter)`), and PostgreSQL refuses btree index rows
above 2704 bytes; 2000 characters leave room for the rest of the rule's JSON. Past it, names go
into further packed rules.

Pure: `plan_project` plans the writes for a project; nothing here talks to Harbor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from dtrctl.backends.harbor.doublestar import (
    GLOB_VERSIONS,
    GlobVersion,
    PatternError,
    doublestar_match,
    version_dependent,
)
from dtrctl.backends.harbor.narrowing import brace_names
from dtrctl.backends.harbor.packing_draft import Draft
from dtrctl.backends.harbor.rule_index import RuleIndex
from dtrctl.backends.harbor.rules import (
    ACTION_IMMUTABLE,
    ALL_TAGS_PATTERN,
    KIND_DOUBLESTAR,
    MAX_UI_RULES,
    REPO_MATCHES,
    TAG_MATCHES,
    TEMPLATE_IMMUTABLE,
    ImmutableRule,
    Selector,
    canonical_rule,
    is_canonical_for,
    is_repository_path,
)
from dtrctl.errors import Conflict, DtrctlError, InvalidResponse

MAX_PACKED_PATTERN = 2000
AUDIT_HINT = "Fix or delete that rule in Harbor; `dtrctl repo audit` lists malformed rules"


def packed_pattern(names: Iterable[str]) -> str:
    return "{" + ",".join(sorted(set(names))) + "}"


def packed_rule(names: Iterable[str], rule_id: int | None = None) -> ImmutableRule:
    """dtrctl's packed rule for `names` (paths without the project), enabled."""
    pattern = packed_pattern(names)
    return ImmutableRule(
        id=rule_id,
        disabled=False,
        action=ACTION_IMMUTABLE,
        template=TEMPLATE_IMMUTABLE,
        priority=0,
        repository_selectors=(Selector(KIND_DOUBLESTAR, REPO_MATCHES, pattern),),
        tag_selectors=(Selector(KIND_DOUBLESTAR, TAG_MATCHES, ALL_TAGS_PATTERN),),
    )


@lru_cache(maxsize=1024)  # a plan asks again for each path its rules name
def packed_names(rule: ImmutableRule) -> tuple[str, ...] | None:
    """The repository paths of a packed dtrctl rule, sorted; None for any other rule."""
    if (
        rule.action != ACTION_IMMUTABLE
        or rule.template != TEMPLATE_IMMUTABLE
        or len(rule.repository_selectors) != 1
        or rule.tag_selectors != (Selector(KIND_DOUBLESTAR, TAG_MATCHES, ALL_TAGS_PATTERN),)
    ):
        return None
    names = brace_names(rule)
    if names is None or list(names) != sorted(set(names)):
        return None
    return names


def canonical_path(rule: ImmutableRule) -> str | None:
    """The path of a canonical rule (`rules.canonical_rule`'s shape); None for any other rule."""
    if len(rule.repository_selectors) != 1:
        return None
    path = rule.repository_selectors[0].pattern
    return path if is_repository_path(path) and is_canonical_for(rule, path) else None


def packable(path: str, glob: GlobVersion | None) -> bool:
    """Whether `{path}` means exactly `path` to the server's doublestar (None: to both)."""
    if not is_repository_path(path):
        return False
    pattern = packed_pattern([path])
    if glob is None and version_dependent(pattern):
        return False
    try:
        return all(
            doublestar_match(pattern, path, version)
            for version in (GLOB_VERSIONS if glob is None else (glob,))
        )
    except PatternError:
        return False


@dataclass(frozen=True)
class RuleAction:
    """One write: `create` (POST), `enable` (PUT toggling `disabled`), `update` (PUT of a
    packed rule's new content, same id) or `delete`."""

    kind: Literal["create", "enable", "update", "delete"]
    rule: ImmutableRule


@dataclass(frozen=True)
class RuleLayout:
    """How one of dtrctl's rules changes: the plan's packing, shown to the user.

    `key`: `rule N` for an existing rule, `new rule K` (K = 1, 2, ... in the plan) otherwise.
    """

    project: str
    key: str
    rule_id: int | None
    action: Literal["create", "enable", "update", "delete"]
    repositories: tuple[str, ...]  # what the rule selects afterwards (none when deleted)
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # An `enable` of a disabled rule identical to the packed rule to create (Harbor: 409).
    disabled_twin: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "key": self.key,
            "rule_id": self.rule_id,
            "action": self.action,
            "repositories": list(self.repositories),
            "added": list(self.added),
            "removed": list(self.removed),
            "disabled_twin": self.disabled_twin,
        }


@dataclass(frozen=True)
class ProjectPlan:
    """The writes that give every path its wanted state; per path, an error when none can."""

    actions: tuple[RuleAction, ...] = ()
    layout: tuple[RuleLayout, ...] = ()
    errors: dict[str, DtrctlError] = field(default_factory=dict)
    changing: frozenset[str] = frozenset()  # the paths whose immutability the writes change
    warnings: tuple[str, ...] = ()
    # Every path of dtrctl's rules and every path asked about, as the writes must leave it.
    expected: dict[str, bool] = field(default_factory=dict)


def plan_project(
    rules: Sequence[ImmutableRule],
    project: str,
    on: Iterable[str] = (),
    off: Iterable[str] = (),
    glob: GlobVersion | None = None,
    bound: int = MAX_PACKED_PATTERN,
) -> ProjectPlan:
    """Pure: the writes after which Harbor's evaluation makes every `on` path of `project`
    immutable and every `off` path not, dtrctl's rules packed; a path no write can fix gets an
    error and is left as it is. New names go into dtrctl's enabled packed rules with room (or
    new ones; a lone name gets a canonical rule); when names are added, enabled canonical rules
    of packable names are merged in too. Deletions come last, so no path is ever uncovered."""
    rules, on, off = list(rules), set(on), sorted(set(off))
    index = RuleIndex(rules, glob)
    errors: dict[str, DtrctlError] = {}
    removing = {path for path in off if _plan_off_error(index, project, path, errors)}
    adding, enabling = _additions(index, project, on - set(off), errors)
    singles = {p: r for r in rules if not r.disabled and (p := canonical_path(r)) is not None}
    to_pack = sorted(path for path in adding if packable(path, glob))
    merging = _mergeable(index, singles, removing) if to_pack else []
    packed: list[tuple[ImmutableRule | None, list[str]]] = [
        (r, [name for name in n if name not in removing])
        for r in rules
        if not r.disabled and (n := packed_names(r))
    ]
    fits = len(to_pack) + len(merging)
    draft = Draft(project, bound, packed, lambda ns: all(packable(n, glob) for n in ns), fits)
    has_room = bool(to_pack) and draft.slot_for(to_pack[0]) is not None
    actions: list[RuleAction] = [RuleAction("enable", rule) for rule in enabling]
    packing = set(to_pack)
    creates = [canonical_rule(p) for p in sorted(adding) if p not in packing]
    if len(to_pack) == 1 and not merging and not has_room:
        creates.append(canonical_rule(to_pack[0]))  # alone: the simplest rule reads best
    else:
        for path in [*to_pack, *merging]:
            draft.place(path)
    actions += [RuleAction("create", rule) for rule in creates]
    layout, packed_actions = _packed_writes(draft, rules)
    actions += packed_actions
    deleted = [singles[p] for p in sorted(removing | set(merging)) if p in singles]
    actions += [RuleAction("delete", rule) for rule in deleted]
    written = {id(action) for action in packed_actions}
    layout += [_single_layout(project, a) for a in actions if id(a) not in written]
    return _checked_plan(rules, project, actions, layout, errors, on, off, glob)


def _plan_off_error(
    index: RuleIndex, project: str, path: str, errors: dict[str, DtrctlError]
) -> bool:
    """Whether `path` can be made mutable by taking it out of dtrctl's rules (else an error)."""
    remaining = _without(index.rules_for(path), path)
    result = index.evaluate(remaining, path)
    if not result.immutable:
        return True
    covering = next(item.rule for item in result.applied if item.covers == "all")
    errors[path] = Conflict(
        f"{project}/{path} stays immutable: {covering.describe()} of project {project} "
        "covers every tag, and dtrctl never edits or deletes a rule it did not create",
        hint="Change or delete that rule in Harbor if the repository must be mutable",
    )
    return False


def _without(rules: list[ImmutableRule], path: str) -> list[ImmutableRule]:
    """The rules once `path` is out of dtrctl's enabled ones."""
    remaining = []
    for rule in rules:
        names = None if rule.disabled else packed_names(rule)
        if names is not None and path in names:
            if len(names) > 1:
                remaining.append(packed_rule([n for n in names if n != path], rule.id))
        elif rule.disabled or canonical_path(rule) != path:
            remaining.append(rule)
    return remaining


def _additions(
    index: RuleIndex, project: str, paths: set[str], errors: dict[str, DtrctlError]
) -> tuple[list[str], list[ImmutableRule]]:
    """(paths needing a new place in dtrctl's rules, disabled canonical rules to re-enable)."""
    adding: list[str] = []
    enabling: list[ImmutableRule] = []
    twins: dict[str, tuple[int, ImmutableRule]] = {}  # the first disabled canonical rule
    for position, rule in enumerate(index.rules):
        path = rule.repository_selectors[0].pattern if rule.repository_selectors else ""
        if rule.disabled and is_canonical_for(rule, path):
            twins.setdefault(path, (position, rule))
    for path in sorted(paths):
        if index.immutability(path).immutable:
            continue
        position, disabled = twins.get(path, (len(index.rules), None))
        candidate = replace(disabled, disabled=False) if disabled else canonical_rule(path)
        after = index.rules_for(path, [(position, candidate)])
        result = index.evaluate(after, path)
        if not result.immutable:
            errors[path] = _blocked(project, path, result)
        elif disabled is not None:
            enabling.append(candidate)
        else:
            adding.append(path)
    return adding, enabling


def _blocked(project: str, path: str, result: Any) -> DtrctlError:
    stopped = result.stopped_at
    some = " for some tags" if result.stops_some_tags else ""
    why = (
        f"Harbor stops evaluating the rules of project {project}{some} at "
        f"{stopped.describe()} ({result.stop_reason}), before dtrctl's rule"
        if stopped is not None
        else "the project's rules would still not cover every tag"
    )
    return Conflict(f"cannot make {project}/{path} immutable: {why}", hint=AUDIT_HINT)


def _mergeable(
    index: RuleIndex, singles: dict[str, ImmutableRule], removing: set[str]
) -> list[str]:
    """Canonical rules whose path stays immutable from a rule placed last (any packed rule's
    place is at most that late): they can go into a packed rule."""
    merging = []
    for path, rule in sorted(singles.items()):
        if path in removing or not packable(path, index.glob):
            continue
        last = [(len(index.rules), packed_rule([path]))]
        after = [r for r in index.rules_for(path, last) if r is not rule]
        if index.evaluate(after, path).immutable:
            merging.append(path)
    return merging


def _packed_writes(
    draft: Draft, rules: list[ImmutableRule]
) -> tuple[list[RuleLayout], list[RuleAction]]:
    layout: list[RuleLayout] = []
    creates: list[RuleAction] = []
    updates: list[RuleAction] = []
    deletes: list[RuleAction] = []
    new = 0
    # Harbor refuses a rule identical to one it holds, disabled or not (409): that one is
    # enabled instead. Identical as Harbor compares (its re-serialized rule): every field but
    # `id` and `disabled`, `priority` included; the first such rule by id.
    twins = {replace(r, id=None, disabled=False): r for r in reversed(rules) if r.disabled}
    for rule, names in draft.packed:
        before = set(packed_names(rule) or ()) if rule is not None else set()
        added = tuple(sorted(set(names) - before))
        removed = tuple(sorted(before - set(names)))
        twin = twins.get(packed_rule(names)) if rule is None else None
        if twin is not None:
            key, action = f"rule {twin.id}", RuleAction("enable", replace(twin, disabled=False))
            creates.append(action)
        elif rule is None:
            new += 1
            key, action = f"new rule {new}", RuleAction("create", packed_rule(names))
            creates.append(action)
        elif not added and not removed:
            continue
        elif not names:
            key, action = f"rule {rule.id}", RuleAction("delete", rule)
            deletes.append(action)
        else:
            key, action = f"rule {rule.id}", RuleAction("update", packed_rule(names, rule.id))
            updates.append(action)
        shown = tuple(sorted(names))
        item = RuleLayout(draft.project, key, action.rule.id, action.kind, shown, added, removed)
        layout.append(replace(item, disabled_twin=twin is not None))
    return layout, [*creates, *updates, *deletes]


def _single_layout(project: str, action: RuleAction) -> RuleLayout:
    path = action.rule.repository_selectors[0].pattern
    rule_id = action.rule.id
    key = f"rule {rule_id}" if rule_id is not None else f"new rule for {path}"
    gone = action.kind == "delete"
    return RuleLayout(
        project,
        key,
        rule_id,
        action.kind,
        () if gone else (path,),
        () if gone else (path,),
        (path,) if gone else (),
    )


def after_rules(
    rules: Sequence[ImmutableRule], actions: Iterable[RuleAction]
) -> list[ImmutableRule]:
    """The project's rules once `actions` are done; new rules get ids after every existing one."""
    by_id = {rule.id: rule for rule in rules}
    next_id = max((rule.id or 0 for rule in rules), default=0)
    created = []
    for action in actions:
        if action.kind == "create":
            next_id += 1
            created.append(replace(action.rule, id=next_id))
        elif action.kind == "delete":
            by_id.pop(action.rule.id, None)
        else:
            by_id[action.rule.id] = action.rule
    return [*by_id.values(), *created]


def _checked_plan(
    rules: list[ImmutableRule],
    project: str,
    actions: list[RuleAction],
    layout: list[RuleLayout],
    errors: dict[str, DtrctlError],
    on: set[str],
    off: Iterable[str],
    glob: GlobVersion | None,
) -> ProjectPlan:
    """The plan, once Harbor's evaluation of the rules after it gives every path its state."""
    if not actions:  # nothing written: every path keeps the state it has
        return ProjectPlan(errors=errors)
    after = after_rules(rules, actions)
    asked = {path: True for path in on} | {path: False for path in off}
    before_index, after_index = RuleIndex(rules, glob), RuleIndex(after, glob)
    before = {
        path: before_index.immutability(path).immutable
        for path in _touched_paths(rules, actions) | set(asked)
    }
    changing = set()
    expected = {p: v for p, v in {**before, **asked}.items() if p not in errors}
    for path, immutable in sorted(expected.items()):
        now = after_index.immutability(path).immutable
        if now != immutable:  # a bug in the packing: write nothing rather than something wrong
            message = f"dtrctl's rule plan for project {project} would leave {path} "
            error = InvalidResponse(message + ("mutable" if immutable else "immutable"))
            return ProjectPlan(errors={p: error for p in asked})
        if before[path] != now:
            changing.add(path)
    warnings: tuple[str, ...] = ()
    if len(after) > max(len(rules), MAX_UI_RULES):
        warnings = (
            f"project {project} would have {len(after)} immutability rules: Harbor's UI shows "
            f"only {MAX_UI_RULES} and cannot add more",
        )
    return ProjectPlan(
        tuple(actions),
        tuple(layout),
        errors,
        frozenset(changing),
        warnings,
        expected,
    )


def _touched_paths(rules: list[ImmutableRule], actions: list[RuleAction]) -> set[str]:
    """The paths the written rules name, before or after: dtrctl's rules select exactly the paths
    they name and never stop Harbor, so no other path can change state."""
    old = {rule.id: rule for rule in rules}
    paths: set[str] = set()
    for action in actions:
        for rule in (action.rule, old.get(action.rule.id) if action.rule.id else None):
            if rule is not None:
                paths.update(packed_names(rule) or (canonical_path(rule) or "",))
    paths.discard("")
    return paths
