"""Classification head: global average pooling of the coarsest level and a linear classifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from fpnscope.config.heads import ClsHeadConfig
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


class ClsHead(nn.Module):
    """Pool the last (coarsest) level, dropout, linear to ``num_classes``."""

    def __init__(self, channels: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, levels: list[Tensor]) -> dict[str, Tensor]:
        return {"logits": self.fc(self.dropout(self.pool(levels[-1]).flatten(1)))}


def build_cls_head(in_specs: Sequence[LevelSpec], options: ClsHeadConfig | None = None, **overrides: Any) -> ClsHead:
    """Build on the coarsest of ``in_specs``.

    >>> from fpnscope.spec import LevelSpec
    >>> build_cls_head([LevelSpec("P5", 256, 32)], num_classes=10).fc
    Linear(in_features=256, out_features=10, bias=True)
    """
    opts = resolve_options(ClsHeadConfig, options, overrides)
    return ClsHead(in_specs[-1].channels, opts.num_classes, opts.dropout)
