"""fpnscope: inspect, cost and compare feature-pyramid vision models (backbone -> neck -> head).

>>> import fpnscope as fs
>>> report = fs.inspect("resnet50_fpn", input=256)   # doctest: +SKIP
>>> report.params.total, [lvl.name for lvl in report.levels]   # doctest: +SKIP
(26852416, ['P2', 'P3', 'P4', 'P5', 'P6'])

Importing the package imports neither torch nor rich: they load on the first call that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fpnscope._version import __version__
from fpnscope.errors import BuildError, ConfigError, FpnscopeError
from fpnscope.spec import LevelSpec

if TYPE_CHECKING:
    from fpnscope.api import compare, graph, inspect, load, preset_text, presets, profile, schema, sweep

_API = ("load", "inspect", "compare", "profile", "graph", "sweep", "presets", "preset_text", "schema")
__all__ = [
    "BuildError", "ConfigError", "FpnscopeError", "LevelSpec", "__version__",
    "compare", "graph", "inspect", "load", "preset_text", "presets", "profile", "schema", "sweep",
]


def __getattr__(name: str) -> Any:
    # the API is looked up on first use, so that `import fpnscope` stays instant
    if name in _API:
        return getattr(importlib.import_module("fpnscope.api"), name)
    raise AttributeError(f"module 'fpnscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
