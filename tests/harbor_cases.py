"""Harbor's matching cases from ../shared/harbor-api/FACTS.md (doublestar v1.3.4, Harbor >= 2.11):
one table for the client's matcher (dtrctl.backends.harbor) and the sandbox's own."""

from tests.doublestar_tables import V1_3_4_MATCH_TESTS

FACTS_TABLE = [
    ("**", "app", True),
    ("**", "team/app", True),
    ("*", "team/app", False),
    ("team/*", "team/sub/app", False),
    ("team/**", "team/sub/app", True),
    ("team/**", "team", False),
    ("**/app", "app", True),
    ("**/app", "a/b/app", True),
    ("a/{a,b}", "a/b", True),
    ("{a/a,a/b}", "a/b", True),
    ("{**/x,**/y}", "y", False),
    ("{**/x,**/y}", "n/y", True),
    ("release-**", "release-1.10", True),
    ("app", "App", False),
]

# What a case expects when matching errors (doublestar's ErrBadPattern, or a selector Harbor
# cannot build): Harbor then ends the evaluation and leaves the tag mutable.
ERROR = "error"

# bmatcuk/doublestar v1.3.4, doublestar_test.go `matchTests` (tag v1.3.4, commit ec92414a), every
# row: Match() never reads the disk, so the rows marked for on-disk tests hold for names too.
# The glob library of Harbor 2.9.5, 2.10.3 and 2.11 and later.
DOUBLESTAR_V1_3_4_TABLE = V1_3_4_MATCH_TESTS  # one copy: tests/doublestar_tables.py

# Cases the sandbox once got wrong, each read off doublestar v1.3.4's matchComponent: `!` is a
# plain character in a class (only `^` negates), and matching is lazy: a malformed part raises
# only when matching reaches it with a character left in the name.
DOUBLESTAR_V1_3_4_EXTRA = [
    ("[!a]", "!", True),
    ("[!a]", "b", False),
    ("x[", "x1", ERROR),
    ("x[", "v1", False),
    ("x[", "x", False),
    ("v*|[", "v1", False),
    ("{a,b", "a", ERROR),
    ("{a,b", "c", ERROR),
    ("**/[", "a/b", False),
    ("a*[", "ab", ERROR),
]


def harbor_rule(
    rule_id: int,
    repository: str,
    tags: str = "**",
    repository_decoration: str = "repoMatches",
    tag_decoration: str = "matches",
    **changes: object,
) -> dict[str, object]:
    """A rule as Harbor's API carries it."""
    return {
        "id": rule_id,
        "disabled": False,
        "action": "immutable",
        "template": "immutable_template",
        "priority": 0,
        "scope_selectors": {
            "repository": [
                {"kind": "doublestar", "decoration": repository_decoration, "pattern": repository}
            ]
        },
        "tag_selectors": [{"kind": "doublestar", "decoration": tag_decoration, "pattern": tags}],
        **changes,
    }


# goharbor/harbor src/pkg/immutable/match/rule/match_test.go (TestImmuMatch, TestImmuExclude):
# (case, the project's rules, repository without the project, the candidate's tags, immutable).
# An empty tag tuple is Harbor's untagged candidate.
_IMMU_MATCH = [
    harbor_rule(1, "redis", "release-**"),
    harbor_rule(2, "mysql", "**", action="immuablity"),
]
_IMMU_EXCLUDE = [harbor_rule(1, "**", "world**", tag_decoration="excludes")]
HARBOR_MATCH_TEST_CASES = [
    ("TestImmuMatch c1", _IMMU_MATCH, "redis", ("release-1.10",), True),
    ("TestImmuMatch c2", _IMMU_MATCH, "redis", ("1.10",), False),
    ("TestImmuMatch c3", _IMMU_MATCH, "mysql", ("9.4.8",), True),
    ("TestImmuMatch c4", _IMMU_MATCH, "hello", ("world",), False),
    ("TestImmuMatch c5 untagged", _IMMU_MATCH, "redis", (), False),
    ("TestImmuExclude c1", _IMMU_EXCLUDE, "redis", ("release-1.10",), True),
    ("TestImmuExclude c2", _IMMU_EXCLUDE, "redis", ("1.10",), True),
    ("TestImmuExclude c3", _IMMU_EXCLUDE, "mysql", ("9.4.8",), True),
    ("TestImmuExclude c4", _IMMU_EXCLUDE, "hello", ("world",), False),
    ("TestImmuExclude c5 untagged", _IMMU_EXCLUDE, "redis", (), False),
]

