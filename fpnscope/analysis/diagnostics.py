"""Declared against measured: findings that name the level, the key and the fix."""

from __future__ import annotations

from collections.abc import Sequence

from fpnscope.report import Finding, Level


def check_in_channels(declared: str | Sequence[int], inputs: Sequence[Level]) -> list[Finding]:
    """``neck.in_channels`` given explicitly against the channels the backbone really produces.

    >>> lvl = Level("C5", (1, 2048, 25, 42), 32, 2048)
    >>> [f.message for f in check_in_channels([1024], [lvl])]
    ["neck.in_channels[0] says 1024 but the backbone's C5 has 2048 channels"]
    """
    if isinstance(declared, str):
        return []
    actual = [lvl.channels for lvl in inputs]
    fix = f"neck:\n  in_channels: [{', '.join(map(str, actual))}]   # or: auto"
    names = ", ".join(lvl.name for lvl in inputs)
    if len(declared) != len(actual):
        return [
            Finding(
                severity="error",
                code="channel-mismatch",
                level=None,
                message=f"neck.in_channels lists {len(declared)} levels but the neck reads "
                f"{len(actual)} ({names})",
                hint=f"write neck.in_channels: {actual}, or in_channels: auto",
                fix=fix,
            )
        ]
    return [
        Finding(
            severity="error",
            code="channel-mismatch",
            level=lvl.name,
            message=f"neck.in_channels[{i}] says {want} but the backbone's {lvl.name} has "
            f"{lvl.channels} channels",
            hint=f"set neck.in_channels[{i}] to {lvl.channels}, or in_channels: auto "
            "(this report uses the measured channels)",
            fix=fix,
        )
        for i, (want, lvl) in enumerate(zip(declared, inputs))
        if want != lvl.channels
    ]


def head_mismatch(message: str) -> Finding:
    """A head that cannot sit on the neck's levels: the report goes on without the head."""
    what, _, fix = message.partition("; ")
    return Finding(
        severity="error",
        code="head-mismatch",
        level=None,
        message=what.removeprefix("head: ") + " (the head was left out of this report)",
        hint=fix or "change the head or the neck so that they agree",
    )
