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
