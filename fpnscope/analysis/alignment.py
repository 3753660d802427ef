"""Spatial alignment: where levels stop lining up by factors of two, and inputs too small to use.

This is the "size of tensor a (167) must match the size of tensor b (168)" class of problem:
an 800x1333 input gives C3 = 167 columns and C4 = 84, and 84 x 2 = 168.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from fpnscope.report import Finding, Level

_DIMS = ((2, "rows"), (3, "columns"))


def padded_input(height: int, width: int, multiple: int) -> tuple[int, int]:
    """The smallest input at least ``height`` x ``width`` whose sides are multiples of ``multiple``.

    >>> padded_input(800, 1333, 32)
    (800, 1344)
    """
    return math.ceil(height / multiple) * multiple, math.ceil(width / multiple) * multiple


def _pad_fix(input_hw: tuple[int, int], multiple: int) -> tuple[str, dict[str, Any]]:
    height, width = padded_input(*input_hw, multiple)
    return _pad_hint(height, width, multiple), {"input": {"height": height, "width": width}}


def _pad_hint(height: int, width: int, multiple: int) -> str:
    return f"pad the input to {height}x{width} (a multiple of {multiple}) and every level lines up"


_PAD_HINT = re.compile(r"pad the input to \d+x\d+ \(a multiple of (\d+)\) and every level lines up")


def one_input(findings: list[Finding]) -> list[Finding]:
    """Make every finding that fixes the input name the same one, the smallest that clears them
    all: the largest multiple any of them pads to, at least the largest size any of them asks for.

    >>> a = Finding("warning", "x", None, "", "pad the input to 800x1344 (a multiple of 32) and every "
    ...             "level lines up", {"input": {"height": 800, "width": 1344}})
    >>> b = Finding("warning", "y", None, "", "use at least 1024", {"input": {"height": 1024, "width": 1333}})
    >>> [f.fix["input"] for f in one_input([a, b])]
    [{'height': 1024, 'width': 1344}, {'height': 1024, 'width': 1344}]
    >>> one_input([a, b])[0].hint
    'pad the input to 1024x1344 (a multiple of 32) and every level lines up'
    """
    sized = [i for i, f in enumerate(findings) if f.fix and "input" in f.fix]
    if len(sized) < 2:
        return findings
    multiple = max((int(m.group(1)) for i in sized if (m := _PAD_HINT.search(findings[i].hint))), default=1)
    height = max(findings[i].fix["input"]["height"] for i in sized)  # type: ignore[index]
    width = max(findings[i].fix["input"]["width"] for i in sized)  # type: ignore[index]
    height, width = padded_input(height, width, multiple)
    out = list(findings)
    for i in sized:
        fix = {**out[i].fix, "input": {"height": height, "width": width}}  # type: ignore[dict-item]
        out[i] = replace(out[i], hint=_PAD_HINT.sub(_pad_hint(height, width, multiple), out[i].hint), fix=fix)
    return out


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
    multiple = max((lvl.stride for lvl in levels), default=1)
    hint, fix = _pad_fix(input_hw, multiple)
    for (fine, coarse), name in zip(zip(levels, levels[1:]), out_names):
        if coarse.stride != 2 * fine.stride:
            continue
        problems, clash = [], None
        for dim, label in _DIMS:
            f, c = fine.shape[dim], coarse.shape[dim]
            if 2 * c != f:
                problems.append(f"upsampling {coarse.name} ×2 gives {2 * c} {label} but {fine.name} has {f}")
                clash = clash or (f, 2 * c, "upsamples with scale_factor=2 (detectron2's FPN)")
            if bottom_up and math.ceil(f / 2) != c:
                problems.append(
                    f"a stride-2 step down from {fine.name} gives {math.ceil(f / 2)} {label} but "
                    f"{coarse.name} has {c}"
                )
                clash = clash or (c, math.ceil(f / 2), "adds a stride-2 conv's output without resizing")
        if problems:
            a, b, how = clash  # type: ignore[misc]
            findings.append(
                Finding(
                    "warning",
                    "fusion-misalignment",
                    name,
                    "; ".join(problems),
                    f"this runs (fpnscope's necks resize to the exact size) but code that {how} fails "
                    f"with 'The size of tensor a ({a}) must match the size of tensor b ({b})'; " + hint,
                    fix,
                )
            )
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
    hint, fix = _pad_fix(input_hw, max(lvl.stride for lvl in other))
    return [
        Finding(
            "warning",
            "fusion-misalignment",
            minority[0].name,
            f"levels are rounded differently: {', '.join(lvl.name for lvl in down)} round down, "
            f"{', '.join(lvl.name for lvl in up)} round up, so their grids do not nest "
            "(anchors and box coordinates drift by a pixel between them)",
            hint,
            fix,
        )
    ]


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
        sides = [f"{size}-pixel input {label}" for size, label in zip(input_hw, ("height", "width"))
                 if lvl.stride > size]
        if len(sides) == 2:
            sides = [f"{input_hw[0]}×{input_hw[1]} input"]
        message = f"{lvl.name} is {h}×{w}" + (f": its stride {lvl.stride} is larger than the {sides[0]}" if sides else "")
        findings.append(
            Finding(
                "error" if min(h, w) == 0 else "warning",
                "level-too-small",
                lvl.name,
                message,
                f"a level this small carries almost no spatial information; use an input of at "
                f"least {2 * lvl.stride} pixels a side, or fewer levels",
                {"input": {"height": max(input_hw[0], 2 * lvl.stride), "width": max(input_hw[1], 2 * lvl.stride)}},
            )
        )
    return findings
