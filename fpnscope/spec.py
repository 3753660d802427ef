"""The contract between stages: what a backbone, neck or head says it produces.

Pure data and arithmetic, no torch, so the CLI and the config layer can use it freely.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

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


def infer_stride(in_size: tuple[int, int], out_size: tuple[int, int]) -> int:
    """The integer stride that maps an input size to a feature size.

    A stride ``s`` explains a feature size ``h`` when ``h`` is ``floor(H / s)`` or ``ceil(H / s)``
    for both dimensions (convolutions round either way). Powers of two are preferred, then the
    integer nearest to the ratio.

    >>> infer_stride((800, 1333), (25, 42))
    32
    """
    (big_h, big_w), (h, w) = in_size, out_size
    if h <= 0 or w <= 0:
        return 0
    ratio = max(big_h / h, big_w / w)

    def explains(s: int) -> bool:
        return all(
            n in (size // s, -(-size // s)) for size, n in ((big_h, h), (big_w, w))
        )

    near = max(1, round(ratio))
    candidates = sorted({2 ** round(math.log2(max(ratio, 1))), near, near - 1, near + 1} - {0})
    powers = [s for s in candidates if is_power_of_two(s) and explains(s)]
    if powers:
        return powers[0]
    others = [s for s in candidates if explains(s)]
    return min(others, key=lambda s: abs(s - ratio)) if others else near


def feature_size(size: int, stride: int, rounding: str = "ceil") -> int:
    """The size of a level of ``stride`` for an input of ``size`` (``ceil`` is what a conv stack does)."""
    return -(-size // stride) if rounding == "ceil" else size // stride
