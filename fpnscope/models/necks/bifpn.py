"""EfficientDet's BiFPN (Tan et al. 2020): weighted bidirectional fusion, repeated D times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from fpnscope.config.necks import BiFPNNeck
from fpnscope.models.blocks import ConvNormAct, SeparableConvNorm, align_to, make_act, resize_to
from fpnscope.models.fusion import WeightedSum
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


def _downsample(x: Tensor) -> Tensor:
    """Max-pool, kernel 3, stride 2, padding 1: ceil(n / 2), as EfficientDet's 'same' pooling."""
    return F.max_pool2d(x, kernel_size=3, stride=2, padding=1)


class BiFPNNode(nn.Module):
    """One fusion node: bring each input to ``width`` channels (1x1 conv + norm where it differs)
    and to the node's size (nearest/bilinear up, max-pool down), fuse with learned weights, then
    activation -> depthwise 3x3 -> pointwise 1x1 -> norm."""

    def __init__(
        self,
        in_channels: Sequence[int],
        width: int,
        *,
        fusion: str,
        norm: str,
        act: str,
        separable: bool,
        upsample: str,
        gn_groups: int,
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.resample = nn.ModuleList(
            ConvNormAct(c, width, 1, norm=norm, gn_groups=gn_groups) if c != width else nn.Identity()
            for c in in_channels
        )
        self.fuse = WeightedSum(len(in_channels), fusion)
        self.act = make_act(act) or nn.Identity()
        block = SeparableConvNorm if separable else ConvNormAct
        self.conv = block(width, width, 3, norm=norm, gn_groups=gn_groups)

    def forward(self, xs: list[Tensor], like: Tensor) -> Tensor:
        """Fuse ``xs`` at the spatial size of ``like``."""
        sized = []
        for resample, x in zip(self.resample, xs):
            x = resample(x)
            if x.shape[-2] > like.shape[-2]:
                x = align_to(_downsample(x), like)
            elif x.shape[-2:] != like.shape[-2:]:
                x = resize_to(x, like, self.upsample)
            sized.append(x)
        return self.conv(self.act(self.fuse(sized)))


class BiFPNLayer(nn.Module):
    """One BiFPN layer over L levels: top-down nodes for levels L-2..0, then bottom-up nodes for
    levels 1..L-1 (each with the level's input, its top-down node and the level below; the top
    level without a top-down node). For P3..P7: 8 nodes and 19 fusion weights."""

    def __init__(self, channels: Sequence[int], width: int, **node: Any) -> None:
        super().__init__()
        levels = len(channels)
        top_down_in = [width] * levels
        top_down_in[-1] = channels[-1]  # the top level enters the top-down path as it is
        self.top_down = nn.ModuleList(
            BiFPNNode([channels[i], top_down_in[i + 1]], width, **node) for i in range(levels - 1)
        )
        self.bottom_up = nn.ModuleList(
            BiFPNNode(
                [channels[i], width, width] if i < levels - 1 else [channels[i], width], width, **node
            )
            for i in range(1, levels)
        )

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        levels = len(xs)
        td: list[Tensor] = list(xs)
        for i in range(levels - 2, -1, -1):
            td[i] = self.top_down[i]([xs[i], td[i + 1]], like=xs[i])
        outs = [td[0]]
        for i in range(1, levels):
            inputs = [xs[i], td[i], outs[-1]] if i < levels - 1 else [xs[i], outs[-1]]
            outs.append(self.bottom_up[i - 1](inputs, like=xs[i]))
        return outs


class BiFPN(nn.Module):
    """Extra levels by resampling the last input (1x1 conv + norm to ``width`` when channels differ,
    then max-pool; further levels by max-pool), then ``repeats`` BiFPN layers of ``width``."""

    def __init__(
        self,
        in_channels: Sequence[int],
        width: int,
        repeats: int,
        extra_count: int,
        *,
        fusion: str,
        norm: str,
        act: str,
        separable: bool,
        upsample: str,
        gn_groups: int,
    ) -> None:
        super().__init__()
        extra: list[nn.Module] = []
        for i in range(extra_count):
            if i == 0 and in_channels[-1] != width:
                extra.append(ConvNormAct(in_channels[-1], width, 1, norm=norm, gn_groups=gn_groups))
            else:
                extra.append(nn.Identity())
        self.extra = nn.ModuleList(extra)
        channels = list(in_channels) + [width] * extra_count
        node = {"fusion": fusion, "norm": norm, "act": act, "separable": separable, "upsample": upsample,
                "gn_groups": gn_groups}
        self.layers = nn.ModuleList(
            BiFPNLayer(channels if r == 0 else [width] * len(channels), width, **node) for r in range(repeats)
        )

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        """Inputs finest first; outputs: the inputs' levels then the extra ones, all ``width`` wide."""
        xs = list(feats)
        x = xs[-1]
        for resample in self.extra:
            x = _downsample(resample(x))
            xs.append(x)
        for layer in self.layers:
            xs = layer(xs)
        return xs


def build_bifpn(
    in_specs: Sequence[LevelSpec], options: BiFPNNeck | None = None, **overrides: Any
) -> tuple[BiFPN, list[LevelSpec]]:
    """Build a BiFPN over ``in_specs`` (EfficientDet: C3..C5 and two extra levels, P3..P7).

    >>> from fpnscope.spec import LevelSpec
    >>> m, out = build_bifpn([LevelSpec.of("C", c, s) for c, s in ((40, 8), (112, 16), (320, 32))])
    >>> [s.name for s in out]
    ['P3', 'P4', 'P5', 'P6', 'P7']
    >>> sum(n.fuse.weight.numel() for n in m.layers[0].modules() if isinstance(n, BiFPNNode))
    19
    """
    opts = resolve_options(BiFPNNeck, options, overrides)
    extra_count = opts.extra_levels.count if opts.extra_levels is not None else 0
    if len(in_specs) + extra_count < 2:
        raise ValueError("a BiFPN needs at least two levels")
    module = BiFPN(
        [s.channels for s in in_specs], opts.width, opts.repeats, extra_count, fusion=opts.fusion, norm=opts.norm,
        act=opts.act, separable=opts.separable, upsample=opts.upsample, gn_groups=opts.gn_groups,
    )
    strides = [s.stride for s in in_specs] + [in_specs[-1].stride * 2 ** (i + 1) for i in range(extra_count)]
    return module, [LevelSpec.of("P", opts.width, s) for s in strides]
