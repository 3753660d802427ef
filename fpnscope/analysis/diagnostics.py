"""Declared against measured: findings that name the level, the key and the fix.

``diagnose`` runs every check on one measurement; the checks themselves live in ``strides``
(declarations, order, contiguity) and ``alignment`` (x2 fusion, rounding, tiny levels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fpnscope.analysis.alignment import check_fusion, check_rounding, check_small, one_input
from fpnscope.analysis.strides import check_contiguous, check_declared, check_order
from fpnscope.config.schema import PresetConfig
from fpnscope.report import Finding, Level
from fpnscope.spec import LevelSpec

if TYPE_CHECKING:
    from fpnscope.analysis.pipeline import Measurement

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def check_in_channels(declared: str | Sequence[int], inputs: Sequence[Level]) -> list[Finding]:
    """``neck.in_channels`` given explicitly against the channels the backbone really produces.

    >>> lvl = Level("C5", (1, 2048, 25, 42), 32, 2048)
    >>> [f.message for f in check_in_channels([1024], [lvl])]
    ["neck.in_channels[0] says 1024 but the backbone's C5 has 2048 channels"]
    """
    if isinstance(declared, str):
        return []
    actual = [lvl.channels for lvl in inputs]
    fix = {"neck": {"in_channels": actual}}
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
        hint=(fix or "change the head or the neck so that they agree").replace("it gives", "the neck gives"),
    )


def _declaration_source(cfg: PresetConfig) -> str:
    backbone = cfg.backbone
    if backbone.kind == "timm":
        return "timm's feature_info"
    if backbone.kind == "torchvision":
        return "torchvision's layer strides"
    if getattr(backbone, "channels", None) is not None:
        return "backbone.channels / backbone.strides"
    return "the module's own declaration"


def check_neck_declared(declared: Sequence[LevelSpec], measured: Sequence[Level], kind: str) -> list[Finding]:
    """A neck's own output declaration against its outputs (a disagreement is a bug in the neck)."""
    return [
        Finding(
            "error",
            "declared-vs-measured",
            got.name,
            f"the {kind} neck declares {want.name} with {want.channels} channels at stride {want.stride} "
            f"but produced {got.channels} channels at stride {got.stride}",
            "if this is a bundled neck kind, please report it; the report shows the measured levels",
        )
        for want, got in zip(declared, measured)
        if (want.channels, want.stride) != (got.channels, got.stride)
    ]


def diagnose(cfg: PresetConfig, run: Measurement) -> list[Finding]:
    """Every alignment check on one measured forward pass, errors first."""
    hw = (cfg.input.height, cfg.input.width)
    neck = cfg.neck
    source = _declaration_source(cfg)
    findings = check_declared(run.declared, run.raw_backbone_levels, source, keys=source.startswith("backbone."))
    findings += check_order(run.raw_backbone_levels)
    findings += check_in_channels(neck.in_channels, run.neck_inputs)
    if neck.bottom_up:
        findings += check_contiguous(run.neck_inputs, neck.kind)
    if neck.fuses != "none":
        fused = run.neck_inputs if neck.fuses == "inputs" else run.levels
        findings += check_fusion(fused, hw, neck.bottom_up, [lvl.name for lvl in run.levels])
    findings += check_rounding([*run.neck_inputs, *run.levels], hw)
    findings += check_small([*run.backbone_levels, *run.levels], hw)
    findings += check_neck_declared(run.neck_specs, run.levels, neck.kind)
    findings += run.findings
    return sorted(one_input(findings), key=lambda f: SEVERITY_ORDER[f.severity])
