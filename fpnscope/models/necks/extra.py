"""Extra coarser levels appended after a pyramid's last level (P6, P7, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from fpnscope.config.necks import ExtraLevels as ExtraLevelsOptions
from fpnscope.models.blocks import ConvNormAct
from fpnscope.spec import LevelSpec


class ExtraLevels(nn.Module):
    """``maxpool``: max-pool kernel 1, stride 2 of the previous level (torchvision's
    LastLevelMaxPool, so 25 -> 13). ``conv``: 3x3 stride-2 convs, the first reading the last
    backbone input (``c5``) or the last pyramid output (``p5``), with a ReLU before every conv after
    the first (RetinaNet's P6/P7) unless ``relu_between`` is off (mmdetection's ChannelMapper).

    >>> len(ExtraLevels(2, "conv", "c5", in_channels=2048, out_channels=256).convs)
    2
    """

    def __init__(
        self,
        count: int,
        mode: str,
        source: str,
        *,
        in_channels: int,
        out_channels: int,
        norm: str = "none",
        act: str = "none",
        gn_groups: int = 32,
        relu_between: bool = True,
    ) -> None:
        super().__init__()
        self.count, self.mode, self.source = count, mode, source
        self.relu_between = relu_between
        self.convs = nn.ModuleList()  # stays empty for max-pool levels
        if mode == "conv":
            first = in_channels if source == "c5" else out_channels
            self.convs = nn.ModuleList(
                ConvNormAct(first if i == 0 else out_channels, out_channels, 3, 2, norm=norm, act=act, gn_groups=gn_groups)
                for i in range(count)
            )
            self.relu = nn.ReLU()
        elif mode != "maxpool":
            raise ValueError(f"unknown extra level mode {mode!r}")

    def forward(self, last_input: Tensor, last_output: Tensor) -> list[Tensor]:
        """The extra levels, finest first."""
        outs: list[Tensor] = []
        if self.mode == "maxpool":
            x = last_output
            for _ in range(self.count):
                x = F.max_pool2d(x, kernel_size=1, stride=2)
                outs.append(x)
            return outs
        x = last_input if self.source == "c5" else last_output
        for i, conv in enumerate(self.convs):
            x = conv(self.relu(x) if i and self.relu_between else x)
            outs.append(x)
        return outs


def make_extra(
    options: ExtraLevelsOptions | None,
    in_specs: Sequence[LevelSpec],
    out_channels: int,
    conv: dict[str, Any],
    relu_between: bool = True,
) -> ExtraLevels | None:
    """The extra-levels module a neck's ``extra_levels`` options ask for, or None."""
    if options is None or not options.count:
        return None
    return ExtraLevels(
        options.count, options.mode, options.source, in_channels=in_specs[-1].channels,
        out_channels=out_channels, relu_between=relu_between, **conv,
    )


def extra_level_specs(last: LevelSpec, count: int) -> list[LevelSpec]:
    """Specs of ``count`` levels coarser than ``last``, each at twice the stride."""
    return [LevelSpec.of("P", last.channels, last.stride * 2 ** (i + 1)) for i in range(count)]
