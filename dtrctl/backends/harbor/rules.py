"""Harbor's tag immutability rules, evaluated here exactly as Harbor evaluates them.

A project holds a list of rules. Harbor reads them in id order, skips disabled ones and uses only
the first repository selector and the first tag selector of each; the first rule whose two
selectors select a tag makes it immutable (src/pkg/immutable/match/rule/match.go). A selector
Harbor cannot build (kind not `doublestar`, unknown decoration) or a pattern the glob library
rejects for the tag being matched stops the evaluation of that tag: it counts as mutable and no
later rule is read for it. Patterns are bmatcuk/doublestar globs of the version the server links
(`glob`: v1.3.4 from Harbor 2.11, v1.1.1 before; None where unknown), quirks included.

Every function takes the repository path WITHOUT the project (`team/app` for `library/team/app`),
as Harbor matches it. Pure logic: no HTTP, no terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

# The matcher's names are part of this module's API too: the backend imports all of it from here.
from dtrctl.backends.harbor.doublestar import (
    GLOB_VERSIONS,
    V1_3_4,
    GlobVersion,
    PatternError,
    check_pattern,
    doublestar_match,
)
from dtrctl.errors import InvalidReference, InvalidResponse

KIND_DOUBLESTAR = "doublestar"
REPO_MATCHES, REPO_EXCLUDES = "repoMatches", "repoExcludes"
TAG_MATCHES, TAG_EXCLUDES = "matches", "excludes"
NS_MATCHES, NS_EXCLUDES = "nsMatches", "nsExcludes"
REPOSITORY_DECORATIONS = (REPO_MATCHES, REPO_EXCLUDES)
TAG_DECORATIONS = (TAG_MATCHES, TAG_EXCLUDES)
NAMESPACE_DECORATIONS = (NS_MATCHES, NS_EXCLUDES)
ACTION_IMMUTABLE = "immutable"
TEMPLATE_IMMUTABLE = "immutable_template"
ALL_TAGS_PATTERN = "**"
MAX_UI_RULES = 15  # Harbor's UI shows 15 rules per project and refuses to add more

Level = Literal["all", "some", "none"]
Severity = Literal["error", "warning"]

# distribution's path component grammar: nothing in it is special to doublestar.
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


# --- The rules as Harbor's API carries them ----------------------------------------------------


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names.update({list: "an array", dict: "an object"})
    return names.get(type(value), type(value).__name__)


def _field(body: dict[str, Any], key: str, kind: type, default: Any, what: str) -> Any:
    value = body.get(key)
    if value is None:  # missing or null: Go's zero value, as Harbor itself reads it
        return default
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise InvalidResponse(f"Harbor sent {what} whose {key!r} is {_json_type(value)}")
    return value


@dataclass(frozen=True)
class Selector:
    """One selector of a rule: `kind` (always `doublestar`), `decoration` and glob `pattern`."""

    kind: str
    decoration: str
    pattern: str

    @classmethod
    def from_api(cls, body: Any, what: str = "a rule selector") -> Selector:
        if not isinstance(body, dict):
            raise InvalidResponse(f"Harbor sent {what} as {_json_type(body)}, not an object")
        kind, decoration, pattern = (_field(body, key, str, "", what) for key in _SELECTOR_KEYS)
        return cls(kind, decoration, pattern)

    def to_api(self) -> dict[str, str]:
        return {"kind": self.kind, "decoration": self.decoration, "pattern": self.pattern}

    def describe(self) -> str:
        kind = "" if self.kind == KIND_DOUBLESTAR else f"{self.kind or '(no kind)'} "
        return f"{kind}{self.decoration or '(no decoration)'} {self.pattern!r}"


_SELECTOR_KEYS = ("kind", "decoration", "pattern")


def _selector_list(value: Any, slot: str, what: str) -> tuple[Selector, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidResponse(
            f"Harbor sent the {slot} selectors of {what} as {_json_type(value)}, not an array"
        )
    return tuple(
        Selector.from_api(item, f"{slot} selector {number} of {what}")
        for number, item in enumerate(value, start=1)
    )


@dataclass(frozen=True)
class ImmutableRule:
    """A tag immutability rule (Swagger `ImmutableRule`); `id` is None until Harbor assigns one."""

    id: int | None
    disabled: bool
    action: str
    template: str
    priority: int
    repository_selectors: tuple[Selector, ...]
    tag_selectors: tuple[Selector, ...]

    @classmethod
    def from_api(cls, body: Any) -> ImmutableRule:
        """Parse a rule Harbor sent; a missing or null field is its zero value, as in Go."""
        if not isinstance(body, dict):
            raise InvalidResponse(f"Harbor sent an immutability rule that is {_json_type(body)}")
        rule_id = _field(body, "id", int, None, "an immutability rule")
        if rule_id is not None and rule_id < 1:
            raise InvalidResponse(f"Harbor sent an immutability rule with id {rule_id}")
        what = f"immutability rule {rule_id}" if rule_id is not None else "an immutability rule"
        scopes = _field(body, "scope_selectors", dict, {}, what)
        return cls(
            id=rule_id,
            disabled=_field(body, "disabled", bool, False, what),
            action=_field(body, "action", str, "", what),
            template=_field(body, "template", str, "", what),
            priority=_field(body, "priority", int, 0, what),
            repository_selectors=_selector_list(scopes.get("repository"), "repository", what),
            tag_selectors=_selector_list(body.get("tag_selectors"), "tag", what),
        )

    def to_api(self) -> dict[str, Any]:
        """The body Harbor expects for POST (no id) and PUT (id equal to the path's)."""
        body: dict[str, Any] = {} if self.id is None else {"id": self.id}
        body.update(
            action=self.action,
            template=self.template,
            priority=self.priority,
            disabled=self.disabled,
            scope_selectors={"repository": [s.to_api() for s in self.repository_selectors]},
            tag_selectors=[s.to_api() for s in self.tag_selectors],
        )
        return body

    def describe(self) -> str:
        """`rule 7 (repository repoMatches 'team/**', tag matches '**', disabled)`."""
        parts = [
            f"{slot} {selectors[0].describe()}" if selectors else f"no {slot} selector"
            for slot, selectors in (
                ("repository", self.repository_selectors),
                ("tag", self.tag_selectors),
            )
        ]
        parts += ["disabled"] if self.disabled else []
        return f"{rule_label(self)} ({', '.join(parts)})"


def rule_label(rule: ImmutableRule) -> str:
    return f"rule {rule.id}" if rule.id is not None else "a new rule"


def canonical_rule(repository_path: str) -> ImmutableRule:
    """dtrctl's rule for "every tag of this repository is immutable" (path without project)."""
    if not repository_path or not all(
        _PATH_COMPONENT_RE.fullmatch(part) for part in repository_path.split("/")
    ):
        raise InvalidReference(
            f"{repository_path!r} is not a repository path inside a Harbor project",
            hint="Give the path without the project: lowercase letters, digits, '.', '_', '-', '/'",
        )
    return ImmutableRule(
        id=None,
        disabled=False,
        action=ACTION_IMMUTABLE,
        template=TEMPLATE_IMMUTABLE,
        priority=0,
        repository_selectors=(Selector(KIND_DOUBLESTAR, REPO_MATCHES, repository_path),),
        tag_selectors=(Selector(KIND_DOUBLESTAR, TAG_MATCHES, ALL_TAGS_PATTERN),),
    )


def is_canonical_for(rule: ImmutableRule, repository_path: str) -> bool:
    """Whether `rule` has the shape of `canonical_rule(repository_path)`, enabled or disabled.

    Harbor's UI makes the same shape, so such a rule is treated as dtrctl's: deleting it removes
    exactly what dtrctl would have created. `priority` is ignored (Harbor never consults it).
    """
    return (
        rule.action == ACTION_IMMUTABLE
        and rule.template == TEMPLATE_IMMUTABLE
        and rule.repository_selectors == (Selector(KIND_DOUBLESTAR, REPO_MATCHES, repository_path),)
        and rule.tag_selectors == (Selector(KIND_DOUBLESTAR, TAG_MATCHES, ALL_TAGS_PATTERN),)
    )


# --- Evaluation --------------------------------------------------------------------------------


class _Broken(Exception):
    """Harbor cannot evaluate this selector: it stops at the rule, the tag counts as mutable."""


def selector_problem(selector: Selector) -> tuple[str, str] | None:
    """(code, text) when Harbor cannot even build the selector (selectors/index/index.go)."""
    if not selector.kind or not selector.decoration:
        return "unknown-kind", "selector has an empty kind or decoration"
    if selector.kind != KIND_DOUBLESTAR:
        return "unknown-kind", f"selector kind {selector.kind!r} is not {KIND_DOUBLESTAR!r}"
    if selector.decoration not in (
        *REPOSITORY_DECORATIONS,
        *TAG_DECORATIONS,
        *NAMESPACE_DECORATIONS,
    ):
        return "unknown-decoration", f"selector decoration {selector.decoration!r} is unknown"
    return None


def _checked(selector: Selector) -> Selector:
    problem = selector_problem(selector)
    if problem:
        raise _Broken(problem[1])
    return selector


def _selects(selector: Selector, repository_path: str, tag: str, glob: GlobVersion) -> bool:
    """Harbor's doublestar selector on one candidate (selectors/doublestar/selector.go)."""
    decoration = _checked(selector).decoration
    if decoration in TAG_DECORATIONS:
        value = tag
    else:  # Harbor sets no namespace on the candidate, and an empty value is never selected
        value = repository_path if decoration in REPOSITORY_DECORATIONS else ""
        if not value:
            return False
    try:
        matched = not selector.pattern or doublestar_match(selector.pattern, value, glob)
    except PatternError as error:
        raise _Broken(str(error)) from None
    return matched != (decoration in (REPO_EXCLUDES, TAG_EXCLUDES))


def in_harbor_order(rules: Iterable[ImmutableRule]) -> list[ImmutableRule]:
    # Harbor reads rules by id; rules without one (not created yet) would come last.
    return sorted(rules, key=lambda rule: (rule.id is None, rule.id or 0))


RuleOutcome = Literal["disabled", "no-selector", "repository", "tag", "matched", "stopped"]


def rule_outcome(
    rule: ImmutableRule, repository_path: str, tag: str, glob: GlobVersion
) -> tuple[RuleOutcome, str]:
    """What Harbor does with one rule for one tag: skips it (`disabled`, `no-selector`), finds
    the repository or the tag not selected, matches, or stops there (with the reason)."""
    if rule.disabled:
        return "disabled", ""
    if not rule.repository_selectors:
        return "no-selector", ""
    try:
        if not _selects(rule.repository_selectors[0], repository_path, tag, glob):
            return "repository", ""
        if not rule.tag_selectors or not _selects(
            rule.tag_selectors[0], repository_path, tag, glob
        ):
            return "tag", ""
    except _Broken as broken:
        return "stopped", str(broken)
    return "matched", ""


@dataclass(frozen=True)
class TagImmutability:
    """Whether Harbor refuses a push to `repository_path:tag`, and which rule decided it."""

    immutable: bool
    matched_rule: ImmutableRule | None = None
    stopped_at: ImmutableRule | None = None  # the broken rule where Harbor gave up
    stop_reason: str = ""


def tag_is_immutable(
    rules: Iterable[ImmutableRule], repository_path: str, tag: str, glob: GlobVersion = V1_3_4
) -> TagImmutability:
    """Harbor's verdict for one tag of the project's repository `repository_path` (no project)."""
    for rule in in_harbor_order(rules):
        outcome, reason = rule_outcome(rule, repository_path, tag, glob)
        if outcome == "matched":
            return TagImmutability(immutable=True, matched_rule=rule)
        if outcome == "stopped":
            return TagImmutability(immutable=False, stopped_at=rule, stop_reason=reason)
    return TagImmutability(immutable=False)


@dataclass(frozen=True)
class AppliedRule:
    rule: ImmutableRule
    covers: Literal["all", "some"]  # "some": part of the tags, or not provably all


@dataclass(frozen=True)
class Immutability:
    """How much of a repository Harbor's rules make immutable (`level`), and by which rules.

    `applied`: the enabled rules Harbor reaches for this repository that select some of its tags,
    in id order. `stopped_at`: a broken rule reached before any rule covering every tag; Harbor
    stops there for every tag, or with `stops_some_tags` only for the tags its pattern fails on
    (later rules still count for the others, but none can cover every tag). `versions_differ`:
    the server's doublestar is unknown and the two give different answers (the lesser is given).
    """

    level: Level
    applied: tuple[AppliedRule, ...] = ()
    stopped_at: ImmutableRule | None = None
    stop_reason: str = ""
    stops_some_tags: bool = False
    versions_differ: bool = False

    @property
    def immutable(self) -> bool:
        return self.level == "all"


def _matches_every_tag(pattern: str) -> bool:
    # Empty (Harbor: matches all) or only stars: `*` matches any name without '/', as every tag is.
    return not pattern.strip("*") if pattern else True


# Tags of many shapes: a malformed tag pattern that fails on all of them stops Harbor for
# (practically) every tag; one that passes any of them leaves the later rules for some tags.
_PROBE_TAGS = ("latest", "v1.2.3", "1", "a", "x", "_", "Z9", "main-0ab1", "2024.01_rc")


class _PartlyBroken(Exception):
    """A tag pattern that fails for some tags only: Harbor stops at it for those tags."""


def _tag_pattern_fails(pattern: str, glob: GlobVersion) -> bool:
    """Whether the pattern can fail for some tag; `_PartlyBroken` when it fails only for some."""
    try:
        check_pattern(pattern, glob)
    except PatternError as error:
        for probe in _PROBE_TAGS:
            try:
                doublestar_match(pattern, probe, glob)
            except PatternError:
                continue
            raise _PartlyBroken(f"{error}: Harbor stops at it for the tags it fails on") from None
        raise _Broken(f"{error} (Harbor stops at it for every tag)") from None
    return False


def _coverage(selector: Selector, repository_path: str, glob: GlobVersion) -> Level:
    """Which tags of the repository `selector` selects, from its decoration and pattern."""
    decoration = _checked(selector).decoration
    if decoration not in TAG_DECORATIONS:
        return "all" if _selects(selector, repository_path, "", glob) else "none"
    _tag_pattern_fails(selector.pattern, glob)
    every = _matches_every_tag(selector.pattern)
    if decoration == TAG_MATCHES:
        return "all" if every else "some"
    return "none" if every else "some"


def repository_immutability(
    rules: Iterable[ImmutableRule], repository_path: str, glob: GlobVersion | None = V1_3_4
) -> Immutability:
    """`all`: an enabled rule reached selects the repository (`repository_path`, no project) and
    has the tag selector `matches` with an empty or stars-only pattern (`**`, `*`), which every
    tag matches. `some`: a rule selects part of the tags (any other tag pattern, `excludes`), or
    a tag selector misplaced in the repository slot. `none`: no rule selects any tag. `glob`
    None: the server's doublestar is unknown; the lesser of the two answers.
    """
    if glob is not None:
        return _repository_immutability(list(rules), repository_path, glob)
    results = [_repository_immutability(list(rules), repository_path, v) for v in GLOB_VERSIONS]
    if results[0] == results[1]:
        return results[0]
    order: tuple[Level, ...] = ("none", "some", "all")
    lesser = min(results, key=lambda result: order.index(result.level))
    return replace(lesser, versions_differ=True)


def _repository_immutability(
    rules: list[ImmutableRule], repository_path: str, glob: GlobVersion
) -> Immutability:
    applied: list[AppliedRule] = []
    partly: tuple[ImmutableRule, str] | None = None
    for rule in in_harbor_order(rules):
        if rule.disabled or not rule.repository_selectors:
            continue
        try:
            scope = _coverage(rule.repository_selectors[0], repository_path, glob)
            if scope == "none" or not rule.tag_selectors:
                continue
            tags = _coverage(rule.tag_selectors[0], repository_path, glob)
        except (_PartlyBroken, _Broken) as broken:
            if any(item.covers == "all" for item in applied):
                break  # Harbor never gets past the covering rule for this repository
            if isinstance(broken, _PartlyBroken):
                partly = partly or (rule, str(broken))
                continue
            return _summary(applied, partly, stopped_at=rule, stop_reason=str(broken))
        if tags != "none":
            covers: Literal["all", "some"] = (
                "all" if scope == tags == "all" and partly is None else "some"
            )
            applied.append(AppliedRule(rule, covers))
    return _summary(applied, partly)


def _summary(
    applied: list[AppliedRule], partly: tuple[ImmutableRule, str] | None, **stop: Any
) -> Immutability:
    level: Level = "none"
    if any(item.covers == "all" for item in applied):
        level = "all"
    elif applied:
        level = "some"
    if partly is not None and not stop:
        stop = {"stopped_at": partly[0], "stop_reason": partly[1], "stops_some_tags": True}
    return Immutability(level, tuple(applied), **stop)
