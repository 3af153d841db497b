"""The layers of docs/architecture.md, held against the code's own imports.

Top to bottom: composition → HTTP → domain rules → engines → models → plumbing. An import may
only go down (or stay in its own module's layer); imports inside functions belong to the
composition layer alone; product modules import in no circle.

The redesign of issue 13 is under way: what still breaks these rules is listed below, by
name, so the test fails on anything new *and* on a listed item that is gone (delete it from
the list: the lists only shrink). When they are empty the redesign's import rules hold.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service_hub", "models", "dispatch", "notifications")

COMPOSITION, HTTP, DOMAIN, ENGINE, MODEL, PLUMBING = 6, 5, 4, 3, 2, 1
LAYER_NAMES = {6: "composition", 5: "HTTP", 4: "domain", 3: "engine", 2: "model", 1: "plumbing"}

COMPOSITION_MODULES = {
    "service_hub",  # create_app
    "service_hub.api",
    "service_hub.cli",
    "service_hub.worker",
    "service_hub.wiring",
    "service_hub.communities.import_cli",
}
PLUMBING_MODULES = {
    "models.base",
    "service_hub.auth.tokens",  # JWT issue and check: plumbing beneath every role rule
}
PLUMBING_PACKAGES = ("service_hub.plumbing", "service_hub.wechat")
HTTP_SUFFIXES = (".routes", ".schemas", ".registry")
HTTP_MODULES = {"service_hub.health"}
HTTP_PACKAGES = ("service_hub.web", "service_hub.openapi")  # the document's examples

# What still climbs, as "importer -> imported" (issue 13 removes these).
KNOWN_CLIMBS: set[str] = set()
# Imports inside functions outside the composition layer, as "module -> imported".
KNOWN_LAZY: set[str] = set()
# Modules that still import each other in a circle, each circle as a sorted tuple.
KNOWN_CIRCLES: set[tuple[str, ...]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[module_name(path)] = path
    return modules


MODULES = product_modules()


def layer_of(module: str) -> int:
    if module in COMPOSITION_MODULES:
        return COMPOSITION
    if module in PLUMBING_MODULES or module.startswith(PLUMBING_PACKAGES):
        return PLUMBING
    if module.endswith(HTTP_SUFFIXES) or module in HTTP_MODULES or module.startswith(HTTP_PACKAGES):
        return HTTP
    top = module.split(".")[0]
    if top == "models":
        return MODEL
    if top in ("dispatch", "notifications"):
        return ENGINE
    return DOMAIN


def resolve(name: str) -> str | None:
    """The product module an import names (a module, or a package's name), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> list[tuple[str, bool]]:
    """(imported product module, whether the import sits inside a function)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            names = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [f"{child.module}.{alias.name}" for alias in child.names]
            for name in names:
                target = resolve(name)
                if target is not None and target != module:
                    found.append((target, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def climbs() -> set[str]:
    return {
        f"{module} -> {target}"
        for module, edges in GRAPH.items()
        for target, _ in edges
        if layer_of(target) > layer_of(module)
    }


def lazy_imports() -> set[str]:
    return {
        f"{module} -> {target}"
        for module, edges in GRAPH.items()
        if layer_of(module) != COMPOSITION
        for target, in_function in edges
        if in_function
    }


def circles() -> set[tuple[str, ...]]:
    """Strongly connected components of more than one module (Tarjan, iterative enough for
    a graph of this size)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], set()
    counter = iter(range(10**6))

    def strongconnect(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for target, _ in GRAPH[node]:
            if target not in index:
                strongconnect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(tuple(sorted(component)))

    for node in GRAPH:
        if node not in index:
            strongconnect(node)
    return found


def test_no_import_climbs_a_layer():
    assert climbs() - KNOWN_CLIMBS == set(), "an import climbs a layer"


def test_the_list_of_known_climbs_only_shrinks():
    assert KNOWN_CLIMBS - climbs() == set(), "fixed: delete these from KNOWN_CLIMBS"


def test_imports_inside_functions_only_in_the_composition_layer():
    assert lazy_imports() - KNOWN_LAZY == set()


def test_the_list_of_known_lazy_imports_only_shrinks():
    assert KNOWN_LAZY - lazy_imports() == set(), "fixed: delete these from KNOWN_LAZY"


def test_no_new_import_circle():
    assert circles() - KNOWN_CIRCLES == set()


def test_the_list_of_known_circles_only_shrinks():
    assert KNOWN_CIRCLES - circles() == set(), "fixed: delete these from KNOWN_CIRCLES"


def test_every_product_module_has_a_layer():
    assert {LAYER_NAMES[layer_of(module)] for module in MODULES} == set(LAYER_NAMES.values())
