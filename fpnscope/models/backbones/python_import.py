"""A user's own backbone: a factory named ``package.module:factory`` (or, from Python, a module or
a callable)."""

from __future__ import annotations

from torch import nn

from fpnscope.config.backbones import PythonBackbone
from fpnscope.models.code import declared_specs, user_module, yaml_specs
from fpnscope.models.context import BuildContext
from fpnscope.spec import LevelSpec


def build_python(
    cfg: PythonBackbone, context: BuildContext = BuildContext()
) -> tuple[nn.Module, list[LevelSpec] | None]:
    """Call the user's factory with ``kwargs``; declared specs come from the YAML, else the module.

    Returns None for the specs when nothing is declared: they are then measured.
    """
    module = user_module(cfg.target, cfg.kwargs, (), "backbone", context)
    return module, yaml_specs(cfg, "C") or declared_specs(module, "C")
