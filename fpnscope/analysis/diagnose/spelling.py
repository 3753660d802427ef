"""How the user's file spells torch's functions, so a proposed line runs when pasted in: the file
that did ``from torch import nn`` and nothing else is told ``nn.functional.interpolate``, not
``F.interpolate``."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

_FUNCTIONAL = "torch.nn.functional"


@lru_cache(maxsize=64)
def _imports(file: str, mtime: int) -> dict[str, str]:
    """What each name bound by an import at the top of ``file`` refers to (``F`` → torch.nn.functional)."""
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _names(file: str | None) -> dict[str, str]:
    """The names ``file`` imports, read again when it changed since (the cache is keyed by mtime)."""
    if file is None:
        return {}
    try:
        return _imports(file, Path(file).stat().st_mtime_ns)
    except OSError:
        return {}


def spelled(file: str | None, qualified: str) -> str:
    """``qualified`` (``torch.nn.functional.interpolate``) as ``file`` can write it: through the
    shortest name its imports give, else as ``F.interpolate`` / ``nn.X`` with the import to add.

    >>> spelled(None, "torch.nn.functional.interpolate")
    'F.interpolate'
    """
    names = _names(file)
    best: str | None = None
    for name, target in names.items():
        if qualified == target:
            candidate = name
        elif qualified.startswith(target + "."):
            candidate = name + qualified[len(target):]
        else:
            continue
        best = candidate if best is None or len(candidate) < len(best) else best
    if best is not None:
        return best
    if qualified.startswith(_FUNCTIONAL + "."):
        return "F" + qualified[len(_FUNCTIONAL):]
    return qualified.removeprefix("torch.")


def missing_import(file: str | None, code: str) -> str | None:
    """The import a proposed ``code`` needs that ``file`` lacks (``import torch.nn.functional as F``)."""
    names = _names(file)
    if code.startswith("F.") and "F" not in names:
        return "import torch.nn.functional as F"
    if code.startswith("nn.") and "nn" not in names:
        return "from torch import nn"
    return None
