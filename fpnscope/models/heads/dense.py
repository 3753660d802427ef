"""A dense regression head (depth, disparity, flow): Panoptic FPN's fusion of every level at the
finest one, a 1x1 conv to the output channels, upsampled to the input."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from fpnscope.config.heads import DenseHeadConfig
from fpnscope.models.blocks import ConvNormAct, resize_to
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec

_OUTPUT_ACTS = {"none": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus}


def _scale_branch(in_channels: int, channels: int, steps: int, conv: dict[str, Any]) -> nn.Sequential:
    """``max(1, steps)`` 3x3 conv + norm + ReLU, each followed by a x2 bilinear upsample when ``steps > 0``."""
    layers: list[nn.Module] = []
    for i in range(max(1, steps)):
        layers.append(ConvNormAct(in_channels if i == 0 else channels, channels, 3, **conv))
        if steps > 0:
            layers.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
    return nn.Sequential(*layers)


class DenseRegressionHead(nn.Module):
    """Per level, 3x3 conv + norm + ReLU to ``channels`` and a x2 bilinear upsample, repeated
    ``log2(stride / finest stride)`` times (once, without the upsample, on the finest level);
    summed; ``head_convs`` 3x3 conv + norm + ReLU; a 1x1 conv to ``out_channels``; a bilinear
    upsample by the finest stride (to the input whenever it divides by it); the output activation.
    Output ``{output: (N, out_channels, H, W)}``.

    With ``head_convs=0``, 128 channels, GroupNorm(32), ``out_channels=54`` and no activation over
    P2-P5 of 256 channels, it is Panoptic FPN's semantic branch (detectron2's ``SemSegFPNHead``,
    1,630,774 parameters). A x2 step that overshoots (odd sizes) is resized to the finest level.
    """

    def __init__(self, *, in_channels: Sequence[int], strides: Sequence[int], channels: int, head_convs: int,
                 out_channels: int, output_act: str, output: str, conv: dict[str, Any]) -> None:
        super().__init__()
        self.stride, self.output = strides[0], output
        self.scales = nn.ModuleList(
            _scale_branch(c, channels, round(math.log2(s / strides[0])), conv) for c, s in zip(in_channels, strides)
        )
        self.convs = nn.Sequential(*(ConvNormAct(channels, channels, 3, **conv) for _ in range(head_convs)))
        self.pred = nn.Conv2d(channels, out_channels, 1)
        self.act = _OUTPUT_ACTS[output_act]()

    def forward(self, levels: list[Tensor]) -> dict[str, Tensor]:
        x = self.scales[0](levels[0])
        for branch, level in zip(self.scales[1:], levels[1:]):
            x = x + resize_to(branch(level), x, "bilinear")
        x = self.pred(self.convs(x))
        size = (int(x.shape[-2]) * self.stride, int(x.shape[-1]) * self.stride)
        return {self.output: self.act(F.interpolate(x, size=size, mode="bilinear", align_corners=False))}


def build_dense_head(
    in_specs: Sequence[LevelSpec], options: DenseHeadConfig | None = None, **overrides: Any
) -> DenseRegressionHead:
    """Build over any levels (any channels); the output is named by ``output_name``.

    >>> from fpnscope.spec import LevelSpec
    >>> head = build_dense_head([LevelSpec.of("P", 256, 2**i) for i in range(2, 6)], out_channels=2, output_name="flow")
    >>> head.pred.out_channels, head.output
    (2, 'flow')
    """
    opts = resolve_options(DenseHeadConfig, options, overrides)
    return DenseRegressionHead(
        in_channels=[s.channels for s in in_specs], strides=[s.stride for s in in_specs], channels=opts.channels,
        head_convs=opts.head_convs, out_channels=opts.out_channels, output_act=opts.output_act,
        output=opts.output_name, conv={"norm": opts.norm, "act": "relu", "gn_groups": opts.gn_groups},
    )
