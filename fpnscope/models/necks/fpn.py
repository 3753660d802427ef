"""Feature Pyramid Network (Lin et al. 2017), with the options detection frameworks use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from fpnscope.config.necks import FPNNeck
from fpnscope.models.attention import make_attention
from fpnscope.models.blocks import ConvNormAct, resize_to
from fpnscope.models.fusion import WeightedSum
from fpnscope.models.necks.extra import ExtraLevels, extra_level_specs, make_extra
from fpnscope.models.options import conv_options, resolve_options
from fpnscope.spec import LevelSpec


class FPN(nn.Module):
    """Lateral 1x1 convs, a top-down path of resize-and-fuse, optional 3x3 output convs.

    Args:
        in_channels: channels of each input level, finest first.
        out_channels: channels of every output level.
        upsample: ``nearest`` or ``bilinear`` (align_corners False); the top-down map is resized
            to the lateral's exact size, so odd sizes (167 vs 84) line up.
        output_convs: the 3x3 "smooth" conv on each level.
        fusion: how a lateral meets the level above: ``sum``; ``weighted`` (learned fast normalised
            weights, as BiFPN); ``concat`` (concatenation, then a 1x1 conv back to out_channels).
        attention: ``none``, ``se`` or ``cbam`` on every output level.
        conv: ``norm``, ``act`` and ``gn_groups`` of every conv (see :class:`ConvNormAct`).
        extra: coarser levels after the last one, or None.

    The options' defaults are those of :class:`fpnscope.config.necks.FPNNeck`; build one with
    :func:`build_fpn`.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int,
        *,
        upsample: str,
        output_convs: bool,
        fusion: str,
        attention: str,
        conv: dict[str, Any],
        extra: ExtraLevels | None,
    ) -> None:
        super().__init__()
        if not in_channels:
            raise ValueError("an FPN needs at least one input level")
        self.upsample, self.fusion = upsample, fusion
        self.lateral = nn.ModuleList(ConvNormAct(c, out_channels, 1, **conv) for c in in_channels)
        merges = len(in_channels) - 1
        if fusion == "weighted":
            self.fuse = nn.ModuleList(WeightedSum(2, "fast") for _ in range(merges))
        elif fusion == "concat":
            self.fuse = nn.ModuleList(ConvNormAct(2 * out_channels, out_channels, 1, **conv) for _ in range(merges))
        elif fusion != "sum":
            raise ValueError(f"unknown fusion {fusion!r}")
        self.output = (
            nn.ModuleList(ConvNormAct(out_channels, out_channels, 3, **conv) for _ in in_channels)
            if output_convs
            else None
        )
        self.extra = extra
        outputs = len(in_channels) + (extra.count if extra is not None else 0)
        self.attention = (
            nn.ModuleList(make_attention(attention, out_channels) for _ in range(outputs))
            if attention != "none"
            else None
        )

    def merge(self, i: int, lateral: Tensor, above: Tensor) -> Tensor:
        """Fuse a lateral with the resized level above it (merge node ``i``, finest first)."""
        up = resize_to(above, lateral, self.upsample)
        if self.fusion == "sum":
            return lateral + up
        if self.fusion == "weighted":
            return self.fuse[i]([lateral, up])
        return self.fuse[i](torch.cat([lateral, up], dim=1))

    def bottom_up(self, outs: list[Tensor]) -> list[Tensor]:
        """A second path after the top-down one; none in a plain FPN (PAFPN adds it)."""
        return outs

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        """Inputs finest first; outputs finest first, then the extra levels."""
        merged = [lateral(x) for lateral, x in zip(self.lateral, feats)]
        for i in range(len(merged) - 2, -1, -1):
            merged[i] = self.merge(i, merged[i], merged[i + 1])
        outs = [conv(x) for conv, x in zip(self.output, merged)] if self.output is not None else merged
        outs = self.bottom_up(outs)
        if self.extra is not None:
            outs = outs + self.extra(feats[-1], outs[-1])
        if self.attention is not None:
            outs = [att(x) for att, x in zip(self.attention, outs)]
        return outs


F = TypeVar("F", bound=FPN)


def fpn_module(cls: type[F], in_specs: Sequence[LevelSpec], options: FPNNeck) -> tuple[F, list[LevelSpec]]:
    """An FPN or a subclass (PAFPN) built from its options, and the levels it produces."""
    conv = conv_options(options)
    module = cls(
        [s.channels for s in in_specs],
        options.out_channels,
        upsample=options.upsample,
        output_convs=options.output_convs,
        fusion=options.fusion,
        attention=options.attention,
        conv=conv,
        extra=make_extra(options.extra_levels, in_specs, options.out_channels, conv),
    )
    outs = [LevelSpec.of("P", options.out_channels, s.stride) for s in in_specs]
    count = options.extra_levels.count if options.extra_levels is not None else 0
    return module, outs + extra_level_specs(outs[-1], count)


def build_fpn(
    in_specs: Sequence[LevelSpec], options: FPNNeck | None = None, **overrides: Any
) -> tuple[FPN, list[LevelSpec]]:
    """Build an FPN over ``in_specs`` and say what it produces; ``options`` (or keywords of
    :class:`~fpnscope.config.necks.FPNNeck`) as in a preset's ``neck:`` section.

    >>> from fpnscope.spec import LevelSpec
    >>> _, out = build_fpn([LevelSpec("C4", 1024, 16), LevelSpec("C5", 2048, 32)], extra_levels={"count": 1})
    >>> [s.name for s in out]
    ['P4', 'P5', 'P6']
    """
    return fpn_module(FPN, in_specs, resolve_options(FPNNeck, options, overrides))
