"""The house's shape, checked from the source: a one-way flow, no circles, Click only in cli/.

Every import counts, also those inside functions (the lazy ones that keep start-up fast).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cnnrnn_cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The modules `name` imports: ours by full name, others by their top-level name."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:  # `from cnnrnn_cli import api` imports a module
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return {m if m in MODULES or not m.startswith("cnnrnn_cli") else _owner(m) for m in found} - {
        name
    }


def _owner(dotted: str) -> str:
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted


GRAPH = {name: {m for m in imports_of(name) if m in MODULES} for name in MODULES}


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "package"


def test_no_module_imports_itself_through_others():
    """Tarjan's strongly connected components: every one must be a single module."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []


def test_click_only_in_the_command_line_layer():
    outside = {name for name in MODULES if layer(name) != "cli" and "click" in imports_of(name)}
    assert outside == set()


@pytest.mark.parametrize(
    "lower, forbidden",
    [
        ("core", {"cli", "explain", "io", "api", "report"}),
        ("explain", {"cli", "api"}),
        ("io", {"cli", "explain", "api"}),
    ],
)
def test_the_flow_goes_one_way(lower, forbidden):
    wrong = {
        (name, m)
        for name in MODULES
        if layer(name) == lower
        for m in GRAPH[name]
        if layer(m) in forbidden
    }
    assert wrong == set()


def test_the_command_line_reaches_the_core_only_through_the_library():
    doors = {
        (name, m)
        for name in MODULES
        if layer(name) == "cli"
        for m in GRAPH[name]
        if layer(m) == "core"
    }
    assert doors == set()


def test_the_graph_is_read():
    # The walk must see the lazy imports, or the tests above could not fail.
    assert "cnnrnn_cli.core.conv" in GRAPH["cnnrnn_cli.api"]
    assert "cnnrnn_cli.budget" in GRAPH["cnnrnn_cli.core.resblock"]
    assert "cnnrnn_cli.cli.options" in GRAPH["cnnrnn_cli.cli.command"]
