"""Feature Pyramid Network (Lin et al. 2017), with the options detection frameworks use."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from fpnscope.models.blocks import ConvNormAct, resize_to
from fpnscope.models.necks.extra import ExtraLevels, extra_level_specs
from fpnscope.spec import LevelSpec


class FPN(nn.Module):
    """Lateral 1x1 convs, a top-down path of resize-and-add, optional 3x3 output convs.

    Args:
        in_channels: channels of each input level, finest first.
        out_channels: channels of every output level.
        upsample: ``nearest`` or ``bilinear`` (align_corners False); the top-down map is resized
            to the lateral's exact size, so odd sizes (167 vs 84) line up.
        output_convs: the 3x3 "smooth" conv on each level.
        norm, act, gn_groups: see :class:`ConvNormAct`.
        extra: coarser levels after the last one, or None.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int = 256,
        *,
        upsample: str = "nearest",
        output_convs: bool = True,
        norm: str = "none",
        act: str = "none",
        gn_groups: int = 32,
        extra: ExtraLevels | None = None,
    ) -> None:
        super().__init__()
        if not in_channels:
            raise ValueError("FPN needs at least one input level")
        conv = {"norm": norm, "act": act, "gn_groups": gn_groups}
        self.upsample = upsample
        self.lateral = nn.ModuleList(ConvNormAct(c, out_channels, 1, **conv) for c in in_channels)
        self.output = (
            nn.ModuleList(ConvNormAct(out_channels, out_channels, 3, **conv) for _ in in_channels)
            if output_convs
            else None
        )
        self.extra = extra

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        """Inputs finest first; outputs finest first, then the extra levels."""
        merged = [lateral(x) for lateral, x in zip(self.lateral, feats)]
        for i in range(len(merged) - 2, -1, -1):
            merged[i] = merged[i] + resize_to(merged[i + 1], merged[i], self.upsample)
        outs = [conv(x) for conv, x in zip(self.output, merged)] if self.output is not None else merged
        if self.extra is not None:
            outs = outs + self.extra(feats[-1], outs[-1])
        return outs


def build_fpn(
    in_specs: Sequence[LevelSpec],
    out_channels: int = 256,
    *,
    upsample: str = "nearest",
    output_convs: bool = True,
    norm: str = "none",
    act: str = "none",
    gn_groups: int = 32,
    extra_count: int = 0,
    extra_mode: str = "maxpool",
    extra_source: str = "p5",
) -> tuple[FPN, list[LevelSpec]]:
    """Build an FPN over ``in_specs`` and say what it produces.

    >>> from fpnscope.spec import LevelSpec
    >>> _, out = build_fpn([LevelSpec("C4", 1024, 16), LevelSpec("C5", 2048, 32)], 256, extra_count=1)
    >>> [s.name for s in out]
    ['P4', 'P5', 'P6']
    """
    extra = None
    if extra_count:
        extra = ExtraLevels(
            extra_count,
            extra_mode,
            extra_source,
            in_channels=in_specs[-1].channels,
            out_channels=out_channels,
            norm=norm,
            act=act,
            gn_groups=gn_groups,
        )
    module = FPN(
        [s.channels for s in in_specs],
        out_channels,
        upsample=upsample,
        output_convs=output_convs,
        norm=norm,
        act=act,
        gn_groups=gn_groups,
        extra=extra,
    )
    outs = [LevelSpec.of("P", out_channels, s.stride) for s in in_specs]
    return module, outs + extra_level_specs(outs[-1], extra_count)
