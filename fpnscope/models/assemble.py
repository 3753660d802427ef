"""The only place where a validated config becomes constructor arguments."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import nn

from fpnscope.config.schema import FPNNeck, PresetConfig
from fpnscope.errors import BuildError
from fpnscope.models.backbones import build_backbone
from fpnscope.models.model import PyramidModel
from fpnscope.models.necks.fpn import build_fpn
from fpnscope.spec import LevelSpec
from fpnscope.suggest import did_you_mean

__all__ = ["build_backbone", "build_model", "build_neck", "select_inputs"]


def select_inputs(neck_cfg: object, specs: Sequence[LevelSpec]) -> list[int]:
    """Indices of the backbone levels named by ``neck.in_features`` (all of them by default)."""
    wanted = getattr(neck_cfg, "in_features", None)
    names = [s.name for s in specs]
    if wanted is None:
        return list(range(len(specs)))
    indices = []
    for name in wanted:
        if name not in names:
            hint = did_you_mean(name, names, n=1)
            raise BuildError(
                f"neck.in_features: the backbone has no level '{name}'"
                + (f" ({hint})" if hint else "")
                + f"; it gives {', '.join(names)}"
            )
        indices.append(names.index(name))
    if len(set(indices)) != len(indices):
        raise BuildError(f"neck.in_features: {list(wanted)} names a level twice")
    if indices != sorted(indices):
        fixed = ", ".join(names[i] for i in sorted(indices))
        raise BuildError(f"neck.in_features: list levels finest first: in_features: [{fixed}]")
    return indices


def build_neck(cfg: object, in_specs: Sequence[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    """Build the neck named by ``cfg.kind`` over ``in_specs`` (channels are always the real ones)."""
    if isinstance(cfg, FPNNeck):
        extra = cfg.extra_levels
        return build_fpn(
            in_specs,
            cfg.out_channels,
            upsample=cfg.upsample,
            output_convs=cfg.output_convs,
            norm=cfg.norm,
            act=cfg.act,
            gn_groups=cfg.gn_groups,
            extra_count=extra.count if extra else 0,
            extra_mode=extra.mode if extra else "maxpool",
            extra_source=extra.source if extra else "p5",
        )
    raise BuildError(f"neck.kind: no builder for {getattr(cfg, 'kind', cfg)!r}")


def build_model(
    cfg: PresetConfig, backbone_specs: Sequence[LevelSpec] | None = None, base_dir: Path | None = None
) -> tuple[PyramidModel, list[LevelSpec], list[LevelSpec]]:
    """Build the whole model on the current default device.

    ``backbone_specs`` are the levels the backbone really produces, when already measured; else
    its declared ones are used. Returns the model, the backbone specs used and the neck's specs.

    >>> from fpnscope.config.loader import load_config
    >>> model, _, out = build_model(load_config("synthetic_fpn").config)
    >>> [s.name for s in out]
    ['P2', 'P3', 'P4', 'P5']
    """
    backbone, declared = build_backbone(cfg.backbone, base_dir)
    specs = list(backbone_specs if backbone_specs is not None else declared or [])
    if not specs:
        raise BuildError("backbone: declares no levels; measure it first (fpnscope inspect does)")
    indices = select_inputs(cfg.neck, specs)
    neck, out_specs = build_neck(cfg.neck, [specs[i] for i in indices])
    return PyramidModel(backbone, neck, indices), specs, out_specs
