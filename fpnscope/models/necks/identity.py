"""No neck: the chosen backbone levels go to the head as they are (UPerNet brings its own fusion)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from fpnscope.config.necks import IdentityNeck
from fpnscope.models.options import resolve_options
from fpnscope.spec import LevelSpec


class Identity(nn.Module):
    """Returns its input levels unchanged."""

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        return list(feats)


def build_identity(
    in_specs: Sequence[LevelSpec], options: IdentityNeck | None = None, **overrides: Any
) -> tuple[Identity, list[LevelSpec]]:
    """``C3`` in, ``P3`` out, same channels.

    >>> build_identity([LevelSpec("C3", 512, 8)])[1]
    [LevelSpec(name='P3', channels=512, stride=8)]
    """
    resolve_options(IdentityNeck, options, overrides)  # it has no options, but refuses unknown ones
    return Identity(), [s.renamed("P") for s in in_specs]
