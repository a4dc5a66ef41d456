"""The packing planner's plans pinned: the same rules, in the same order, with the same names per
rule, for hand-picked inputs (each line readable) and for 400 seeded random ones (one digest).
A faster planner must give exactly these plans; a plan changed on purpose is re-pinned here."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from typing import Any

import pytest

from dtrctl.backends.harbor.doublestar import GlobVersion
from dtrctl.backends.harbor.packing import ProjectPlan, packed_rule, plan_project
from dtrctl.backends.harbor.rules import ImmutableRule, canonical_rule
from tests.unit.backends.harbor_rule_builders import foreign, own, packed


def lines(plan: ProjectPlan) -> list[str]:
    out = [
        f"{a.kind} {a.rule.id or '-'} {a.rule.repository_selectors[0].pattern}"
        for a in plan.actions
    ]
    out += [
        f"{item.key}: {item.action} [{','.join(item.repositories)}] "
        f"+[{','.join(item.added)}] -[{','.join(item.removed)}]"
        for item in plan.layout
    ]
    out += [f"error {path}" for path in sorted(plan.errors)]
    out += ["changing " + ",".join(sorted(plan.changing))]
    out += ["expected " + ",".join(f"{p}={int(v)}" for p, v in sorted(plan.expected.items()))]
    return out


APPS = [f"app-{n:02}" for n in range(12)]
# name: (rules, on, off, glob, bound)
CASES: dict[str, tuple[list[ImmutableRule], list[str], list[str], Any, int]] = {
    "empty, small bound": ([], APPS, [], "1.3.4", 30),
    "nested names, unknown version": ([], ["a", "b", "t/x", "t/y", "c"], [], None, 2000),
    "nested names, v1.1.1": ([], ["a", "t/x", "b"], [], "1.1.1", 2000),
    "one name alone": ([], ["solo"], [], "1.3.4", 2000),
    "room in an existing rule, canonicals merged": (
        [packed(1, "a", "c"), own(2, "b"), own(3, "t/z"), foreign(4, "team/**")],
        ["d", "e", "t/q"],
        [],
        None,
        20,
    ),
    "off, emptied rule refilled": (
        [packed(1, "a"), packed(2, "b", "c"), own(5, "z")],
        ["d", "e"],
        ["a", "b"],
        "1.3.4",
        12,
    ),
    "disabled canonical enabled, broken rule": (
        [own(1, "a", disabled=True), foreign(2, "[", "**"), own(3, "b")],
        ["a", "b", "c", "d"],
        [],
        "1.3.4",
        2000,
    ),
    "off under a foreign rule": (
        [foreign(1, "x*"), packed(2, "xa", "xb", "y")],
        ["z"],
        ["xa", "y"],
        None,
        2000,
    ),
    "full rules and a duplicate": (
        [packed(1, "aaaa", "bbbb"), packed(2, "cc"), own(3, "dd")],
        ["aaaa", "e", "ffffffff", "g"],
        [],
        "1.3.4",
        14,
    ),
    "a disabled identical packed rule": (
        [packed(1, "a", "b", "c", disabled=True), own(2, "c")],
        ["a", "b"],
        [],
        "1.3.4",
        2000,
    ),
    "a disabled packed rule that differs only in priority": (
        [replace(packed(1, "a", "b", disabled=True), priority=3)],
        ["a", "b"],
        [],
        "1.3.4",
        2000,
    ),
    "a packed rule not packable for v1.1.1": (
        [packed(1, "a", "t/b"), packed(2, "c")],
        ["d", "e"],
        ["c"],
        "1.1.1",
        2000,
    ),
}

PINNED = {
    # Harbor answers 409 to a rule identical to a disabled one: that one is enabled (a toggle).
    "a disabled identical packed rule": [
        "enable 1 {a,b,c}",
        "delete 2 c",
        "rule 1: enable [a,b,c] +[a,b,c] -[]",
        "rule 2: delete [] +[] -[c]",
        "changing a,b",
        "expected a=1,b=1,c=1",
    ],
    "a disabled packed rule that differs only in priority": [
        "create - {a,b}",
        "new rule 1: create [a,b] +[a,b] -[]",
        "changing a,b",
        "expected a=1,b=1",
    ],
    "empty, small bound": [
        "create - {app-00,app-01,app-02,app-03}",
        "create - {app-04,app-05,app-06,app-07}",
        "create - {app-08,app-09,app-10,app-11}",
        "new rule 1: create [app-00,app-01,app-02,app-03] +[app-00,app-01,app-02,app-03] -[]",
        "new rule 2: create [app-04,app-05,app-06,app-07] +[app-04,app-05,app-06,app-07] -[]",
        "new rule 3: create [app-08,app-09,app-10,app-11] +[app-08,app-09,app-10,app-11] -[]",
        "changing app-00,app-01,app-02,app-03,app-04,app-05,"
        "app-06,app-07,app-08,app-09,app-10,app-11",
        "expected app-00=1,app-01=1,app-02=1,app-03=1,app-04=1,app-05=1,"
        "app-06=1,app-07=1,app-08=1,app-09=1,app-10=1,app-11=1",
    ],
    "nested names, unknown version": [
        "create - t/x",
        "create - t/y",
        "create - {a,b,c}",
        "new rule 1: create [a,b,c] +[a,b,c] -[]",
        "new rule for t/x: create [t/x] +[t/x] -[]",
        "new rule for t/y: create [t/y] +[t/y] -[]",
        "changing a,b,c,t/x,t/y",
        "expected a=1,b=1,c=1,t/x=1,t/y=1",
    ],
    "nested names, v1.1.1": [
        "create - t/x",
        "create - {a,b}",
        "new rule 1: create [a,b] +[a,b] -[]",
        "new rule for t/x: create [t/x] +[t/x] -[]",
        "changing a,b,t/x",
        "expected a=1,b=1,t/x=1",
    ],
    "one name alone": [
        "create - solo",
        "new rule for solo: create [solo] +[solo] -[]",
        "changing solo",
        "expected solo=1",
    ],
    "room in an existing rule, canonicals merged": [
        "create - t/q",
        "update 1 {a,b,c,d,e}",
        "delete 2 b",
        "rule 1: update [a,b,c,d,e] +[b,d,e] -[]",
        "new rule for t/q: create [t/q] +[t/q] -[]",
        "rule 2: delete [] +[] -[b]",
        "changing d,e,t/q",
        "expected a=1,b=1,c=1,d=1,e=1,t/q=1",
    ],
    "off, emptied rule refilled": [
        "update 1 {d,e,z}",
        "update 2 {c}",
        "delete 5 z",
        "rule 1: update [d,e,z] +[d,e,z] -[a]",
        "rule 2: update [c] +[] -[b]",
        "rule 5: delete [] +[] -[z]",
        "changing a,b,d,e",
        "expected a=0,b=0,c=1,d=1,e=1,z=1",
    ],
    "disabled canonical enabled, broken rule": [
        "enable 1 a",
        "rule 1: enable [a] +[a] -[]",
        "error b",
        "error c",
        "error d",
        "changing a",
        "expected a=1",
    ],
    "off under a foreign rule": [
        "update 2 {xa,xb,z}",
        "rule 2: update [xa,xb,z] +[z] -[y]",
        "error xa",
        "changing y,z",
        "expected xb=1,y=0,z=1",
    ],
    "full rules and a duplicate": [
        "create - {dd,g}",
        "update 1 {aaaa,bbbb,e}",
        "update 2 {cc,ffffffff}",
        "delete 3 dd",
        "rule 1: update [aaaa,bbbb,e] +[e] -[]",
        "rule 2: update [cc,ffffffff] +[ffffffff] -[]",
        "new rule 1: create [dd,g] +[dd,g] -[]",
        "rule 3: delete [] +[] -[dd]",
        "changing e,ffffffff,g",
        "expected aaaa=1,bbbb=1,cc=1,dd=1,e=1,ffffffff=1,g=1",
    ],
    "a packed rule not packable for v1.1.1": [
        "delete 2 {c}",
        "rule 2: delete [] +[] -[c]",
        "error d",
        "error e",
        "changing ",
        "expected c=0",
    ],
}


@pytest.mark.parametrize("name", CASES)
def test_the_plan_is_the_pinned_one(name: str) -> None:
    rules, on, off, glob, bound = CASES[name]
    assert lines(plan_project(rules, "p", on, off, glob, bound)) == PINNED[name]


NAMES = ["a", "b", "c", "app", "app-1", "app-22", "t/x", "t/y", "t/x/z", "team", "team/app"]
NAMES += ["zz-9", "web", "w.b", "svc_1"]
FOREIGN = ["team/**", "a*", "[", "{a,b", "**", "t/*", "{t/x,c}"]
GLOBS: list[GlobVersion | None] = ["1.1.1", "1.3.4", None]


def random_rule(rng: random.Random, rule_id: int) -> ImmutableRule:
    kind = rng.randrange(4)
    disabled = rng.random() < 0.2
    if kind == 0:
        rule = canonical_rule(rng.choice(NAMES))
    elif kind == 1:
        rule = packed_rule(rng.sample(NAMES, rng.randrange(1, 5)))
    else:
        tags = rng.choice(["**", "**", "v*"])
        rule = foreign(rule_id, rng.choice(FOREIGN), tags)
    return replace(rule, id=rule_id, disabled=disabled)


def plan_text(plan: ProjectPlan) -> str:
    out = [
        f"{a.kind} {a.rule.id} {a.rule.disabled} {a.rule.repository_selectors[0].pattern}"
        for a in plan.actions
    ]
    out += [
        repr((i.key, i.rule_id, i.action, i.repositories, i.added, i.removed)) for i in plan.layout
    ]
    out += [f"error {path} {type(error).__name__}" for path, error in sorted(plan.errors.items())]
    out += [repr(sorted(plan.changing)), repr(sorted(plan.expected.items())), repr(plan.warnings)]
    return "\n".join(out)


def test_the_plans_of_random_inputs_are_the_pinned_ones() -> None:
    rng = random.Random(2026)
    digest = hashlib.sha256()
    for _ in range(400):
        rules = [random_rule(rng, rule_id) for rule_id in range(1, rng.randrange(0, 7) + 1)]
        on = rng.sample(NAMES, rng.randrange(0, 8))
        off = rng.sample(NAMES, rng.randrange(0, 4))
        glob, bound = rng.choice(GLOBS), rng.choice([8, 14, 30, 2000])
        plan = plan_project(rules, "p", on, off, glob, bound)
        digest.update(plan_text(plan).encode() + b"\0")
    assert digest.hexdigest() == "83b5c20ebe1d4b92d0f9bfd9aa9167255f6fd60ea2788a0007dcda9d793d7278"
