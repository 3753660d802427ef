"""Spatial alignment: where levels stop lining up by factors of two, and inputs too small to use.

This is the "size of tensor a (167) must match the size of tensor b (168)" class of problem:
an 800x1333 input gives C3 = 167 columns and C4 = 84, and 84 x 2 = 168.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from fpnscope.analysis.diagnose.prose import finding
from fpnscope.reports.findings import Finding, MinInput, PadInput
from fpnscope.reports.inspect import Level

_DIMS = ((2, "rows"), (3, "columns"))


def padded_input(height: int, width: int, multiple: int) -> tuple[int, int]:
    """The smallest input at least ``height`` x ``width`` whose sides are multiples of ``multiple``.

    >>> padded_input(800, 1333, 32)
    (800, 1344)
    """
    return math.ceil(height / multiple) * multiple, math.ceil(width / multiple) * multiple


def pad_fix(input_hw: tuple[int, int], multiple: int) -> PadInput:
    """Pad ``input_hw`` up to multiples of ``multiple``."""
    return PadInput(*padded_input(*input_hw, multiple), multiple)


def check_fusion(
    levels: Sequence[Level], input_hw: tuple[int, int], bottom_up: bool, out_names: Sequence[str]
) -> list[Finding]:
    """``fusion-misalignment`` at each point where a x2 resize between adjacent levels would not
    give the other level's size (top-down: 2 x coarse vs fine; bottom-up: ceil(fine / 2) vs coarse).

    ``out_names`` are the pyramid names of ``levels`` (where each fusion shows up).

    >>> c3, c4 = Level("C3", (1, 8, 100, 167), 8, 8), Level("C4", (1, 8, 50, 84), 16, 8)
    >>> check_fusion([c3, c4], (800, 1333), False, ["P3", "P4"])[0].message
    'upsampling C4 ×2 gives 168 columns but C3 has 167'
    """
    findings = []
    fix = pad_fix(input_hw, max((lvl.stride for lvl in levels), default=1))
    for (fine, coarse), name in zip(zip(levels, levels[1:]), out_names):
        if coarse.stride != 2 * fine.stride:
            continue
        problems = []
        for dim, label in _DIMS:
            f, c = fine.shape[dim], coarse.shape[dim]
            if 2 * c != f:
                problems.append({"path": "top-down", "dim": label, "fine": fine.name, "coarse": coarse.name,
                                 "got": 2 * c, "want": f})
            if bottom_up and math.ceil(f / 2) != c:
                problems.append({"path": "bottom-up", "dim": label, "fine": fine.name, "coarse": coarse.name,
                                 "got": math.ceil(f / 2), "want": c})
        if problems:
            findings.append(finding("fusion", "warning", name, {"problems": problems}, [fix]))
    return findings


def _rounding(size: int, stride: int, n: int) -> str:
    if size % stride == 0:
        return "exact"
    if n == math.ceil(size / stride):
        return "up"
    if n == size // stride:
        return "down"
    return "other"


def check_rounding(levels: Sequence[Level], input_hw: tuple[int, int]) -> list[Finding]:
    """Warn when some levels round their size up and others down (a floor-rounding backbone under
    a max-pool P6 that rounds up, say): their grids no longer nest.

    >>> c5 = Level("C5", (1, 8, 25, 41), 32, 8)  # 1333 / 32 = 41.7, rounded down
    >>> p6 = Level("P6", (1, 8, 13, 21), 64, 8)  # 41 / 2 = 20.5, rounded up
    >>> check_rounding([c5, p6], (800, 1333))[0].level
    'P6'
    """
    by_way: dict[str, list[Level]] = {}
    for lvl in levels:
        for dim, _ in _DIMS:
            way = _rounding(input_hw[dim - 2], lvl.stride, lvl.shape[dim])
            if way in ("up", "down"):
                by_way.setdefault(way, [])
                if lvl not in by_way[way]:
                    by_way[way].append(lvl)
    if len(by_way) < 2:
        return []
    up, down = by_way["up"], by_way["down"]
    minority = up if len(up) <= len(down) else down
    # Padding to a multiple of a level's stride makes it exact: enough for every level that rounds
    # the other way from the coarsest level (which is derived from the ones below it and keeps
    # rounding as it does).
    coarsest = max(up + down, key=lambda lvl: lvl.stride)
    other = down if coarsest in up else up
    facts = {"down": [lvl.name for lvl in down], "up": [lvl.name for lvl in up]}
    return [finding("rounding", "warning", minority[0].name, facts,
                    [pad_fix(input_hw, max(lvl.stride for lvl in other))])]


def check_small(levels: Sequence[Level], input_hw: tuple[int, int]) -> list[Finding]:
    """``level-too-small``: levels of one pixel (or none) along a side.

    >>> check_small([Level("P7", (1, 8, 1, 2), 128, 8)], (64, 200))[0].message
    'P7 is 1×2: its stride 128 is larger than the 64-pixel input height'
    >>> check_small([Level("P6", (1, 8, 1, 1), 64, 8)], (32, 48))[0].message
    'P6 is 1×1: its stride 64 is larger than the 32×48 input'
    """
    findings = []
    for lvl in levels:
        h, w = lvl.shape[2], lvl.shape[3]
        if min(h, w) > 1:
            continue
        side = 2 * lvl.stride
        fix = MinInput(side, max(input_hw[0], side), max(input_hw[1], side))
        facts = {"level": lvl.name, "size": [h, w], "stride": lvl.stride, "input": list(input_hw)}
        findings.append(finding("too-small", "error" if min(h, w) == 0 else "warning", lvl.name, facts, [fix]))
    return findings
