"""FCOS's dense head (Tian et al. 2019), as torchvision's ``FCOSHead``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from fpnscope.config.heads import FCOSHeadConfig
from fpnscope.models.blocks import ConvNormAct
from fpnscope.models.heads import shared_channels
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


def _tower(channels: int, depth: int, norm: str, gn_groups: int) -> nn.Sequential:
    # torchvision keeps the conv bias although GroupNorm follows: 256 more parameters per conv
    return nn.Sequential(*(
        ConvNormAct(channels, channels, 3, norm=norm, act="relu", gn_groups=gn_groups, bias=True) for _ in range(depth)
    ))


class FCOSHead(nn.Module):
    """A class tower and a box tower (``depth`` 3x3 conv + norm + ReLU each) shared over levels;
    3x3 predictors for ``A·K`` class logits, ``4A`` box distances (through a ReLU, as torchvision)
    and ``A`` centerness logits, the last two from the box tower.

    Outputs ``cls``, ``box`` and ``ctr``, one map per level (torchvision flattens them over the
    levels into ``(N, ΣHWA, ·)``; these are the maps before that).
    """

    def __init__(self, *, channels: int, num_classes: int, num_anchors: int, depth: int, norm: str, gn_groups: int,
                 prior_probability: float) -> None:
        super().__init__()
        self.cls_tower = _tower(channels, depth, norm, gn_groups)
        self.box_tower = _tower(channels, depth, norm, gn_groups)
        self.cls_pred = nn.Conv2d(channels, num_anchors * num_classes, 3, padding=1)
        self.box_pred = nn.Conv2d(channels, num_anchors * 4, 3, padding=1)
        self.ctr_pred = nn.Conv2d(channels, num_anchors, 3, padding=1)
        for m in self.modules():  # torchvision's init
            if isinstance(m, nn.Conv2d) and m.bias is not None:  # every conv here has one
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
        # the focal-loss prior: every class starts at probability prior_probability
        bias = self.cls_pred.bias
        if bias is not None:
            nn.init.constant_(bias, -math.log((1 - prior_probability) / prior_probability))

    def forward(self, levels: list[Tensor]) -> dict[str, list[Tensor]]:
        box_feats = [self.box_tower(x) for x in levels]
        return {
            "cls": [self.cls_pred(self.cls_tower(x)) for x in levels],
            "box": [F.relu(self.box_pred(f)) for f in box_feats],
            "ctr": [self.ctr_pred(f) for f in box_feats],
        }


def build_fcos_head(in_specs: Sequence[LevelSpec], options: FCOSHeadConfig | None = None, **overrides: Any) -> FCOSHead:
    """Build on levels of one width (torchvision's: 256 channels, 91 classes, 4,946,016 parameters).

    >>> from fpnscope.spec import LevelSpec
    >>> head = build_fcos_head([LevelSpec.of("P", 256, 2**i) for i in range(3, 8)])
    >>> sum(p.numel() for p in head.parameters())
    4946016
    """
    opts = resolve_options(FCOSHeadConfig, options, overrides)
    return FCOSHead(channels=shared_channels(in_specs, "fcos"), num_classes=opts.num_classes,
                    num_anchors=opts.num_anchors, depth=opts.depth, norm=opts.norm, gn_groups=opts.gn_groups,
                    prior_probability=opts.prior_probability)