# Rule evaluation read off match.go and selectors/doublestar/selector.go (same columns).
HARBOR_RULE_CASES = [
    # A decoration acts on what it names wherever it sits: a tag decoration in the repository
    # slot tests the tag, a repository decoration in the tag slot tests the repository.
    (
        "tag decoration in the repository slot",
        [harbor_rule(1, "v*", repository_decoration="matches")],
        "app",
        ("v1",),
        True,
    ),
    (
        "tag decoration in the repository slot, other tag",
        [harbor_rule(1, "v*", repository_decoration="matches")],
        "app",
        ("latest",),
        False,
    ),
    (
        "excludes in the repository slot",
        [harbor_rule(1, "v*", repository_decoration="excludes")],
        "app",
        ("latest",),
        True,
    ),
    (
        "repository decoration in the tag slot",
        [harbor_rule(1, "**", "app", tag_decoration="repoMatches")],
        "app",
        ("1.0",),
        True,
    ),
    (
        "repoExcludes in the tag slot",
        [harbor_rule(1, "**", "app", tag_decoration="repoExcludes")],
        "app",
        ("1.0",),
        False,
    ),
    (
        "namespace decorations never select",
        [harbor_rule(1, "**", repository_decoration="nsExcludes")],
        "app",
        ("1.0",),
        False,
    ),
    # A pattern malformed only for some tags ends the evaluation for those tags only.
    (
        "error for this tag stops later rules",
        [harbor_rule(1, "app", "x["), harbor_rule(2, "app")],
        "app",
        ("x1",),
        False,
    ),
    (
        "no error for this tag: later rules count",
        [harbor_rule(1, "app", "x["), harbor_rule(2, "app")],
        "app",
        ("v1",),
        True,
    ),
    (
        "an earlier rule still counts",
        [harbor_rule(2, "app", "["), harbor_rule(1, "app")],
        "app",
        ("1.0",),
        True,
    ),
    (
        "an unbuilt tag selector never errors",
        [harbor_rule(1, "other", "["), harbor_rule(2, "app")],
        "app",
        ("1.0",),
        True,
    ),
    (
        "an unknown decoration stops later rules",
        [harbor_rule(1, "app", tag_decoration="matching"), harbor_rule(2, "app")],
        "app",
        ("1.0",),
        False,
    ),
    (
        "a rule without a tag selector is skipped",
        [harbor_rule(1, "app", tag_selectors=[]), harbor_rule(2, "app")],
        "app",
        ("1.0",),
        True,
    ),
    (
        "disabled rules are skipped",
        [harbor_rule(1, "app", "[", disabled=True), harbor_rule(2, "app")],
        "app",
        ("1.0",),
        True,
    ),
    (
        "priority and action are not consulted",
        [harbor_rule(1, "app", priority=9, action="none")],
        "app",
        ("1.0",),
        True,
    ),
]
# Where doublestar v1.1.1 (Harbor 2.0-2.9.4, 2.10.0-2.10.2) answers otherwise: "error" for
# ErrBadPattern, which ends Harbor's evaluation of the project's rules for that name.
FACTS_V1_1_1 = {
    ("{a/a,a/b}", "a/b"): "error",
    ("{**/x,**/y}", "y"): "error",
    ("{**/x,**/y}", "n/y"): "error",
}


def _rule(repository: str, tags: str, decoration: str = "matches") -> dict[str, object]:
    return {
        "action": "immutable",
        "template": "immutable_template",
        "scope_selectors": {
            "repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": repository}
            ]
        },
        "tag_selectors": [{"kind": "doublestar", "decoration": decoration, "pattern": tags}],
    }


# goharbor/harbor src/pkg/immutable/match/rule/match_test.go: each test's rules (in creation
# order, so in id order) and its candidates (repository without the project, tag, immutable).
# The untagged candidates are left out: push-check and explain always have a tag. Both doublestar
# versions agree on every pattern here.
HARBOR_MATCH_TESTS = {
    "TestImmuMatch": (
        [_rule("redis", "release-**"), _rule("mysql", "**")],
        [
            ("redis", "release-1.10", True),
            ("redis", "1.10", False),
            ("mysql", "9.4.8", True),
            ("hello", "world", False),
        ],
    ),
    "TestImmuExclude": (
        [_rule("**", "world**", "excludes")],
        [
            ("redis", "release-1.10", True),
            ("redis", "1.10", True),
            ("mysql", "9.4.8", True),
            ("hello", "world", False),
        ],
    ),
}
