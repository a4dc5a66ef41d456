"""The layout keeps its promises: no import cycles, small modules and functions, layers respected.

Each rule reads the source with `ast`, so the rules hold whatever the tests happen to import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dtrctl"
SANDBOX = PACKAGE / "sandbox"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 50
# Over the limit for now, and left alone here: the change to the logging module (no more
# `notes`/`log` parameters) is rewriting them. Each must leave this list once it is short.
LONG_FUNCTIONS_ALLOWED: set[str] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def parsed(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"), filename=str(MODULES[name]))


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def run_time_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import the code can execute, at module level or inside functions; not the ones
    under `if TYPE_CHECKING:`, which never run."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and is_type_checking(child.test):
            for branch in child.orelse:
                yield from run_time_imports_of(branch)
            continue
        yield from run_time_imports_of(child)


def run_time_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from run_time_imports(node)


def all_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import of the source, those under `if TYPE_CHECKING:` too: a type a layer names is
    a type it depends on."""
    for child in ast.walk(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child


def imported_modules(name: str, *, type_checking: bool = False) -> set[str]:
    """The modules `name` imports, any module (not only dtrctl's); `from dtrctl.x import y`
    counts dtrctl.x.y where y is a module of its own, else dtrctl.x. `type_checking`: those
    under `if TYPE_CHECKING:` too."""
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    imports = all_imports if type_checking else run_time_imports
    for node in imports(parsed(name)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in MODULES else base)
    return found


def import_graph() -> dict[str, set[str]]:
    return {
        name: {imported for imported in imported_modules(name) if imported in MODULES} - {name}
        for name in MODULES
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def a_cycle_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One concrete loop inside a strongly connected component, for the failure message."""
    members = set(component)
    path = [component[0]]
    while True:
        following = sorted(graph[path[-1]] & members)
        step = next((name for name in following if name in path), following[0])
        if step in path:
            return [*path[path.index(step) :], step]
        path.append(step)


def test_the_cycle_finder_reports_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert a_cycle_through(["a", "b", "c"], graph) == ["a", "b", "c", "a"]


def test_no_import_cycles_among_dtrctl_modules() -> None:
    graph = import_graph()
    loops = [" -> ".join(a_cycle_through(component, graph)) for component in cycles(graph)]
    assert not loops, "import cycles (imports inside functions count):\n" + "\n".join(loops)


def outside_the_sandbox() -> list[str]:
    return [name for name, path in MODULES.items() if SANDBOX not in path.parents]


@pytest.mark.parametrize("name", outside_the_sandbox())
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{MODULES[name].relative_to(ROOT)} has {lines} lines"


def body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """From the first statement after the docstring to the function's last line: a command's
    parameter declarations and its help text do not count."""
    body = function.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    end = function.end_lineno or body[-1].lineno
    return end - body[0].lineno + 1


def long_functions(name: str) -> dict[str, int]:
    """`path function` -> body lines, for each function of module `name` over the limit."""
    return {
        f"{MODULES[name].relative_to(ROOT)} {node.name}": body_lines(node)
        for node in ast.walk(parsed(name))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and body_lines(node) > MAX_FUNCTION_LINES
    }


def test_the_body_measure_skips_signature_and_docstring() -> None:
    source = (
        "def command(\n"
        "    a: int,\n"
        "    b: int,\n"
        ") -> None:\n"
        '    """Help."""\n'
        "    x = 1\n"
        "    y = 2\n"
    )
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert body_lines(function) == 2


def test_functions_stay_short() -> None:
    found = {place: lines for name in MODULES for place, lines in long_functions(name).items()}
    unexpected = [
        f"{place} ({lines} lines)"
        for place, lines in found.items()
        if place not in LONG_FUNCTIONS_ALLOWED
    ]
    assert not unexpected, f"function bodies over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(
        unexpected
    )
    no_longer_long = LONG_FUNCTIONS_ALLOWED - set(found)
    assert not no_longer_long, f"now short, remove from LONG_FUNCTIONS_ALLOWED: {no_longer_long}"


def importers_of(target: str) -> set[str]:
    return {
        name
        for name in MODULES
        if any(
            imported == target or imported.startswith(f"{target}.")
            for imported in imported_modules(name)
        )
    }


def test_only_the_client_package_imports_httpx() -> None:
    outside = {name for name in importers_of("httpx") if not name.startswith("dtrctl.client")}
    assert not outside, f"httpx imported outside dtrctl/client/: {sorted(outside)}"


def test_only_the_sandbox_and_its_command_import_the_sandbox() -> None:
    allowed = {"dtrctl.cli.sandbox"}
    outside = {
        name
        for name in importers_of("dtrctl.sandbox")
        if name not in allowed and not name.startswith("dtrctl.sandbox")
    }
    assert not outside, f"dtrctl.sandbox imported from: {sorted(outside)}"


def test_the_sandbox_imports_neither_client_nor_cli() -> None:
    sandbox_modules = [name for name in MODULES if name.startswith("dtrctl.sandbox")]
    wrong = {
        f"{name} imports {imported}"
        for name in sandbox_modules
        for imported in imported_modules(name)
        if imported.startswith(("dtrctl.client", "dtrctl.cli"))
    }
    assert not wrong, sorted(wrong)


def test_the_sandbox_checks_the_client_instead_of_mirroring_it() -> None:
    """The sandbox has its own wire models and Harbor matcher: sharing the client's would make
    it agree with the client's mistakes. Type-checking imports count too."""
    client_side = (
        "dtrctl.client",
        "dtrctl.backends",
        "dtrctl.records",
        "dtrctl.cli",
    )
    wrong = {
        f"{name} imports {imported}"
        for name in MODULES
        if name.startswith("dtrctl.sandbox")
        for imported in imported_modules(name, type_checking=True)
        if any(imported == side or imported.startswith(f"{side}.") for side in client_side)
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize(
    "package", sorted(name for name, path in MODULES.items() if path.name == "__init__.py")
)
def test_every_package_says_what_it_owns(package: str) -> None:
    assert ast.get_docstring(parsed(package)), f"{MODULES[package]} has no docstring"


def dtrctl_imports(name: str) -> set[str]:
    """The dtrctl modules `name` names in any import, run time or type checking."""
    found = imported_modules(name, type_checking=True)
    return {imported for imported in found if imported in MODULES} - {name}


# Top to bottom: a module may import its own layer and the layers below, never one above.
# After go-containerregistry's pkg/registry/depcheck_test.go.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("dtrctl.main", "dtrctl.__main__"),
    ("dtrctl.cli",),
    ("dtrctl.push_check", "dtrctl.repos", "dtrctl.rules"),
    # One run's set-up: the session (URL, credential, HTTP client, backend), profiles, login.
    ("dtrctl.session", "dtrctl.login", "dtrctl.profiles", "dtrctl.ca"),
    ("dtrctl.backends",),
    ("dtrctl.auth",),
    ("dtrctl.client",),
    # Local files and the settings gathered from options, environment and config.
    (
        "dtrctl.config",
        "dtrctl.settings",
        "dtrctl.files",
        "dtrctl.tomlfile",
        "dtrctl.interrupts",
    ),
    (
        "dtrctl.records",
        "dtrctl.errors",
        "dtrctl.reference",
        "dtrctl.text",
        "dtrctl.globs",
        "dtrctl",
    ),
)
# What the records may import: they are the bottom every layer shares.
RECORDS_MAY_IMPORT = ("dtrctl.records", "dtrctl.errors", "dtrctl.reference", "dtrctl.text")


def layer_of(name: str) -> int | None:
    """The index in LAYERS of the longest prefix naming `name`'s layer (None: the sandbox)."""
    best: tuple[int, int] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            # The package root holds only the version: it names itself, not every module.
            named = name == prefix or (prefix != "dtrctl" and name.startswith(f"{prefix}."))
            if named and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return best[1] if best else None


def test_every_module_outside_the_sandbox_has_a_layer() -> None:
    missing = [name for name in outside_the_sandbox() if layer_of(name) is None]
    assert not missing, f"modules in no layer of LAYERS: {missing}"


def test_layers_import_only_downward() -> None:
    upward = sorted(
        f"{name} imports {imported}"
        for name in outside_the_sandbox()
        for imported in dtrctl_imports(name)
        # The sandbox is no layer: its own tests say who may import it.
        if layer_of(imported) is not None and layer_of(imported) < layer_of(name)  # type: ignore[operator]
    )
    assert not upward, "imports of a higher layer (TYPE_CHECKING counts):\n" + "\n".join(upward)


def test_the_records_import_nothing_above_them() -> None:
    wrong = sorted(
        f"{name} imports {imported}"
        for name in MODULES
        if name.startswith("dtrctl.records")
        for imported in dtrctl_imports(name)
        if not imported.startswith(RECORDS_MAY_IMPORT)
    )
    assert not wrong, wrong


def test_the_layer_check_sees_type_checking_imports() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from dtrctl.cli import app\n"
    names = {
        node.module for node in all_imports(ast.parse(source)) if isinstance(node, ast.ImportFrom)
    }
    assert "dtrctl.cli" in names
    assert layer_of("dtrctl.cli.app") < layer_of("dtrctl.backends.dtr.api")  # type: ignore[operator]
