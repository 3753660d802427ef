"""ViTDet's simple feature pyramid (Li et al. 2022): a pyramid from one single-scale map."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from fpnscope.config.necks import SimpleFPNNeck
from fpnscope.models.blocks import ConvNormAct, make_act, make_norm
from fpnscope.models.necks.extra import ExtraLevels, extra_level_specs
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


def _scale_branch(scale: float, dim: int, norm: str) -> tuple[nn.Module, int]:
    """The resampling for one scale and the channels it leaves: deconvs up, max-pool down."""
    if scale == 4.0:
        layers: list[nn.Module] = [nn.ConvTranspose2d(dim, dim // 2, 2, stride=2)]
        norm_layer, act = make_norm(norm, dim // 2), make_act("gelu")
        layers += [m for m in (norm_layer, act) if m is not None]
        layers.append(nn.ConvTranspose2d(dim // 2, dim // 4, 2, stride=2))
        return nn.Sequential(*layers), dim // 4
    if scale == 2.0:
        return nn.ConvTranspose2d(dim, dim // 2, 2, stride=2), dim // 2
    if scale == 1.0:
        return nn.Identity(), dim
    if scale == 0.5:
        return nn.MaxPool2d(2, stride=2), dim
    raise ValueError(f"scale factor {scale} is not one of 4, 2, 1, 0.5")


class SimpleFPN(nn.Module):
    """For each scale: resample, then a 1x1 conv and a 3x3 conv, each followed by the norm (no bias
    before a norm); then extra levels by max-pool of the last output."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale_factors: Sequence[float],
        *,
        norm: str,
        gn_groups: int,
        extra: ExtraLevels | None,
    ) -> None:
        super().__init__()
        self.stages = nn.ModuleList()
        for scale in scale_factors:
            branch, dim = _scale_branch(scale, in_channels, norm)
            self.stages.append(
                nn.Sequential(
                    branch,
                    ConvNormAct(dim, out_channels, 1, norm=norm, gn_groups=gn_groups),
                    ConvNormAct(out_channels, out_channels, 3, norm=norm, gn_groups=gn_groups),
                )
            )
        self.extra = extra

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        """One map in; one map per scale factor out (finest first), then the extra levels."""
        (x,) = feats
        outs = [stage(x) for stage in self.stages]
        if self.extra is not None:
            outs += self.extra(x, outs[-1])
        return outs


def build_simple_fpn(
    in_specs: Sequence[LevelSpec], options: SimpleFPNNeck | None = None, **overrides: Any
) -> tuple[SimpleFPN, list[LevelSpec]]:
    """Build ViTDet's pyramid over one level (for ViT-B: 768 channels at stride 16 -> P2..P6).

    >>> from fpnscope.spec import LevelSpec
    >>> _, out = build_simple_fpn([LevelSpec("C4", 768, 16)])
    >>> [s.name for s in out]
    ['P2', 'P3', 'P4', 'P5', 'P6']
    """
    opts = resolve_options(SimpleFPNNeck, options, overrides)
    if len(in_specs) != 1:
        raise ValueError(f"simple_fpn reads exactly one level, got {len(in_specs)}")
    (spec,) = in_specs
    scales = sorted(opts.scale_factors, reverse=True)
    count = opts.extra_levels.count if opts.extra_levels is not None else 0
    extra = ExtraLevels(count, "maxpool", "p5", in_channels=spec.channels, out_channels=opts.out_channels) if count else None
    module = SimpleFPN(spec.channels, opts.out_channels, scales, norm=opts.norm, gn_groups=opts.gn_groups, extra=extra)
    outs = [LevelSpec.of("P", opts.out_channels, int(spec.stride / s)) for s in scales]
    return module, outs + extra_level_specs(outs[-1], count)
