"""Importing the user's own modules so that each call gets the code on disk now.

Python keeps a module once imported: a notebook that edits ``myneck.py`` and calls again, or a
``compare`` of two folders that each hold a ``myneck.py``, would get the first code. A module of
the user's (not an installed library) is imported again when the name now resolves to another file
or its file changed since it was imported.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

_LOADED: dict[str, tuple[Path, int]] = {}  # module name -> (its file, the file's mtime when imported)


def installed(path: str | Path) -> bool:
    """Code installed as a library (not the user's to edit, nor to import again)."""
    return any(part in ("site-packages", "dist-packages") for part in Path(path).parts)


def _file(module: ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _drop(top: str) -> None:
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]
        _LOADED.pop(name, None)


def import_fresh(name: str, search: Sequence[str]) -> ModuleType:
    """``importlib.import_module(name)``, importing a user's module again when it is stale; ``search``
    are the folders looked in first (already on ``sys.path``)."""
    top = name.partition(".")[0]
    held = sys.modules.get(top)
    held_file = _file(held) if held is not None else None
    if held_file is not None and not installed(held_file):
        spec = importlib.machinery.PathFinder.find_spec(top, [*search, *sys.path])
        origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
        if origin is not None and origin != held_file:
            _drop(top)  # the name now means another file (another folder's myneck.py)
    module = sys.modules.get(name)
    file = _file(module) if module is not None else None
    if file is not None and not installed(file) and name in _LOADED and _LOADED[name] != (file, _mtime(file)):
        _drop(name)  # edited since it was imported
    module = importlib.import_module(name)
    file = _file(module)
    if file is not None and not installed(file) and name not in _LOADED:
        _LOADED[name] = (file, _mtime(file))
    return module


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1
