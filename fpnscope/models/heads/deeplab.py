"""DeepLabV3+'s decoder (Chen et al. 2018): ASPP on the coarsest level, fused with the finest
(stride-4) level, upsampled to the input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpnscope.config.heads import DeepLabV3PlusHeadConfig
from fpnscope.models.blocks import ConvNormAct, resize_to
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling, as torchvision's ``deeplabv3.ASPP``: a 1x1 branch, a 3x3
    branch per atrous rate, an image-pooling branch (global average pool, 1x1, resized back), each
    conv + norm + ReLU to ``channels``; concatenated, a 1x1 projection + norm + ReLU, dropout.

    torchvision's ``ASPP(2048, [6, 12, 18], 256)``: 15,535,104 parameters (whatever the rates).
    """

    def __init__(self, *, in_channels: int, channels: int, rates: Sequence[int], dropout: float,
                 conv: dict[str, Any]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            [ConvNormAct(in_channels, channels, 1, **conv)]
            + [ConvNormAct(in_channels, channels, 3, dilation=r, **conv) for r in rates]
        )
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvNormAct(in_channels, channels, 1, **conv))
        self.project = ConvNormAct((len(rates) + 2) * channels, channels, 1, **conv)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        outs = [branch(x) for branch in self.branches]
        outs.append(resize_to(self.pool(x), x, "bilinear"))  # from 1x1: a constant map
        return self.dropout(self.project(torch.cat(outs, dim=1)))


class DeepLabV3PlusHead(nn.Module):
    """ASPP on the last (coarsest) level, bilinear-upsampled to the first (finest) level and
    concatenated with it reduced by a 1x1 conv + norm + ReLU to ``low_channels``; two 3x3 conv +
    norm + ReLU, a 1x1 classifier, and a bilinear upsample by the finest level's ``stride``, to
    the input size whenever the input divides by it. Levels in between are not read. Output ``seg``.
    """

    def __init__(self, *, in_channels: Sequence[int], stride: int, aspp: ASPP, aspp_channels: int, low_channels: int,
                 decoder_channels: int, num_classes: int, conv: dict[str, Any]) -> None:
        super().__init__()
        self.stride = stride
        self.aspp = aspp
        self.reduce = ConvNormAct(in_channels[0], low_channels, 1, **conv)
        self.fuse = nn.Sequential(
            ConvNormAct(low_channels + aspp_channels, decoder_channels, 3, **conv),
            ConvNormAct(decoder_channels, decoder_channels, 3, **conv),
        )
        self.classifier = nn.Conv2d(decoder_channels, num_classes, 1)

    def forward(self, levels: list[Tensor]) -> dict[str, Tensor]:
        low = self.reduce(levels[0])
        high = resize_to(self.aspp(levels[-1]), low, "bilinear")
        logits = self.classifier(self.fuse(torch.cat([high, low], dim=1)))
        size = (int(low.shape[-2]) * self.stride, int(low.shape[-1]) * self.stride)
        return {"seg": F.interpolate(logits, size=size, mode="bilinear", align_corners=False)}


def build_deeplabv3plus_head(
    in_specs: Sequence[LevelSpec], options: DeepLabV3PlusHeadConfig | None = None, **overrides: Any
) -> DeepLabV3PlusHead:
    """ASPP on the coarsest of ``in_specs``, the decoder on the finest.

    >>> from fpnscope.spec import LevelSpec
    >>> head = build_deeplabv3plus_head([LevelSpec("P2", 256, 4), LevelSpec("P4", 2048, 16)])
    >>> sum(p.numel() for p in head.aspp.parameters())
    15535104
    """
    opts = resolve_options(DeepLabV3PlusHeadConfig, options, overrides)
    conv = {"norm": opts.norm, "act": "relu", "gn_groups": opts.gn_groups}
    aspp = ASPP(in_channels=in_specs[-1].channels, channels=opts.aspp_channels, rates=opts.aspp_rates,
                dropout=opts.aspp_dropout, conv=conv)
    return DeepLabV3PlusHead(in_channels=[s.channels for s in in_specs], stride=in_specs[0].stride, aspp=aspp,
                             aspp_channels=opts.aspp_channels, low_channels=opts.low_channels,
                             decoder_channels=opts.decoder_channels, num_classes=opts.num_classes, conv=conv)
