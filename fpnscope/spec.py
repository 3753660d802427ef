"""The contract between stages: what a backbone, neck or head says it produces, and how a neck
moves maps between its levels.

Pure data and arithmetic, no torch, so every layer can use it freely.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

_LEVEL_RE = re.compile(r"^([A-Za-z]+)(\d+)$")


@dataclass(frozen=True)
class LevelSpec:
    """One feature map a stage produces.

    ``name`` is ``C<i>`` for backbone levels and ``P<i>`` for pyramid levels, where
    ``i = log2(stride)``; a stride that is not a power of two gets a name like ``Cs12``.

    >>> LevelSpec.of("C", channels=256, stride=4)
    LevelSpec(name='C2', channels=256, stride=4)
    """

    name: str
    channels: int
    stride: int

    @classmethod
    def of(cls, prefix: str, channels: int, stride: int) -> LevelSpec:
        """A spec whose name is derived from the stride."""
        return cls(level_name(prefix, stride), int(channels), int(stride))

    def renamed(self, prefix: str) -> LevelSpec:
        """The same level under another prefix (``C4`` -> ``P4``)."""
        return LevelSpec.of(prefix, self.channels, self.stride)


@dataclass(frozen=True)
class NeckTraits:
    """What a neck does between levels, which decides the alignment checks that apply to it.

    ``fuses``: which levels meet through ×2 resizes: ``none``, its ``inputs`` (an FPN), or ``all``
    its outputs (a BiFPN fuses its extra levels too). ``bottom_up``: a stride-2 path from each level
    to the next coarser one, so strides must double. ``default_levels``: how many of the coarsest
    backbone levels it reads when not told (``None``: all).

    >>> NeckTraits(fuses="inputs", bottom_up=True)
    NeckTraits(fuses='inputs', bottom_up=True, default_levels=None)
    """

    fuses: Literal["none", "inputs", "all"] = "none"
    bottom_up: bool = False
    default_levels: int | None = None


@dataclass(frozen=True)
class RoIStage:
    """A part of a head that runs once per RoI rather than over a level: its label, its module
    (relative to the head), how many RoIs per image it runs on, and the head option that sets it.

    Analysis reports these per RoI and at that count, apart from the per-level costs.

    >>> RoIStage("box head", "box_head", 1000, "proposals").rois_per_image
    1000
    """

    label: str
    module: str
    rois_per_image: int
    option: str


def is_power_of_two(n: int) -> bool:
    """True for 1, 2, 4, 8, ..."""
    return n > 0 and (n & (n - 1)) == 0


def level_name(prefix: str, stride: int) -> str:
    """``level_name("P", 16) == "P4"``; a non power of two stride gives ``"Ps12"``."""
    if is_power_of_two(stride):
        return f"{prefix}{int(math.log2(stride))}"
    return f"{prefix}s{stride}"


def stride_of_name(name: str) -> int | None:
    """The stride a level name stands for (``"C3"`` -> 8), or None if it is not of that form."""
    match = _LEVEL_RE.match(name)
    if not match:
        return None
    return 2 ** int(match.group(2))


def feature_size(size: int, stride: int, rounding: str = "ceil") -> int:
    """The size of a level of ``stride`` for an input of ``size`` (``ceil`` is what a conv stack does)."""
    return -(-size // stride) if rounding == "ceil" else size // stride


