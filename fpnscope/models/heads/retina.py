"""RetinaNet-style dense head: class and box towers shared across levels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from fpnscope.config.heads import RetinaHeadConfig
from fpnscope.models.blocks import SeparableConvNorm, make_act, make_norm
from fpnscope.models.heads import shared_channels
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


def _conv(cin: int, cout: int, separable: bool, bias: bool) -> nn.Module:
    if separable:
        return SeparableConvNorm(cin, cout, 3, bias=bias)
    return nn.Conv2d(cin, cout, 3, padding=1, bias=bias)


class Tower(nn.Module):
    """``depth`` 3x3 convs (or separable ones), each followed by a norm and the activation.

    With ``norm_per_level`` each level has its own norms (EfficientDet), the convs stay shared.
    """

    def __init__(
        self,
        channels: int,
        depth: int,
        levels: int,
        *,
        norm: str,
        act: str,
        gn_groups: int,
        norm_per_level: bool,
        separable: bool,
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(_conv(channels, channels, separable, bias=norm == "none") for _ in range(depth))
        norm_sets = levels if norm_per_level else 1
        self.norms = nn.ModuleList(
            nn.ModuleList(make_norm(norm, channels, gn_groups) or nn.Identity() for _ in range(depth))
            for _ in range(norm_sets)
        )
        self.act = make_act(act) or nn.Identity()

    def forward(self, x: Tensor, level: int) -> Tensor:
        norms = self.norms[level if len(self.norms) > 1 else 0]
        for conv, norm in zip(self.convs, norms.children()):
            x = self.act(norm(conv(x)))
        return x


class RetinaHead(nn.Module):
    """Class and box towers and predictors, applied to every level with the same weights.

    Outputs ``cls`` (A·K channels) and ``box`` (A·4 channels), one map per level.
    """

    def __init__(
        self,
        channels: int,
        levels: int,
        num_classes: int,
        num_anchors: int,
        depth: int,
        *,
        norm: str,
        act: str,
        gn_groups: int,
        norm_per_level: bool,
        separable: bool,
    ) -> None:
        super().__init__()
        tower: dict[str, Any] = {"norm": norm, "act": act, "gn_groups": gn_groups, "norm_per_level": norm_per_level,
                                 "separable": separable}
        self.cls_tower = Tower(channels, depth, levels, **tower)
        self.box_tower = Tower(channels, depth, levels, **tower)
        self.cls_pred = _conv(channels, num_anchors * num_classes, separable, bias=True)
        self.box_pred = _conv(channels, num_anchors * 4, separable, bias=True)

    def forward(self, levels: list[Tensor]) -> dict[str, list[Tensor]]:
        cls = [self.cls_pred(self.cls_tower(x, i)) for i, x in enumerate(levels)]
        box = [self.box_pred(self.box_tower(x, i)) for i, x in enumerate(levels)]
        return {"cls": cls, "box": box}


def build_retina_head(
    in_specs: Sequence[LevelSpec], options: RetinaHeadConfig | None = None, **overrides: Any
) -> RetinaHead:
    """Build a shared dense head; every level must have the same channels.

    >>> from fpnscope.spec import LevelSpec
    >>> head = build_retina_head([LevelSpec("P3", 256, 8), LevelSpec("P4", 256, 16)], num_classes=91)
    >>> head.cls_pred.out_channels
    819
    """
    opts = resolve_options(RetinaHeadConfig, options, overrides)
    return RetinaHead(
        shared_channels(in_specs, "retina"), len(in_specs), opts.num_classes, opts.num_anchors, opts.depth,
        norm=opts.norm, act=opts.act, gn_groups=opts.gn_groups, norm_per_level=opts.norm_per_level,
        separable=opts.separable,
    )
