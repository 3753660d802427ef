"""The composed model: backbone -> (chosen levels) -> neck -> optional head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn


class PyramidModel(nn.Module):
    """``backbone(x)`` gives levels; ``neck_inputs`` picks the ones the neck reads.

    Its children are named ``backbone``, ``neck`` and ``head``, which is how analysis tells the
    stages apart.
    """

    def __init__(
        self,
        backbone: nn.Module,
        neck: nn.Module,
        neck_inputs: Sequence[int],
        head: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head
        self.neck_inputs = list(neck_inputs)

    def select(self, feats: Sequence[Tensor]) -> list[Tensor]:
        """The backbone levels the neck reads."""
        return [feats[i] for i in self.neck_inputs]

    def forward(self, x: Tensor) -> Any:
        """Pyramid levels, or the head's output when there is a head."""
        levels = self.neck(self.select(self.backbone(x)))
        return self.head(levels) if self.head is not None else levels
