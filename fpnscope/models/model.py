"""The composed model: backbone -> (chosen levels) -> neck -> optional head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from fpnscope.models.io import as_maps, in_form
from fpnscope.spec import LevelSpec


@dataclass(frozen=True)
class StagePlan:
    """How a measured model is wired, to build it again elsewhere (on a real device to time it):
    the backbone's levels as measured (finest first, and the order it returned them in), which of
    them the neck reads, the neck's levels as measured, which of those the head reads."""

    backbone_specs: tuple[LevelSpec, ...]
    neck_inputs: tuple[int, ...]
    neck_specs: tuple[LevelSpec, ...]
    head_inputs: tuple[int, ...] | None = None
    order: tuple[int, ...] | None = None


class PyramidModel(nn.Module):
    """``backbone(x)`` gives levels; ``neck_inputs`` picks the ones the neck reads and
    ``head_inputs`` the pyramid levels the head reads.

    Its children are named ``backbone``, ``neck`` and ``head``, which is how analysis tells the
    stages apart. ``order`` sorts the backbone's maps finest first when it returns them otherwise.
    A stage of the user's code takes its levels as a list or a dict (``neck_form``,
    ``head_form``: ``list``, ``dict`` or ``auto``, the form the stage before returned); a dict is
    keyed by the keys the stage before gave, else by ``neck_names`` / ``head_names``.
    """

    def __init__(
        self,
        backbone: nn.Module,
        neck: nn.Module,
        neck_inputs: Sequence[int],
        head: nn.Module | None = None,
        head_inputs: Sequence[int] | None = None,
        *,
        neck_form: str = "list",
        head_form: str = "list",
        neck_names: Sequence[str] = (),
        head_names: Sequence[str] = (),
        order: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head
        self.neck_inputs = list(neck_inputs)
        self.head_inputs = list(head_inputs) if head_inputs is not None else None
        self.neck_form, self.head_form = neck_form, head_form
        self.neck_names, self.head_names = list(neck_names), list(head_names)
        self.order = list(order) if order is not None else None  # backbone maps, finest first
    def features(self, x: Tensor) -> tuple[list[Tensor], list[str] | None]:
        """The backbone's maps, finest first, and their keys."""
        maps, keys = as_maps(self.backbone(x))
        if self.order is None:
            return maps, keys
        return [maps[i] for i in self.order], [keys[i] for i in self.order] if keys is not None else None

    def neck_input(self, feats: Sequence[Tensor], keys: Sequence[str] | None) -> Any:
        """What the neck is called with, from the backbone's maps."""
        chosen = [feats[i] for i in self.neck_inputs]
        chosen_keys = [keys[i] for i in self.neck_inputs] if keys is not None else None
        return in_form(chosen, self.neck_form, self.neck_names, chosen_keys)

    def head_input(self, levels: Sequence[Tensor], keys: Sequence[str] | None) -> Any:
        """What the head is called with, from the neck's maps."""
        indices = self.head_inputs if self.head_inputs is not None else range(len(levels))
        chosen_keys = [keys[i] for i in indices] if keys is not None else None
        return in_form([levels[i] for i in indices], self.head_form, self.head_names, chosen_keys)

    def forward_levels(self, x: Tensor) -> list[Tensor]:
        """The pyramid levels (the neck's outputs)."""
        feats, keys = self.features(x)
        levels, _ = as_maps(self.neck(self.neck_input(feats, keys)))
        return levels

    def forward(self, x: Tensor) -> Any:
        """Pyramid levels, or the head's outputs when there is a head."""
        feats, keys = self.features(x)
        levels, level_keys = as_maps(self.neck(self.neck_input(feats, keys)))
        if self.head is None:
            return levels
        return self.head(self.head_input(levels, level_keys))
