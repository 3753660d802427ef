"""Which object sizes each pyramid level serves: the head's rule for giving objects to levels, the
range of object sides each level receives under it, and the receptive field that sees them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def _side(value: float) -> float | None:
    """A side for JSON: None for an open end (infinity)."""
    return None if math.isinf(value) else round(value, 1)


@dataclass(frozen=True)
class LevelRange:
    """The objects one level receives under one rule: square sides from ``low`` to ``high`` pixels
    of the input (``high`` may be infinite); ``detail`` says how (the anchors, the range)."""

    level: str
    stride: int
    low: float
    high: float
    detail: str
    receptive_field: int | None  # of what predicts at this level (the head's output when measured)
    receptive_global: bool = False

    def serves(self, side: float) -> bool:
        return self.low <= side < self.high or (math.isinf(self.high) and side >= self.low)

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "stride": self.stride, "low": _side(self.low), "high": _side(self.high),
                "detail": self.detail, "receptive_field": self.receptive_field,
                "receptive_field_global": self.receptive_global}


@dataclass(frozen=True)
class Assignment:
    """One rule by which a head gives objects to levels, such as RetinaNet's anchors (IoU ≥ 0.5) or
    Faster R-CNN's RoI level rule. ``rule`` is its kind: ``anchors``, ``roi-level``,
    ``regression-range``, ``dfl-range`` (the largest box a level can regress) or ``dynamic``."""

    label: str
    rule: str
    summary: str  # the rule in one line, with its numbers
    levels: list[LevelRange]

    def serving(self, side: float) -> list[str]:
        """The levels that receive an object of ``side`` pixels."""
        return [lvl.level for lvl in self.levels if lvl.serves(side)]

    def gaps(self, low: float, high: float) -> list[tuple[float, float]]:
        """The parts of [low, high] that no level receives."""
        spans = sorted((max(lvl.low, low), min(lvl.high, high)) for lvl in self.levels)
        out, at = [], low
        for start, end in spans:
            if end <= start:
                continue
            if start > at:
                out.append((at, start))
            at = max(at, end)
        if at < high:
            out.append((at, high))
        return [(a, b) for a, b in out if b - a >= 0.5]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "rule": self.rule, "summary": self.summary,
                "levels": [lvl.to_dict() for lvl in self.levels]}


@dataclass(frozen=True)
class SizeRow:
    """One object side and the levels each rule gives it to."""

    side: int
    levels: dict[str, list[str]]  # assignment label -> levels

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "levels": {k: list(v) for k, v in self.levels.items()}}


@dataclass
class ObjectSizes:
    """The size analysis of a detection head: its rules, a table of object sides, and the range
    the configuration asks to be served (``head.object_sizes``), when it does."""

    head: str
    assignments: list[Assignment]
    rows: list[SizeRow]
    wanted: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"head": self.head, "assignments": [a.to_dict() for a in self.assignments],
                "rows": [r.to_dict() for r in self.rows], "wanted": list(self.wanted) if self.wanted else None,
                "notes": list(self.notes)}
