"""mmdetection's ChannelMapper, as DETR-family models use: every level to one width."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from fpnscope.config.necks import ChannelMapperNeck
from fpnscope.models.blocks import ConvNormAct
from fpnscope.models.necks.extra import ExtraLevels, extra_level_specs, make_extra
from fpnscope.models.options import conv_options, resolve_options
from fpnscope.spec import LevelSpec


class ChannelMapper(nn.Module):
    """One conv (+ norm, act) per level to ``out_channels``; no fusion between levels."""

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int,
        kernel_size: int,
        *,
        conv: dict[str, Any],
        extra: ExtraLevels | None,
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(ConvNormAct(c, out_channels, kernel_size, **conv) for c in in_channels)
        self.extra = extra

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        outs = [conv(x) for conv, x in zip(self.convs, feats)]
        if self.extra is not None:
            outs += self.extra(feats[-1], outs[-1])
        return outs


def build_channel_mapper(
    in_specs: Sequence[LevelSpec], options: ChannelMapperNeck | None = None, **overrides: Any
) -> tuple[ChannelMapper, list[LevelSpec]]:
    """Build a ChannelMapper; extra levels as its ``extra_levels`` say (DINO's P6: a 3x3 stride-2
    conv on C5, ``{count: 1, mode: conv, source: c5}``), with no ReLU between extra convs.

    >>> from fpnscope.spec import LevelSpec
    >>> _, out = build_channel_mapper([LevelSpec("C5", 2048, 32)], extra_levels={"count": 1, "mode": "conv", "source": "c5"})
    >>> [(s.name, s.channels) for s in out]
    [('P5', 256), ('P6', 256)]
    """
    opts = resolve_options(ChannelMapperNeck, options, overrides)
    conv = conv_options(opts)
    extra = make_extra(opts.extra_levels, in_specs, opts.out_channels, conv, relu_between=False)
    module = ChannelMapper([s.channels for s in in_specs], opts.out_channels, opts.kernel_size, conv=conv, extra=extra)
    outs = [LevelSpec.of("P", opts.out_channels, s.stride) for s in in_specs]
    count = opts.extra_levels.count if opts.extra_levels is not None else 0
    return module, outs + extra_level_specs(outs[-1], count)
