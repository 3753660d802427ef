"""Declared against measured: findings that name the level, the key and the fix.

``diagnose`` runs every check on one measurement; the checks live beside it by subject
(``channels``, ``strides``, ``alignment``) and ``prose`` writes their sentences.
"""

from __future__ import annotations

from fpnscope.analysis.diagnose.alignment import check_fusion, check_rounding, check_small
from fpnscope.analysis.diagnose.channels import check_in_channels, check_neck_declared, head_mismatch
from fpnscope.analysis.diagnose.crash import crash_finding
from fpnscope.analysis.diagnose.inputs import one_input
from fpnscope.analysis.diagnose.sizes import check_sizes
from fpnscope.analysis.diagnose.strides import check_contiguous, check_declared, check_order
from fpnscope.analysis.measure.run import Measurement
from fpnscope.analysis.sizes import object_sizes
from fpnscope.config.schema import PresetConfig
from fpnscope.reports.findings import SEVERITY_ORDER, Finding

__all__ = ["check_neck_declared", "diagnose"]


def _declaration_source(cfg: PresetConfig) -> str:
    backbone = cfg.backbone
    if backbone.kind == "timm":
        return "timm's feature_info"
    if backbone.kind == "torchvision":
        return "torchvision's layer strides"
    if getattr(backbone, "channels", None) is not None:
        return "backbone.channels / backbone.strides"
    return "the module's own declaration"


def diagnose(cfg: PresetConfig, run: Measurement) -> list[Finding]:
    """Every alignment check on one measured forward pass, errors first."""
    hw = (cfg.input.height, cfg.input.width)
    neck, traits = cfg.neck, cfg.neck.traits
    if run.failure is not None and run.stopped_at == "backbone":  # nothing measured to check: the failure is it
        coarsest = max((s.stride for s in run.declared or ()), default=32)
        return [crash_finding(run.failure, hw, coarsest, cfg.backbone)]
    source = _declaration_source(cfg)
    findings = check_declared(run.declared, run.raw_backbone_levels, source, keys=source.startswith("backbone."))
    findings += check_order(run.raw_backbone_levels)
    findings += check_in_channels(neck.in_channels, run.neck_inputs)
    if traits.bottom_up:
        findings += check_contiguous(run.neck_inputs, neck.kind)
    if traits.fuses != "none":
        fused = run.neck_inputs if traits.fuses == "inputs" else run.levels
        findings += check_fusion(fused, hw, traits.bottom_up, [lvl.name for lvl in run.levels])
    findings += check_rounding([*run.neck_inputs, *run.levels], hw)
    findings += check_small([*run.backbone_levels, *run.levels], hw)
    if run.neck_specs is not None:
        findings += check_neck_declared(run.neck_specs, run.levels, neck.kind)
    if run.head_failure is not None:
        findings.append(head_mismatch(run.head_failure))
    findings += check_sizes(object_sizes(cfg, run))
    if run.failure is not None:
        stage = {"backbone": cfg.backbone, "neck": cfg.neck, "head": cfg.head}[run.failure.stage]
        coarsest = max((lvl.stride for lvl in run.backbone_levels), default=32)
        findings.append(crash_finding(run.failure, hw, coarsest, stage))
    return sorted(one_input(findings), key=lambda f: SEVERITY_ORDER[f.severity])
