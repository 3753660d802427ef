"""The only place where a validated config becomes constructor arguments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from fpnscope.config import necks as nk
from fpnscope.config import heads as hd
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import BuildError, LevelNotFound
from fpnscope.models.backbones import build_backbone
from fpnscope.models.model import PyramidModel
from fpnscope.registry import Registry
from fpnscope.spec import LevelSpec
from fpnscope.suggest import did_you_mean

__all__ = ["build_backbone", "build_head", "build_model", "build_neck", "select_levels"]

NeckBuilder = Callable[[Any, list[LevelSpec]], tuple[nn.Module, list[LevelSpec]]]
HeadBuilder = Callable[[Any, list[LevelSpec]], nn.Module]
NECKS: Registry[NeckBuilder] = Registry("neck")
HEADS: Registry[HeadBuilder] = Registry("head")


def select_levels(
    wanted: Sequence[str] | None, specs: Sequence[LevelSpec], key: str, default_count: int | None = None
) -> list[int]:
    """Indices of the levels named by ``key`` (``neck.in_features`` or ``head.in_features``); by
    default all of them, or the ``default_count`` coarsest for a neck that reads a fixed number."""
    provider = "the backbone" if key.startswith("neck") else "the neck"
    names = [s.name for s in specs]
    if wanted is None:
        return list(range(len(specs)))[-default_count:] if default_count else list(range(len(specs)))
    indices = []
    for name in wanted:
        if name not in names:
            hint = did_you_mean(name, names, n=1)
            raise LevelNotFound(
                f"{key}: {provider} has no level '{name}'"
                + (f" ({hint})" if hint else "")
                + f"; it gives {', '.join(names)}"
            )
        indices.append(names.index(name))
    if len(set(indices)) != len(indices):
        raise BuildError(f"{key}: {list(wanted)} names a level twice")
    if indices != sorted(indices):
        fixed = ", ".join(names[i] for i in sorted(indices))
        raise BuildError(f"{key}: list levels finest first: [{fixed}]")
    return indices


def _extra(cfg: Any) -> dict[str, Any]:
    extra = cfg.extra_levels
    if extra is None:
        return {"extra_count": 0}
    return {"extra_count": extra.count, "extra_mode": extra.mode, "extra_source": extra.source}


def _conv(cfg: Any) -> dict[str, Any]:
    return {"norm": cfg.norm, "act": cfg.act, "gn_groups": cfg.gn_groups}


@NECKS.register("fpn")
def _fpn(cfg: nk.FPNNeck, specs: list[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    from fpnscope.models.necks.fpn import build_fpn

    return build_fpn(
        specs, cfg.out_channels, upsample=cfg.upsample, output_convs=cfg.output_convs, fusion=cfg.fusion,
        attention=cfg.attention, **_conv(cfg), **_extra(cfg),
    )


@NECKS.register("pafpn")
def _pafpn(cfg: nk.PAFPNNeck, specs: list[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    from fpnscope.models.necks.pafpn import build_pafpn

    return build_pafpn(
        specs, cfg.out_channels, upsample=cfg.upsample, output_convs=cfg.output_convs,
        attention=cfg.attention, **_conv(cfg), **_extra(cfg),
    )


@NECKS.register("bifpn")
def _bifpn(cfg: nk.BiFPNNeck, specs: list[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    from fpnscope.models.necks.bifpn import build_bifpn

    return build_bifpn(
        specs, cfg.width, cfg.repeats, _extra(cfg)["extra_count"], fusion=cfg.fusion, separable=cfg.separable,
        upsample=cfg.upsample, **_conv(cfg),
    )


@NECKS.register("yolo_pan")
def _yolo_pan(cfg: nk.YoloPANNeck, specs: list[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    from fpnscope.models.necks.yolo_pan import build_yolo_pan

    if len(specs) != 3:
        raise BuildError(
            f"neck: yolo_pan fuses exactly three levels (C3, C4, C5) but gets {len(specs)} "
            f"({', '.join(s.name for s in specs)}); set neck.in_features to three of them"
        )
    return build_yolo_pan(
        specs, cfg.channels, cfg.width_multiple, cfg.depth_multiple, cfg.max_channels, cfg.repeats,
        upsample=cfg.upsample, **_conv(cfg),
    )


@NECKS.register("simple_fpn")
def _simple_fpn(cfg: nk.SimpleFPNNeck, specs: list[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    from fpnscope.models.necks.simple_fpn import build_simple_fpn

    return build_simple_fpn(
        specs, cfg.out_channels, cfg.scale_factors, norm=cfg.norm, gn_groups=cfg.gn_groups,
        extra_count=_extra(cfg)["extra_count"],
    )


@NECKS.register("channel_mapper")
def _channel_mapper(cfg: nk.ChannelMapperNeck, specs: list[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    from fpnscope.models.necks.channel_mapper import build_channel_mapper

    return build_channel_mapper(specs, cfg.out_channels, cfg.kernel_size, **_conv(cfg), **_extra(cfg))


@NECKS.register("identity")
def _identity(cfg: nk.IdentityNeck, specs: list[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    from fpnscope.models.necks.identity import build_identity

    return build_identity(specs)


@HEADS.register("retina")
def _retina(cfg: hd.RetinaHeadConfig, specs: list[LevelSpec]) -> nn.Module:
    from fpnscope.models.heads.retina import build_retina_head

    return build_retina_head(
        specs, cfg.num_classes, cfg.num_anchors, cfg.depth, norm=cfg.norm, act=cfg.act, gn_groups=cfg.gn_groups,
        norm_per_level=cfg.norm_per_level, separable=cfg.separable,
    )


@HEADS.register("seg")
def _seg(cfg: hd.SegHeadConfig, specs: list[LevelSpec]) -> nn.Module:
    from fpnscope.models.heads.seg import build_seg_head

    return build_seg_head(
        specs, channels=cfg.channels, num_classes=cfg.num_classes, pool_scales=cfg.pool_scales,
        dropout=cfg.dropout, norm=cfg.norm, act=cfg.act, gn_groups=cfg.gn_groups,
    )


@HEADS.register("cls")
def _cls(cfg: hd.ClsHeadConfig, specs: list[LevelSpec]) -> nn.Module:
    from fpnscope.models.heads.cls import build_cls_head

    return build_cls_head(specs, cfg.num_classes, cfg.dropout)


def build_neck(cfg: Any, in_specs: Sequence[LevelSpec]) -> tuple[nn.Module, list[LevelSpec]]:
    """Build the neck named by ``cfg.kind`` over ``in_specs`` (channels are always the real ones)."""
    return NECKS.get(cfg.kind)(cfg, list(in_specs))


def build_head(cfg: Any, in_specs: Sequence[LevelSpec]) -> nn.Module:
    """Build the head named by ``cfg.kind`` over the pyramid levels it reads."""
    return HEADS.get(cfg.kind)(cfg, list(in_specs))


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
    backbone, declared = build_backbone(cfg.backbone, base_dir, (cfg.input.height, cfg.input.width))
    specs = list(backbone_specs if backbone_specs is not None else declared or [])
    if not specs:
        raise BuildError("backbone: declares no levels; measure it first (fpnscope inspect does)")
    indices = select_levels(cfg.neck.in_features, specs, "neck.in_features", cfg.neck.default_levels)
    neck, out_specs = build_neck(cfg.neck, [specs[i] for i in indices])
    head, head_inputs = None, None
    if cfg.head is not None:
        head_inputs = select_levels(cfg.head.in_features, out_specs, "head.in_features")
        head = build_head(cfg.head, [out_specs[i] for i in head_inputs])
    return PyramidModel(backbone, neck, indices, head, head_inputs), specs, out_specs
