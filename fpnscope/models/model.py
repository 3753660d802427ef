"""The composed model: backbone -> (chosen levels) -> neck -> optional head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn


class PyramidModel(nn.Module):
    """``backbone(x)`` gives levels; ``neck_inputs`` picks the ones the neck reads and
    ``head_inputs`` the pyramid levels the head reads.

    Its children are named ``backbone``, ``neck`` and ``head``, which is how analysis tells the
    stages apart.
    """

    def __init__(
        self,
        backbone: nn.Module,
        neck: nn.Module,
        neck_inputs: Sequence[int],
        head: nn.Module | None = None,
        head_inputs: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head
        self.neck_inputs = list(neck_inputs)
        self.head_inputs = list(head_inputs) if head_inputs is not None else None

    def forward_levels(self, x: Tensor) -> list[Tensor]:
        """The pyramid levels (the neck's outputs)."""
        feats = self.backbone(x)
        return self.neck([feats[i] for i in self.neck_inputs])

    def forward(self, x: Tensor) -> Any:
        """Pyramid levels, or the head's outputs when there is a head."""
        levels = self.forward_levels(x)
        if self.head is None:
            return levels
        chosen = levels if self.head_inputs is None else [levels[i] for i in self.head_inputs]
        return self.head(chosen)
