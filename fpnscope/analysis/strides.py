"""Stride and declaration checks: what a backbone says it produces against what it produced."""

from __future__ import annotations

from collections.abc import Sequence

from fpnscope.report import Finding, Level
from fpnscope.spec import LevelSpec, is_power_of_two


def check_declared(
    declared: Sequence[LevelSpec] | None, measured: Sequence[Level], source: str, keys: bool = False
) -> list[Finding]:
    """``declared-vs-measured`` (channels, number of levels) and ``stride-mismatch`` (strides).

    With ``keys`` the declaration is the YAML's ``backbone.channels`` / ``backbone.strides``: the
    messages name the entry and the fix rewrites the list.

    >>> lvl = Level("C3", (1, 512, 100, 167), 8, 512)
    >>> [f.code for f in check_declared([LevelSpec("C3", 256, 16)], [lvl], "timm feature_info")]
    ['declared-vs-measured', 'stride-mismatch']
    >>> (f, _) = check_declared([LevelSpec("C3", 256, 8), LevelSpec("C4", 1024, 16)],
    ...                         [lvl, Level("C4", (1, 1024, 50, 84), 16, 1024)], "", keys=True) + [None]
    >>> f.message, f.fix
    ('backbone.channels[0] says 256 but C3 has 512 channels', {'backbone': {'channels': [512, 1024]}})
    """
    if declared is None:
        return []
    if len(declared) != len(measured):
        return [
            Finding(
                "error",
                "declared-vs-measured",
                None,
                f"the backbone declares {len(declared)} levels ({source}) but returns {len(measured)}",
                "make the declaration list one entry per returned map; fpnscope uses the measured levels",
            )
        ]
    findings = []
    for i, (want, got) in enumerate(zip(declared, measured)):
        if want.channels != got.channels:
            findings.append(
                Finding(
                    "error",
                    "declared-vs-measured",
                    got.name,
                    f"backbone.channels[{i}] says {want.channels} but {got.name} has {got.channels} channels"
                    if keys else
                    f"level {i} ({got.name}) is declared with {want.channels} channels ({source}) but has {got.channels}",
                    f"declare {got.channels} channels for {got.name}; fpnscope uses the measured channels",
                    {"backbone": {"channels": [lvl.channels for lvl in measured]}} if keys else None,
                )
            )
        if want.stride != got.stride:
            findings.append(
                Finding(
                    "error",
                    "stride-mismatch",
                    got.name,
                    (f"backbone.strides[{i}] says {want.stride} but {got.name} measures stride {got.stride}"
                     if keys else
                     f"level {i} ({got.name}) is declared at stride {want.stride} ({source}) but measures stride "
                     f"{got.stride}") + f" ({got.shape[-2]}×{got.shape[-1]} from the input)",
                    f"declare stride {got.stride} for {got.name}; anchors and heads placed by the "
                    "declared stride would be off",
                    {"backbone": {"strides": [lvl.stride for lvl in measured]}} if keys else None,
                )
            )
    return findings


def check_order(measured: Sequence[Level]) -> list[Finding]:
    """Levels must come finest first with one level per stride; strides should be powers of two.

    >>> levels = [Level("C5", (1, 8, 2, 2), 32, 8), Level("C4", (1, 8, 4, 4), 16, 8)]
    >>> [f.message.split(":")[0] for f in check_order(levels)]
    ['the backbone returns its levels coarsest first']
    """
    findings = []
    strides = [lvl.stride for lvl in measured]
    if len(strides) > 1 and strides == sorted(strides, reverse=True) and strides != sorted(strides):
        findings.append(
            Finding(
                "error",
                "stride-mismatch",
                None,
                "the backbone returns its levels coarsest first: strides "
                + ", ".join(map(str, strides)),
                "return the maps finest first (reverse the list); this report sorted them to go on",
            )
        )
    elif strides != sorted(strides):
        findings.append(
            Finding(
                "error",
                "stride-mismatch",
                None,
                "the backbone's levels are out of order: strides " + ", ".join(map(str, strides)),
                "return the maps finest first; this report sorted them to go on",
            )
        )
    seen: dict[int, int] = {}
    for lvl in measured:
        seen[lvl.stride] = seen.get(lvl.stride, 0) + 1
    for stride, count in seen.items():
        if count > 1:
            findings.append(
                Finding(
                    "warning",
                    "stride-mismatch",
                    None,
                    f"{count} levels share stride {stride}; a pyramid expects one level per stride",
                    "pick one of them with neck.in_features (they are named with a suffix: _1, _2)",
                )
            )
    for lvl in measured:
        if not is_power_of_two(lvl.stride):
            findings.append(
                Finding(
                    "warning",
                    "stride-mismatch",
                    lvl.name,
                    f"stride {lvl.stride} is not a power of two; its level has no P-index and ×2 "
                    "up- and downsampling between levels cannot line up",
                    "use a backbone whose levels halve in size, or check its strides",
                )
            )
    return findings


def check_contiguous(inputs: Sequence[Level], neck_kind: str) -> list[Finding]:
    """Necks with stride-2 paths between levels (PAFPN, BiFPN, YOLOv8) need strides that double.

    >>> a, b = Level("C3", (1, 8, 8, 8), 8, 8), Level("C5", (1, 8, 2, 2), 32, 8)
    >>> check_contiguous([a, b], "pafpn")[0].message
    'pafpn goes from C3 (stride 8) to C5 (stride 32) in one stride-2 step'
    """
    findings = []
    for fine, coarse in zip(inputs, inputs[1:]):
        if coarse.stride != 2 * fine.stride:
            findings.append(
                Finding(
                    "error",
                    "stride-mismatch",
                    coarse.name,
                    f"{neck_kind} goes from {fine.name} (stride {fine.stride}) to {coarse.name} "
                    f"(stride {coarse.stride}) in one stride-2 step",
                    "choose neck.in_features whose strides double from one level to the next",
                )
            )
    return findings
