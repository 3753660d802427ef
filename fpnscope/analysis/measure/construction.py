"""Where a module was built: the line of its owner's ``__init__`` that calls its class.

The crash report points at that line when the fix is to build the module differently (a max-pool
that rounds down: ``ceil_mode=True`` there), not at the forward line that met its output.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn


@dataclass(frozen=True)
class Construction:
    """The call that built a module: ``code`` is that call alone, as written (``nn.MaxPool2d(2, 2)``);
    ``layers`` every module that call built (in a list comprehension, one per level), under
    ``attribute`` (``neck.down``)."""

    file: str
    line: int
    code: str
    attribute: str
    layers: tuple[str, ...]


def _owner(modules: Mapping[str, nn.Module], path: str) -> tuple[str, str] | None:
    """The path of the module whose ``__init__`` assigned the attribute ``path`` hangs from, and that
    attribute: ``neck.down.1`` in a ModuleList ``self.down`` of ``neck`` gives ("neck", "down")."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        name, parent = parts[i], ".".join(parts[:i])
        if not name.isdigit() and parent in modules and not isinstance(modules[parent], (nn.ModuleList, nn.Sequential, nn.ModuleDict)):
            return parent, name
    return None


def called(call: ast.Call) -> str:
    """The name a call calls: ``Conv2d`` of ``nn.Conv2d(...)``, ``cat`` of ``torch.cat(...)``."""
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _calls_of(node: ast.AST, cls: str) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and called(n) == cls]


def constructed_at(modules: Mapping[str, nn.Module], path: str) -> Construction | None:
    """The call in the owner's ``__init__`` that built ``modules[path]``, when exactly one call of its
    class is assigned to that attribute there (else None: built by a helper, or ambiguous)."""
    owner = _owner(modules, path)
    module = modules.get(path)
    if owner is None or module is None:
        return None
    parent_path, attr = owner
    parent = modules[parent_path]
    try:
        lines, start = inspect.getsourcelines(type(parent).__init__)
        file = inspect.getsourcefile(type(parent).__init__) or ""
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    calls: list[ast.Call] = []
    for node in ast.walk(tree):
        targets: list[Any] = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Attribute) and t.attr == attr and getattr(t.value, "id", "") == "self" for t in targets):
            calls += _calls_of(node, type(module).__name__)
    if len(calls) != 1 or not file:
        return None
    attribute = f"{parent_path}.{attr}"
    layers = tuple(p for p, m in modules.items()
                   if (p == attribute or p.startswith(attribute + ".")) and type(m) is type(module))
    return Construction(file, start + calls[0].lineno - 1, ast.unparse(calls[0]), attribute, layers)
