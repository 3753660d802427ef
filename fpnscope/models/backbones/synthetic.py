"""A weightless backbone: random feature maps of declared channels and strides."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from fpnscope.config.backbones import SyntheticBackbone
from fpnscope.models.context import BuildContext
from fpnscope.spec import LevelSpec, feature_size


class SyntheticFeatures(nn.Module):
    """Feature maps of ``channels[i]`` at ``strides[i]``, sized from the input like a conv stack.

    >>> import torch
    >>> net = SyntheticFeatures([256, 512], [4, 8], "ceil")
    >>> [tuple(f.shape) for f in net(torch.empty(1, 3, 800, 1333, device="meta"))]
    [(1, 256, 200, 334), (1, 512, 100, 167)]
    """

    def __init__(self, channels: Sequence[int], strides: Sequence[int], rounding: str) -> None:
        super().__init__()
        self.channels, self.strides, self.rounding = list(channels), list(strides), rounding

    def forward(self, x: Tensor) -> list[Tensor]:
        """Random maps (never zeros, so a timed neck does real work)."""
        batch, _, height, width = x.shape
        return [
            x.new_empty(
                batch, c, feature_size(height, s, self.rounding), feature_size(width, s, self.rounding)
            ).normal_()
            for c, s in zip(self.channels, self.strides)
        ]

    def extra_repr(self) -> str:
        return f"channels={self.channels}, strides={self.strides}, rounding={self.rounding}"


def build_synthetic(
    cfg: SyntheticBackbone, context: BuildContext = BuildContext()
) -> tuple[SyntheticFeatures, list[LevelSpec]]:
    """Build from the config; the declared specs are exactly the configured ones."""
    module = SyntheticFeatures(cfg.channels, cfg.strides, cfg.rounding)
    return module, [LevelSpec.of("C", c, s) for c, s in zip(cfg.channels, cfg.strides)]
