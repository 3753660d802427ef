"""mmdetection's ChannelMapper, as DETR-family models use: every level to one width."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from fpnscope.models.blocks import ConvNormAct
from fpnscope.models.necks.extra import ExtraLevels, extra_level_specs
from fpnscope.models.necks.fpn import make_extra
from fpnscope.spec import LevelSpec


class ChannelMapper(nn.Module):
    """One conv (+ norm, act) per level to ``out_channels``; no fusion between levels."""

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int = 256,
        kernel_size: int = 1,
        *,
        norm: str = "gn",
        act: str = "none",
        gn_groups: int = 32,
        extra: ExtraLevels | None = None,
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            ConvNormAct(c, out_channels, kernel_size, norm=norm, act=act, gn_groups=gn_groups) for c in in_channels
        )
        self.extra = extra

    def forward(self, feats: list[Tensor]) -> list[Tensor]:  # noqa: D102
        outs = [conv(x) for conv, x in zip(self.convs, feats)]
        if self.extra is not None:
            outs += self.extra(feats[-1], outs[-1])
        return outs


def build_channel_mapper(
    in_specs: Sequence[LevelSpec],
    out_channels: int = 256,
    kernel_size: int = 1,
    *,
    norm: str = "gn",
    act: str = "none",
    gn_groups: int = 32,
    extra_count: int = 0,
    extra_mode: str = "conv",
    extra_source: str = "c5",
) -> tuple[ChannelMapper, list[LevelSpec]]:
    """Build a ChannelMapper; extra levels are 3x3 stride-2 convs, the first on C5 (DINO's P6).

    >>> from fpnscope.spec import LevelSpec
    >>> _, out = build_channel_mapper([LevelSpec("C5", 2048, 32)], extra_count=1)
    >>> [(s.name, s.channels) for s in out]
    [('P5', 256), ('P6', 256)]
    """
    conv = {"norm": norm, "act": act, "gn_groups": gn_groups}
    extra = make_extra(in_specs, out_channels, extra_count, extra_mode, extra_source, conv, relu_between=False)
    module = ChannelMapper([s.channels for s in in_specs], out_channels, kernel_size, extra=extra, **conv)  # type: ignore[arg-type]
    outs = [LevelSpec.of("P", out_channels, s.stride) for s in in_specs]
    return module, outs + extra_level_specs(outs[-1], extra_count)
