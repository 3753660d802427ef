"""UPerNet's decode head (Xiao et al. 2018), as mmsegmentation's UPerHead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from fpnscope.config.heads import SegHeadConfig
from fpnscope.models.blocks import ConvNormAct, resize_to
from fpnscope.models.options import conv_options, resolve_options
from fpnscope.spec import LevelSpec


class PyramidPooling(nn.Module):
    """PSPNet's pooling module: for each scale, adaptive average pool -> 1x1 conv -> resize back."""

    def __init__(self, in_channels: int, channels: int, scales: Sequence[int], conv: dict[str, Any]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvNormAct(in_channels, channels, 1, **conv)) for s in scales
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        return [resize_to(branch(x), x, "bilinear") for branch in self.branches]


class UPerHead(nn.Module):
    """Pyramid pooling on the top level, an FPN over all levels (bilinear top-down), every level
    resized to the finest, concatenated, fused by a 3x3 conv, then dropout and a 1x1 classifier."""

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: int,
        num_classes: int,
        pool_scales: Sequence[int],
        dropout: float,
        *,
        conv: dict[str, Any],
    ) -> None:
        super().__init__()
        top = in_channels[-1]
        self.ppm = PyramidPooling(top, channels, pool_scales, conv)
        self.bottleneck = ConvNormAct(top + len(pool_scales) * channels, channels, 3, **conv)
        self.lateral = nn.ModuleList(ConvNormAct(c, channels, 1, **conv) for c in in_channels[:-1])
        self.fpn = nn.ModuleList(ConvNormAct(channels, channels, 3, **conv) for _ in in_channels[:-1])
        self.fuse = ConvNormAct(len(in_channels) * channels, channels, 3, **conv)
        self.dropout = nn.Dropout2d(dropout)
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, levels: list[Tensor]) -> dict[str, Tensor]:
        top = levels[-1]
        merged = [lat(x) for lat, x in zip(self.lateral, levels[:-1])]
        merged.append(self.bottleneck(torch.cat([top, *self.ppm(top)], dim=1)))
        for i in range(len(merged) - 1, 0, -1):
            merged[i - 1] = merged[i - 1] + resize_to(merged[i], merged[i - 1], "bilinear")
        outs = [conv(x) for conv, x in zip(self.fpn, merged[:-1])] + [merged[-1]]
        outs = [outs[0]] + [resize_to(x, outs[0], "bilinear") for x in outs[1:]]
        return {"seg": self.classifier(self.dropout(self.fuse(torch.cat(outs, dim=1))))}


def build_seg_head(in_specs: Sequence[LevelSpec], options: SegHeadConfig | None = None, **overrides: Any) -> UPerHead:
    """Build a UPerNet head over the given levels (any channels per level).

    >>> from fpnscope.spec import LevelSpec
    >>> head = build_seg_head([LevelSpec("P4", 1024, 16), LevelSpec("P5", 2048, 32)], num_classes=19)
    >>> head.classifier.out_channels
    19
    """
    opts = resolve_options(SegHeadConfig, options, overrides)
    return UPerHead([s.channels for s in in_specs], opts.channels, opts.num_classes, opts.pool_scales, opts.dropout,
                    conv=conv_options(opts))
