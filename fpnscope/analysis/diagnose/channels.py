"""Channel checks: a declared ``in_channels`` against the backbone's, a neck's declaration against
its outputs, and a head that cannot sit on the neck's levels."""

from __future__ import annotations

from collections.abc import Sequence

from fpnscope.analysis.diagnose.prose import finding
from fpnscope.errors import HeadMismatch, LevelNotFound
from fpnscope.reports.findings import Finding, SetKeys
from fpnscope.reports.inspect import Level
from fpnscope.spec import LevelSpec


def check_in_channels(declared: str | Sequence[int], inputs: Sequence[Level]) -> list[Finding]:
    """``neck.in_channels`` given explicitly against the channels the backbone really produces.

    >>> lvl = Level("C5", (1, 2048, 25, 42), 32, 2048)
    >>> [f.message for f in check_in_channels([1024], [lvl])]
    ["neck.in_channels[0] says 1024 but the backbone's C5 has 2048 channels"]
    """
    if isinstance(declared, str):
        return []
    actual = [lvl.channels for lvl in inputs]
    fix = SetKeys({"neck": {"in_channels": actual}})
    if len(declared) != len(actual):
        facts = {"declared": len(declared), "actual": actual, "levels": [lvl.name for lvl in inputs]}
        return [finding("in-channels-count", "error", None, facts, [fix])]
    return [
        finding("in-channels", "error", lvl.name,
                {"index": i, "declared": want, "level": lvl.name, "channels": lvl.channels}, [fix])
        for i, (want, lvl) in enumerate(zip(declared, inputs))
        if want != lvl.channels
    ]


def head_mismatch(failure: HeadMismatch | LevelNotFound) -> Finding:
    """A head that cannot sit on the neck's levels: the report goes on without the head."""
    if isinstance(failure, HeadMismatch):
        return finding("head-channels", "error", None, {"head": failure.head, "levels": failure.levels})
    return finding("head-levels", "error", None,
                   {"key": failure.key, "wanted": failure.wanted, "available": failure.available})


def check_neck_declared(declared: Sequence[LevelSpec], measured: Sequence[Level], kind: str) -> list[Finding]:
    """A neck's own output declaration against its outputs (a disagreement is a bug in the neck)."""
    return [
        finding("neck-declared", "error", got.name,
                {"kind": kind, "declared": {"name": want.name, "channels": want.channels, "stride": want.stride},
                 "measured": {"name": got.name, "channels": got.channels, "stride": got.stride}})
        for want, got in zip(declared, measured)
        if (want.channels, want.stride) != (got.channels, got.stride)
    ]
