"""`repo unlock` of one repository named in a brace list: the rule narrowed, not disabled.

dtrctl packs repositories into one rule (`repoMatches '{api,db,web}'`, see `packing`). Disabling
such a rule for a window would make every repository of the pack mutable; replacing its content
with the same rule minus the one name (a PUT of the full body, same id, `disabled` unchanged:
FACTS.md, a PUT either toggles or replaces the content) opens only that repository, and the rule
keeps its id, so its place in Harbor's id order. A narrowing is used only when Harbor's own
evaluation (`rules`, per doublestar version) shows that afterwards the repository is no longer
selected while every other repository keeps exactly the immutability it had; else the rule is
disabled, as for any other rule. Pure: nothing here talks to Harbor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from dtrctl.backends.harbor.doublestar import GLOB_VERSIONS, GlobVersion
from dtrctl.backends.harbor.rules import (
    KIND_DOUBLESTAR,
    REPO_MATCHES,
    Immutability,
    ImmutableRule,
    is_repository_path,
    repository_immutability,
)


def brace_names(rule: ImmutableRule) -> tuple[str, ...] | None:
    """The names of a rule whose first repository selector is `repoMatches '{a,b,...}'` of
    literal repository paths (in the rule's order); None for any other rule."""
    if not rule.repository_selectors:
        return None
    selector = rule.repository_selectors[0]
    pattern = selector.pattern
    if (selector.kind, selector.decoration) != (KIND_DOUBLESTAR, REPO_MATCHES) or not (
        pattern.startswith("{") and pattern.endswith("}")
    ):
        return None
    names = tuple(pattern[1:-1].split(","))
    return names if all(is_repository_path(name) for name in names) else None


def without(rule: ImmutableRule, path: str) -> ImmutableRule | None:
    """The same rule with `path` out of its brace list; None when it is not in one or is all
    the list holds (nothing would be left to select: the rule is disabled instead)."""
    names = brace_names(rule)
    if names is None or path not in names:
        return None
    rest = [name for name in names if name != path]
    if not rest:
        return None
    first = replace(rule.repository_selectors[0], pattern="{" + ",".join(rest) + "}")
    return replace(rule, repository_selectors=(first, *rule.repository_selectors[1:]))


def same_content(one: ImmutableRule, other: ImmutableRule) -> bool:
    """Whether two rules hold the same content (what a PUT replaces: not `id`, not `disabled`)."""
    return replace(one, id=None, disabled=False) == replace(other, id=None, disabled=False)


def _state(result: Immutability) -> tuple[str, int | None, bool]:
    stopped = result.stopped_at.id if result.stopped_at is not None else None
    return result.level, stopped, result.stops_some_tags


def _selects(rule: ImmutableRule, path: str, glob: GlobVersion) -> bool:
    alone = [replace(rule, disabled=False)]
    return repository_immutability(alone, path, glob).level != "none"


def narrowing(
    rules: Sequence[ImmutableRule],
    rule: ImmutableRule,
    path: str,
    others: Iterable[str],
    glob: GlobVersion | None,
) -> ImmutableRule | None:
    """`rule` without `path`, when Harbor's evaluation shows it is safe; None: disable it.

    Safe, under the server's doublestar (both versions when unknown): the narrowed rule alone
    no longer selects `path`; every other repository (`others`, the project's, and the names
    of the list) the rule selected is still selected by it, and keeps its immutability in the
    whole project; and no other rule of the project has the same content (Harbor keeps rules
    unique per project and would refuse the write)."""
    narrowed = without(rule, path)
    if narrowed is None or any(
        other.id != rule.id and same_content(other, narrowed) for other in rules
    ):
        return None
    after = [narrowed if other.id == rule.id else other for other in rules]
    names = (set(others) | set(brace_names(rule) or ())) - {path}
    for version in GLOB_VERSIONS if glob is None else (glob,):
        if _selects(narrowed, path, version):
            return None
        for name in sorted(names):
            if _selects(rule, name, version) and not _selects(narrowed, name, version):
                return None
            before_state = _state(repository_immutability(rules, name, version))
            if before_state != _state(repository_immutability(after, name, version)):
                return None
    return narrowed
