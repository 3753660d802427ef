"""Stride and declaration checks: what a backbone says it produces against what it produced."""

from __future__ import annotations

from collections.abc import Sequence

from fpnscope.analysis.diagnose.prose import finding
from fpnscope.reports.findings import Finding, SetKeys
from fpnscope.reports.inspect import Level
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
        return [finding("declared-count", "error", None,
                        {"declared": len(declared), "measured": len(measured), "source": source})]
    findings = []
    for i, (want, got) in enumerate(zip(declared, measured)):
        facts = {"index": i, "level": got.name, "source": source, "in_yaml": keys}
        if want.channels != got.channels:
            fix = [SetKeys({"backbone": {"channels": [lvl.channels for lvl in measured]}})] if keys else []
            findings.append(finding("declared-channels", "error", got.name,
                                    {**facts, "declared": want.channels, "channels": got.channels}, fix))
        if want.stride != got.stride:
            fix = [SetKeys({"backbone": {"strides": [lvl.stride for lvl in measured]}})] if keys else []
            findings.append(finding("declared-stride", "error", got.name,
                                    {**facts, "declared": want.stride, "stride": got.stride,
                                     "size": [got.shape[-2], got.shape[-1]]}, fix))
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
        findings.append(finding("reversed", "error", None, {"strides": strides}))
    elif strides != sorted(strides):
        findings.append(finding("unsorted", "error", None, {"strides": strides}))
    seen: dict[int, int] = {}
    for lvl in measured:
        seen[lvl.stride] = seen.get(lvl.stride, 0) + 1
    for stride, count in seen.items():
        if count > 1:
            findings.append(finding("shared-stride", "warning", None, {"stride": stride, "count": count}))
    odd: dict[int, list[str]] = {}
    for lvl in measured:
        if not is_power_of_two(lvl.stride):
            odd.setdefault(lvl.stride, []).append(lvl.name)
    for stride, names in odd.items():  # said once per stride, however many levels share it
        findings.append(finding("odd-stride", "warning", names[0] if len(names) == 1 else None,
                                {"stride": stride, "levels": names}))
    return findings


def check_contiguous(inputs: Sequence[Level], neck_kind: str) -> list[Finding]:
    """Necks with stride-2 paths between levels (PAFPN, BiFPN, YOLOv8) need strides that double.

    >>> a, b = Level("C3", (1, 8, 8, 8), 8, 8), Level("C5", (1, 8, 2, 2), 32, 8)
    >>> check_contiguous([a, b], "pafpn")[0].message
    'pafpn goes from C3 (stride 8) to C5 (stride 32) in one stride-2 step'
    """
    return [
        finding("not-doubling", "error", coarse.name,
                {"neck": neck_kind, "fine": fine.name, "fine_stride": fine.stride, "coarse": coarse.name,
                 "coarse_stride": coarse.stride})
        for fine, coarse in zip(inputs, inputs[1:])
        if coarse.stride != 2 * fine.stride
    ]
