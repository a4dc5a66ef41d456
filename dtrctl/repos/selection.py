"""Which repositories a fleet command works on: names, glob patterns, namespaces, exclusions.

A selection is parsed from the command line (and an optional name list) and then resolved
against a repository listing. Resolving needs only as much listing as the selection requires:
none for exact names, the named namespaces when every pattern has a literal namespace, the
global listing otherwise. This module does no I/O; `operations.resolve_selection` lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from dtrctl.errors import InvalidReference, UsageError
from dtrctl.globs import glob_matches
from dtrctl.records.repository import Repository
from dtrctl.reference import RepositoryName, parse_repository_name, validate_namespace

GLOB_CHARACTERS = frozenset("*?[")
# A pattern part: what names allow, plus the globs' *, ?, [...] and [!...] (`dtrctl.globs`).
PATTERN_PART_RE = re.compile(r"[a-z0-9._\-*?\[\]!]+")
EVERY_REPOSITORY = "*/*"
PATTERN_HINT = (
    "Give NAMESPACE/NAME, or a quoted pattern such as 'engineering/*', 'engineering/app-*' "
    "or '*/*' (* and ? match within the namespace or the name)"
)


@dataclass(frozen=True)
class Pattern:
    """A glob over namespace and name: `ns/*`, `ns/app-*`, `*/release-?`."""

    text: str
    namespace: str
    name: str

    @property
    def literal_namespace(self) -> str | None:
        """The namespace when it has no wildcard, so listing that namespace is enough."""
        return None if _has_glob(self.namespace) else self.namespace

    def matches(self, namespace: str, name: str) -> bool:
        return glob_matches(self.namespace, namespace) and glob_matches(self.name, name)


def _has_glob(text: str) -> bool:
    return any(character in GLOB_CHARACTERS for character in text)


def parse_pattern(text: str, *, nested: bool = False) -> Pattern:
    """A pattern `NS/NAME` where either part may hold wildcards; exact names are patterns too
    (nested Harbor paths with `nested`)."""
    if not _has_glob(text):
        name = parse_repository_name(text, nested=nested)
        return Pattern(text, name.namespace, name.name)
    parts = text.split("/")
    if len(parts) != 2 or not all(PATTERN_PART_RE.fullmatch(part) for part in parts):
        raise InvalidReference(f"invalid repository pattern {text!r}", hint=PATTERN_HINT)
    return Pattern(text, parts[0], parts[1])


@dataclass(frozen=True)
class Selection:
    names: tuple[RepositoryName, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    excludes: tuple[Pattern, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.names and not self.patterns

    def with_patterns(self, *patterns: Pattern) -> Selection:
        return replace(self, patterns=tuple(dict.fromkeys((*self.patterns, *patterns))))

    def listing_scopes(self) -> tuple[str | None, ...]:
        """What to list: () for none, namespaces, or (None,) for the global listing."""
        if not self.patterns:
            return ()
        namespaces = [pattern.literal_namespace for pattern in self.patterns]
        if None in namespaces:
            return (None,)
        return tuple(dict.fromkeys(namespaces))

    def resolve(self, listed: Iterable[Repository]) -> Resolution:
        """The selected repositories in listing order (exact names not listed last), with
        what the listing said about them."""
        known: dict[RepositoryName, Repository] = {}
        matched: dict[RepositoryName, None] = {}
        exact = set(self.names)
        hits = dict.fromkeys(self.patterns, 0)
        for repository in listed:
            key = RepositoryName(repository.namespace, repository.name)
            known[key] = repository
            for pattern in self.patterns:
                if pattern.matches(repository.namespace, repository.name):
                    hits[pattern] += 1
                    matched[key] = None
            if key in exact:
                matched[key] = None
        for name in self.names:
            matched.setdefault(name)
        used_excludes: set[Pattern] = set()
        selected = []
        for key in matched:
            excluding = [p for p in self.excludes if p.matches(key.namespace, key.name)]
            used_excludes.update(excluding)
            if not excluding:
                selected.append(key)
        return Resolution(
            names=tuple(selected),
            listed={key: known[key] for key in selected if key in known},
            unmatched_patterns=tuple(p.text for p in self.patterns if not hits[p]),
            unused_excludes=tuple(p.text for p in self.excludes if p not in used_excludes),
        )


@dataclass(frozen=True)
class Resolution:
    names: tuple[RepositoryName, ...]
    # The listing's view of the selected repositories it contained (exact names may be absent).
    listed: Mapping[RepositoryName, Repository] = field(default_factory=dict)
    unmatched_patterns: tuple[str, ...] = ()
    unused_excludes: tuple[str, ...] = ()

    def warnings(self) -> list[str]:
        return [f"pattern {text!r} matched no repository" for text in self.unmatched_patterns] + [
            f"--exclude {text!r} excluded no repository" for text in self.unused_excludes
        ]


def parse_selection(
    arguments: Sequence[str] = (),
    *,
    namespaces: Sequence[str] = (),
    file_names: Sequence[RepositoryName] = (),
    excludes: Sequence[str] = (),
    bare_is_namespace: bool = False,
    nested: bool = False,
) -> Selection:
    """Build a selection; `bare_is_namespace` reads an argument without `/` as a namespace;
    `nested`: names may be nested Harbor paths."""
    names: list[RepositoryName] = []
    patterns: list[Pattern] = []
    for text in arguments:
        if bare_is_namespace and "/" not in text:
            if not _has_glob(text):
                validate_namespace(text)
            text = f"{text}/*"
        if _has_glob(text):
            patterns.append(parse_pattern(text))
        else:
            names.append(parse_repository_name(text, nested=nested))
    for namespace in namespaces:
        validate_namespace(namespace)
        patterns.append(parse_pattern(f"{namespace}/*"))
    names.extend(file_names)
    return Selection(
        names=tuple(dict.fromkeys(names)),
        patterns=tuple(dict.fromkeys(patterns)),
        excludes=tuple(dict.fromkeys(parse_pattern(text, nested=nested) for text in excludes)),
    )


def parse_name_list(text: str, source: str, *, nested: bool = False) -> list[RepositoryName]:
    """One NAMESPACE/NAME per line; blank lines and `#` comments are ignored."""
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            names.append(parse_repository_name(entry, nested=nested))
        except InvalidReference as error:
            raise UsageError(
                f"{source}:{number}: {error.message}",
                hint="The file lists one NAMESPACE/NAME per line (no patterns); # starts a comment",
            ) from None
    return names
