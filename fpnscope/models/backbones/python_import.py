"""A user's own backbone, imported from ``package.module:factory``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from fpnscope.config.backbones import PythonBackbone
from fpnscope.errors import BuildError
from fpnscope.models.backbones import BuildContext
from fpnscope.spec import LevelSpec


class FeatureList(nn.Module):
    """Wraps a module returning a list, tuple or dict of maps so it returns a list, finest first."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: Tensor) -> list[Tensor]:
        """The body's feature maps as a list."""
        feats = self.body(x)
        if isinstance(feats, Tensor):
            return [feats]
        if isinstance(feats, dict):
            return list(feats.values())
        return list(feats)


def import_target(target: str, search: list[Path]) -> Any:
    """Import ``"package.module:attr.path"``, looking in ``search`` folders first."""
    module_name, _, attr_path = target.partition(":")
    added = [str(p) for p in search if str(p) not in sys.path]
    sys.path[:0] = added
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise BuildError(
            f"backbone.target: cannot import '{module_name}' ({err}); it is looked up next to the "
            "YAML file, in the current folder and on PYTHONPATH"
        ) from None
    finally:
        for path in added:
            sys.path.remove(path)
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise BuildError(f"backbone.target: '{module_name}' has no attribute '{attr_path}'")
        obj = getattr(obj, part)
    return obj


def declared_specs(body: nn.Module) -> list[LevelSpec] | None:
    """Specs a module declares itself: ``level_specs`` or a timm-style ``feature_info``."""
    specs = getattr(body, "level_specs", None)
    if specs:
        return [
            s if isinstance(s, LevelSpec) else LevelSpec.of("C", s["channels"], s["stride"]) for s in specs
        ]
    info = getattr(body, "feature_info", None)
    if info is None:
        return None
    if hasattr(info, "channels") and hasattr(info, "reduction"):
        return [LevelSpec.of("C", c, s) for c, s in zip(info.channels(), info.reduction())]
    if isinstance(info, (list, tuple)) and all(isinstance(d, dict) for d in info):
        return [LevelSpec.of("C", d["num_chs"], d["reduction"]) for d in info]
    return None


def build_python(cfg: PythonBackbone, context: BuildContext = BuildContext()) -> tuple[FeatureList, list[LevelSpec] | None]:
    """Call the user's factory with ``kwargs``; declared specs come from the YAML, else the module.

    Returns None for the specs when nothing is declared: they are then measured.
    """
    search = [p for p in (context.base_dir, Path.cwd()) if p is not None]
    factory = import_target(cfg.target, search)
    if not callable(factory):
        raise BuildError(f"backbone.target: '{cfg.target}' is not callable")
    try:
        body = factory(**cfg.kwargs)
    except Exception as err:
        raise BuildError(f"backbone.target: {cfg.target}(**kwargs) raised {type(err).__name__}: {err}") from None
    if not isinstance(body, nn.Module):
        raise BuildError(
            f"backbone.target: {cfg.target} returned {type(body).__name__}, not a torch.nn.Module"
        )
    if cfg.channels is not None and cfg.strides is not None:
        specs: list[LevelSpec] | None = [LevelSpec.of("C", c, s) for c, s in zip(cfg.channels, cfg.strides)]
    else:
        specs = declared_specs(body)
    return FeatureList(body), specs
