"""Seeding a large fleet of repositories for rehearsals: `--seed-repos 'ci/svc-{1..500}'`.

Names use shell brace expansion: `{1..500}` is a range (`{001..500}` pads with zeros, as bash
does), `{a,b,c}` a list, and several braces multiply (`{team,infra}/svc-{1..3}`). A seed file
holds one such pattern per line, optionally followed by `immutable`; `#` starts a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.state import SandboxState

# Enough for a rehearsal of the largest fleets dtrctl is tested with; more is a typo.
MAX_SEEDED_REPOSITORIES = 200_000
_BRACE_RE = re.compile(r"\{([^{}]*)\}")
_RANGE_RE = re.compile(r"(-?\d+)\.\.(-?\d+)")
_NAME_RE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*/[a-z0-9]+(?:[._-][a-z0-9]+)*")


class SeedError(ValueError):
    """A seed pattern or file that cannot be expanded into repository names."""


@dataclass(frozen=True)
class SeedEntry:
    """One repository to create: NAMESPACE/NAME and whether immutability is on."""

    name: str
    immutable: bool = False


def expand_braces(pattern: str) -> Iterator[str]:
    """Every string the pattern stands for, in order, as bash expands it."""
    match = _BRACE_RE.search(pattern)
    if match is None:
        yield pattern
        return
    head, tail = pattern[: match.start()], pattern[match.end() :]
    for middle in _alternatives(match.group(1), pattern):
        for rest in expand_braces(tail):
            yield head + middle + rest


def _alternatives(body: str, pattern: str) -> list[str]:
    numbers = _RANGE_RE.fullmatch(body)
    if numbers:
        first, last = numbers.group(1), numbers.group(2)
        start, end = int(first), int(last)
        if abs(end - start) >= MAX_SEEDED_REPOSITORIES:
            raise SeedError(f"{pattern}: the range {{{body}}} is larger than the sandbox takes")
        padded = any(
            len(bound.lstrip("-")) > 1 and bound.lstrip("-")[0] == "0" for bound in (first, last)
        )
        width = max(len(first), len(last)) if padded else 0
        step = 1 if end >= start else -1
        return [str(number).zfill(width) for number in range(start, end + step, step)]
    if "," in body:
        return body.split(",")
    raise SeedError(f"{pattern}: {{{body}}} is neither a range (1..9) nor a list (a,b)")


def expand_patterns(patterns: Iterable[str], *, immutable: bool = False) -> list[SeedEntry]:
    """The repositories the patterns stand for; a name that is not NAMESPACE/NAME is an error."""
    entries: list[SeedEntry] = []
    for pattern in patterns:
        for name in expand_braces(pattern.strip()):
            if not _NAME_RE.fullmatch(name):
                raise SeedError(f"{pattern}: {name!r} is not a repository name NAMESPACE/NAME")
            entries.append(SeedEntry(name, immutable))
            if len(entries) > MAX_SEEDED_REPOSITORIES:
                raise SeedError(f"more than {MAX_SEEDED_REPOSITORIES} repositories to seed")
    return entries


def parse_seed_file(text: str, label: str) -> list[SeedEntry]:
    """Lines of `PATTERN [immutable]`; blank lines and `#` comments are skipped."""
    entries: list[SeedEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1] != "immutable"):
            raise SeedError(f"{label}:{number}: expected PATTERN or PATTERN immutable")
        try:
            entries += expand_patterns([words[0]], immutable=len(words) == 2)
        except SeedError as error:
            raise SeedError(f"{label}:{number}: {error}") from None
    return entries


def seed_fleet(state: SandboxState, entries: Iterable[SeedEntry]) -> int:
    """Create the repositories (namespaces as organizations, or Harbor projects); returns how
    many. A name seeded twice, or one the other seed already made, is an error."""
    from dtrctl.sandbox.harbor.state import HarborState

    created = 0
    for entry in entries:
        namespace, name = entry.name.split("/", 1)
        try:
            if isinstance(state, HarborState):
                if entry.immutable:
                    raise SeedError(f"{entry.name}: on Harbor immutability is a project rule")
                if state.project(namespace) is None:
                    state.add_project(namespace)
                state.add_project_repository(namespace, name)
            else:
                state.add_repository(RepositoryRecord(namespace, name, immutable=entry.immutable))
        except ValueError as error:
            raise SeedError(str(error)) from None
        created += 1
    return created
