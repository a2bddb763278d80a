"""The import graph among bot modules has no loop, and the core imports no feature.

Every ``import`` is counted: at the top of a module and inside functions (a function-local
import that only dodges a loop is still a loop). Imports under ``if TYPE_CHECKING:`` are
left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"

# Modules that hold one feature's rules, store, chat handlers or CLI. The core (model,
# engine, loader, content kit, ...) must not import them: features build on the core.
FEATURES = (
    "bot.features.clinics",
    "bot.features.heartbeat",
    "bot.features.privacy",
    "bot.features.reminders",
    "bot.progress",
)
# The modules that make up the core of the conversation: none of them may import a feature.
CORE = (
    "bot.actions",
    "bot.authoring",
    "bot.callbacks",
    "bot.content",
    "bot.engine",
    "bot.errors",
    "bot.graph",
    "bot.loader",
    "bot.model",
    "bot.safety",
    "bot.schema",
    "bot.telegram_html",
    "bot.texts",
    "bot.timezones",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, outside ``if TYPE_CHECKING:`` blocks."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _type_checking(node):
            todo += node.orelse
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        todo += ast.iter_child_nodes(node)


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The bot modules that module ``name`` imports (a name from a package counts as the
    submodule when there is one of that name, else as the package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:
            parent = package.split(".")
            parent = parent[: len(parent) - node.level + 1]
            base = ".".join([*parent, base] if base else parent)
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One loop in the graph, as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def is_feature(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in FEATURES)


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += graph.get(node, ())
    return seen


def tangles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, round some loop (for the message)."""
    reach = {node: reachable(graph, node) for node in graph}
    groups = {
        tuple(sorted({node} | {other for other in reach[node] if node in reach[other]}))
        for node in graph
        if node in reach[node]
    }
    return sorted(list(group) for group in groups)


def test_the_graph_sees_function_level_imports() -> None:
    graph = import_graph()
    assert "bot.storage" in graph["bot.cli"]  # imported only inside functions
    assert "bot.storage.sql" in graph["bot.features"] or "bot.model" in graph["bot.features"]


def test_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert tangles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_bot_modules() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    tangled = "\n".join(", ".join(group) for group in tangles(graph))
    assert cycle is None, f"import loop: {' -> '.join(cycle or [])}\nmodules in loops:\n{tangled}"


def test_core_modules_import_no_feature() -> None:
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module in CORE
        for target in graph.get(module, set())
        if is_feature(target)
    )
    assert not wrong, "the core imports a feature module:\n" + "\n".join(wrong)


def test_no_bot_module_imports_a_private_name_of_another() -> None:
    """What modules share is public: a leading underscore means "this module only"."""
    modules = all_modules()
    private = sorted(
        f"{name} imports {node.module}.{alias.name}"
        for name, path in modules.items()
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    )
    assert not private, "\n".join(private)
