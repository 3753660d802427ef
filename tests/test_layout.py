"""The house rules, checked: no import cycles, imports only down the layers, small files.

Layers, lowest first: the base (errors, spec, units, suggest, the version), ``config`` (pure data),
``reports`` (plain data), ``models``, ``analysis``, ``render``, then ``api`` and ``cli``. Each may
import only the layers it is allowed below: ``render`` never runs a model, ``analysis`` never
formats, the CLI goes through the API.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fpnscope"
BASE = {"fpnscope._version", "fpnscope.errors", "fpnscope.spec", "fpnscope.units", "fpnscope.suggest"}
ALLOWED = {
    "base": {"base"},
    "config": {"base", "config"},
    "reports": {"base", "reports"},
    "models": {"base", "config", "models"},
    "analysis": {"base", "config", "models", "reports", "analysis"},
    "render": {"base", "reports", "render"},
    "api": {"base", "config", "reports", "analysis", "api"},
    "cli": {"base", "api", "reports", "render", "cli"},
    "main": {"cli"},
}
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module == "fpnscope.__main__":
        return "main"
    if module == "fpnscope":  # the package itself is the public face: it re-exports the API
        return "api"
    return module.split(".")[1]


def imports(path: Path) -> set[str]:
    """Every fpnscope module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("fpnscope")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fpnscope"):
            found.add(node.module)
            for alias in node.names:  # `from fpnscope.x import y` may import the module x.y
                if (PACKAGE.parent / (node.module.replace(".", "/") + f"/{alias.name}.py")).exists():
                    found.add(f"{node.module}.{alias.name}")
    return found


GRAPH = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_no_import_cycles():
    seen: dict[str, str] = {}  # module -> "visiting" | "done"

    def visit(module: str, chain: list[str]) -> None:
        if seen.get(module) == "done":
            return
        if seen.get(module) == "visiting":
            cycle = chain[chain.index(module):] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        seen[module] = "visiting"
        for target in sorted(GRAPH.get(module, ())):
            if target in GRAPH:
                visit(target, [*chain, module])
        seen[module] = "done"

    for module in sorted(GRAPH):
        visit(module, [])


def test_imports_go_down_the_layers():
    wrong = [
        f"{module} ({layer(module)}) imports {target} ({layer(target)})"
        for module, targets in sorted(GRAPH.items())
        for target in sorted(targets)
        if target in GRAPH and layer(target) not in ALLOWED[layer(module)]
    ]
    assert wrong == []


def test_the_base_and_the_data_layers_import_neither_torch_nor_rich():
    heavy = ("torch", "rich", "timm", "torchvision")
    for path in PACKAGE.rglob("*.py"):
        module = module_name(path)
        if layer(module) not in ("base", "config", "reports"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {n for n in names if n.split(".")[0] in heavy}, module


def test_no_file_is_over_300_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
