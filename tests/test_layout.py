"""The package's layout: imports point down the layers, no module imports itself in a circle,
and every dotted path the documentation (the README and the pages under ``docs/``) gives
users is public.

The import graph is read from the source (every ``import`` statement, those inside
functions included, but not those under ``if TYPE_CHECKING:``, which never run), so
that a cycle hidden by an import inside a function fails here as plainly as one at
the top of two modules.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import admin_bulk_upsert

PACKAGE = "admin_bulk_upsert"
ROOT = Path(admin_bulk_upsert.__file__).parent
#: What users read: the README and the documentation site's pages.
DOCS = [ROOT.parent / "README.md", *sorted((ROOT.parent / "docs").rglob("*.md"))]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {
    _module_name(path): path
    for path in sorted(ROOT.rglob("*.py"))
    if "migrations" not in path.parts
}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _imported(module: str, path: Path) -> set[str]:
    """The package's modules that ``module`` imports, wherever the statement stands."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            targets.add(submodule if submodule in MODULES else source)
    return {target for target in targets if target in MODULES and target != module}


GRAPH = {module: _imported(module, path) for module, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
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
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def test_the_graph_sees_imports_inside_functions():
    # registration.register() imports the admin mixin inside the function; if the
    # walk missed such imports, a cycle hidden that way could not fail the next test.
    assert "admin_bulk_upsert.admin.mixins" in GRAPH["admin_bulk_upsert.registration"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_in_a_circle():
    assert _cycles(GRAPH) == []


# What each layer may not import: the engine knows nothing of files, jobs, reports or
# the admin; files and reports serve the admin, the jobs and the command line alike.
FORBIDDEN = {
    "engine": (
        "admin",
        "jobs",
        "files",
        "reports",
        "management",
        "resources",
        "registration",
        "integrations",
    ),
    "files": ("admin", "jobs", "engine", "reports", "management", "resources", "integrations"),
    "integrations": ("admin", "jobs", "files", "reports", "management", "resources"),
    "reports": ("admin", "jobs", "management"),
    "jobs": ("admin", "management"),
    # The HTTP API stands beside the admin: the engine through resources, files, reports.
    "drf": ("admin", "management"),
    # Matching headers to fields knows resources only by the instance it is given.
    "column_mapping": (
        "admin",
        "jobs",
        "management",
        "engine",
        "reports",
        "resources",
        "integrations",
    ),
}


def _imports_drf(path: Path) -> bool:
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        if any(name.split(".")[0] == "rest_framework" for name in names):
            return True
    return False


def _in_drf_layer(module: str) -> bool:
    return module == f"{PACKAGE}.drf" or module.startswith(f"{PACKAGE}.drf.")


def test_only_the_drf_layer_imports_rest_framework():
    # DRF is an optional extra: no other module may need it, nor import the layer that does.
    inside = _in_drf_layer
    assert any(_imports_drf(path) for module, path in MODULES.items() if inside(module))
    wrong = sorted(
        module
        for module, path in MODULES.items()
        if not inside(module) and (_imports_drf(path) or any(map(inside, GRAPH[module])))
    )
    assert wrong == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_down_the_layers(layer):
    prefix = f"{PACKAGE}.{layer}"
    forbidden = tuple(f"{PACKAGE}.{name}" for name in FORBIDDEN[layer])
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module == prefix or module.startswith(prefix + ".")
        for target in targets
        if target.startswith(forbidden)
    )
    assert wrong == []


def _documented_paths() -> list[str]:
    """Every dotted ``admin_bulk_upsert.x.y`` the docs write (check ids aside)."""
    text = "\n".join(path.read_text() for path in DOCS)
    found = re.findall(r"\badmin_bulk_upsert(?:\.\w+)+", text)
    return sorted({path for path in found if not re.search(r"\.[EW]\d{3}$", path)})


def _public(dotted: str) -> tuple[str, str | None]:
    """Split a dotted path into its module and the attribute it names (if any)."""
    if dotted in MODULES:
        return dotted, None
    module, _, name = dotted.rpartition(".")
    return module, name


def test_the_docs_name_paths_to_check():
    assert "admin_bulk_upsert.jobs.models.ImportJob" in _documented_paths()


@pytest.mark.parametrize("dotted", _documented_paths())
def test_every_path_the_docs_name_is_public(dotted):
    module_name, name = _public(dotted)
    module = importlib.import_module(module_name)
    if name is None:
        return
    assert hasattr(module, name), f"{dotted} does not exist"
    assert name in getattr(module, "__all__", ()), f"{name} is not in {module_name}.__all__"
