"""Harbor's matching cases from ../shared/harbor-api/FACTS.md (doublestar v1.3.4, Harbor >= 2.11):
one table for the client's matcher (dtrctl.backends.harbor) and the sandbox's own."""

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
