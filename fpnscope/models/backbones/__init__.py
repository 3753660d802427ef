"""Backbone adapters. Each returns ``(module, declared LevelSpecs or None)``; the module's forward
takes an image batch and returns a list of feature maps, finest first."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from fpnscope.spec import LevelSpec


def build_backbone(
    cfg: object, base_dir: Path | None = None, input_hw: tuple[int, int] | None = None
) -> tuple[nn.Module, list[LevelSpec] | None]:
    """Dispatch on ``cfg.kind``; imports only what that kind needs (timm is slow to import).

    ``input_hw`` is the size the model will see, for backbones built for one size.

    >>> from fpnscope.config.schema import SyntheticBackbone
    >>> _, specs = build_backbone(SyntheticBackbone(kind="synthetic", channels=[64], strides=[8]))
    >>> specs
    [LevelSpec(name='C3', channels=64, stride=8)]
    """
    kind = cfg.kind  # type: ignore[attr-defined]
    if kind == "timm":
        from fpnscope.models.backbones.from_timm import build_timm

        return build_timm(cfg, input_hw)  # type: ignore[arg-type]
    if kind == "torchvision":
        from fpnscope.models.backbones.from_torchvision import build_torchvision

        return build_torchvision(cfg)  # type: ignore[arg-type]
    if kind == "synthetic":
        from fpnscope.models.backbones.synthetic import build_synthetic

        return build_synthetic(cfg)  # type: ignore[arg-type]
    if kind == "python":
        from fpnscope.models.backbones.python_import import build_python

        return build_python(cfg, base_dir)  # type: ignore[arg-type]
    raise ValueError(f"unknown backbone kind {kind!r}")
