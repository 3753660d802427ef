"""Heads: each takes the pyramid's LevelSpecs and returns a module whose forward takes the list of
levels and returns a dict of named outputs (a tensor, or a list with one tensor per level)."""

from __future__ import annotations

from collections.abc import Sequence

from fpnscope.errors import HeadMismatch
from fpnscope.spec import LevelSpec


def shared_channels(in_specs: Sequence[LevelSpec], head: str) -> int:
    """The one width of every level, for a head whose weights are shared across levels.

    >>> shared_channels([LevelSpec("P3", 256, 8), LevelSpec("P4", 256, 16)], "retina")
    256
    """
    widths = {s.channels for s in in_specs}
    if len(widths) != 1:
        listed = ", ".join(f"{s.name} {s.channels}" for s in in_specs)
        raise HeadMismatch(
            f"head: a {head} head shares its weights across levels and needs the same channels on "
            f"every level, but the neck gives {listed}; use a neck with one out_channels "
            "(fpn, pafpn, bifpn, channel_mapper) or choose levels with head.in_features",
            head=head,
            levels=[(s.name, s.channels) for s in in_specs],
            reason="shared-channels",
        )
    return widths.pop()
