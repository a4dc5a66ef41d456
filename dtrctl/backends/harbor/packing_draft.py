"""Where the packing planner puts each new name: into the first of dtrctl's enabled packed rules
(in the plan's order) it may extend within the bound, else into a new packed rule. The first rule
with room is found in logarithmic time, so placing n names costs n log n, not n times the rules.

A rule never gets a name it would not select: doublestar v1.3.4 reads `{a,a/b}` as `a/b` only
(it pools the leftovers of the alternatives, so `a` ending there is lost when `a/b` goes on), so
a one-component name and a name below it (`a`, `a/b/c`) never share a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dtrctl.backends.harbor.rules import ImmutableRule

Packed = list[tuple[ImmutableRule | None, list[str]]]  # (the rule, None: to create; its names)


def selects_each(names: Iterable[str]) -> bool:
    """Whether the group `{names}` selects every one of its names on doublestar v1.3.4 (and
    v1.1.1, which reads no group holding a `/`): no one-component name with another below it."""
    unique = set(names)
    return not any("/" in name and name.split("/", 1)[0] in unique for name in unique)


class _FirstFit:
    """Slots with a room each: the first slot whose room is at least a size (a max-tree)."""

    def __init__(self, capacity: int) -> None:
        self.size = 1
        while self.size < capacity:
            self.size *= 2
        self.tree = [-1] * (2 * self.size)

    def set(self, slot: int, room: int) -> None:
        index = slot + self.size
        self.tree[index] = room
        while index > 1:
            index //= 2
            self.tree[index] = max(self.tree[2 * index], self.tree[2 * index + 1])

    def first(self, need: int) -> int | None:
        if self.tree[1] < need:
            return None
        index = 1
        while index < self.size:
            index = 2 * index if self.tree[2 * index] >= need else 2 * index + 1
        return index - self.size


class Draft:
    """dtrctl's enabled packed rules and the names each holds once the plan is done.

    A rule may be extended when every name it holds is packable (`eligible`: a name that means
    something else to this server's doublestar is never extended), it selects each of them
    (`selects_each`) and its pattern `{...}` stays within `bound` characters with the new name;
    a name it already holds needs no room.
    """

    def __init__(
        self,
        project: str,
        bound: int,
        packed: Packed,
        eligible: Callable[[list[str]], bool],
        placing: int,
    ) -> None:
        self.project, self.bound, self.packed = project, bound, packed
        self._eligible_names = eligible
        self._fit = _FirstFit(len(packed) + placing)
        self._eligible: list[bool] = []
        self._names: list[set[str]] = []
        self._length: list[int] = []  # of the rule's pattern, `{` and `}` included
        self._holding: dict[str, list[int]] = {}
        self._below: dict[str, set[int]] = {}  # `a`: the rules holding a name `a/...`
        for slot, (_rule, names) in enumerate(packed):
            self._track(slot, names)

    def _track(self, slot: int, names: list[str]) -> None:
        unique = set(names)
        self._eligible.append(self._eligible_names(names) and selects_each(unique))
        self._names.append(unique)
        self._length.append(2 + sum(map(len, unique)) + max(len(unique) - 1, 0))
        for name in unique:
            self._hold(name, slot)
        self._update(slot)

    def _hold(self, name: str, slot: int) -> None:
        self._holding.setdefault(name, []).append(slot)
        if "/" in name:
            self._below.setdefault(name.split("/", 1)[0], set()).add(slot)

    def _clashing(self, name: str) -> set[int]:
        """The rules `name` must stay out of: it or one of theirs would no longer be selected."""
        if "/" in name:
            return set(self._holding.get(name.split("/", 1)[0], ()))
        return self._below.get(name, set())

    def _update(self, slot: int) -> None:
        room = self.bound - self._length[slot] - (1 if self._names[slot] else 0)
        self._fit.set(slot, room if self._eligible[slot] else -1)

    def slot_for(self, name: str) -> int | None:
        """The first rule `name` may go into; None: none has room."""
        clashing = self._clashing(name)
        for other in clashing:  # hidden from the search, then shown again
            self._fit.set(other, -1)
        slot = self._fit.first(len(name))
        for other in clashing:
            self._update(other)
        held = [
            other
            for other in self._holding.get(name, ())
            if self._eligible[other] and self._length[other] <= self.bound and other not in clashing
        ]
        return min([*held, *([] if slot is None else [slot])], default=None)

    def place(self, name: str) -> None:
        slot = self.slot_for(name)
        if slot is None:
            self.packed.append((None, [name]))
            self._track(len(self.packed) - 1, [name])
            return
        self.packed[slot][1].append(name)
        if name not in self._names[slot]:
            self._names[slot].add(name)
            self._length[slot] += len(name) + (1 if len(self._names[slot]) > 1 else 0)
            self._hold(name, slot)
            self._update(slot)
