"""PANet's path aggregation (Liu et al. 2018) on top of an FPN, as mmdetection's PAFPN."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from fpnscope.config.necks import PAFPNNeck
from fpnscope.models.blocks import ConvNormAct, align_to
from fpnscope.models.necks.fpn import FPN, fpn_module
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


class PAFPN(FPN):
    """An FPN followed by a bottom-up path: for each level after the finest, a 3x3 stride-2 conv
    of the level below is added to this level's FPN output, then a 3x3 conv.

    The sum feeding the next level is taken before that 3x3 conv, as mmdetection does.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, **kwargs: Any) -> None:
        super().__init__(in_channels, out_channels, **kwargs)
        conv = kwargs["conv"]
        ups = len(in_channels) - 1
        self.downsample = nn.ModuleList(ConvNormAct(out_channels, out_channels, 3, 2, **conv) for _ in range(ups))
        self.pafpn = nn.ModuleList(ConvNormAct(out_channels, out_channels, 3, **conv) for _ in range(ups))

    def bottom_up(self, outs: list[Tensor]) -> list[Tensor]:
        """N_0 = P_0; S_i = P_i + down(S_{i-1}); N_i = conv(S_i)."""
        inter = list(outs)
        for i, down in enumerate(self.downsample):
            # a stride-2 conv gives ceil(n / 2); a floor-rounded level below would be one smaller
            inter[i + 1] = inter[i + 1] + align_to(down(inter[i]), inter[i + 1])
        return [inter[0]] + [conv(x) for conv, x in zip(self.pafpn, inter[1:])]


def build_pafpn(
    in_specs: Sequence[LevelSpec], options: PAFPNNeck | None = None, **overrides: Any
) -> tuple[PAFPN, list[LevelSpec]]:
    """Build a PAFPN; options as a preset's ``neck: {kind: pafpn}`` (fusion is a plain sum).

    >>> from fpnscope.spec import LevelSpec
    >>> m, out = build_pafpn([LevelSpec("C3", 8, 8), LevelSpec("C4", 16, 16)], out_channels=8)
    >>> len(m.downsample), [s.name for s in out]
    (1, ['P3', 'P4'])
    """
    return fpn_module(PAFPN, in_specs, resolve_options(PAFPNNeck, options, overrides))
