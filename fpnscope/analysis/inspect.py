"""``inspect``: measure the model once (meta by default) and turn the measurement into a report."""

from __future__ import annotations

from pathlib import Path

import torch

from fpnscope.analysis.diagnose import diagnose
from fpnscope.analysis.measure.costs import (
    level_costs,
    module_rows,
    not_counted,
    params_by_module,
    roi_costs,
    stage_cost,
)
from fpnscope.analysis.measure.device import resolve_device
from fpnscope.analysis.measure.memory import check_fits, param_bytes
from fpnscope.analysis.measure.run import (
    BackboneCache,
    Measurement,
    MetaUnsupported,
    measure,
    measure_with_fallback,
    roi_stages,
)
from fpnscope.config.loader import LoadedConfig
from fpnscope.config.schema import PresetConfig
from fpnscope.reports.inspect import DeviceInfo, InputInfo, InspectReport, MemoryInfo, ModelInfo

__all__ = ["inspect_model", "memory_info", "refuse_if_too_big"]


def inspect_model(
    loaded: LoadedConfig,
    device: str = "meta",
    depth: int = 0,
    flops_backend: str = "torch",
    cache: BackboneCache | None = None,
) -> InspectReport:
    """The full ``inspect`` report of a loaded configuration.

    >>> from fpnscope.config.loader import load_config
    >>> report = inspect_model(load_config("synthetic_fpn"))
    >>> [lvl.name for lvl in report.levels], report.stages["backbone"].params
    (['P2', 'P3', 'P4', 'P5'], 0)
    """
    cfg = loaded.config
    target = resolve_device(device)
    base_dir = loaded.source.base_dir
    if target.type != "meta":
        refuse_if_too_big(cfg, target, base_dir)
    run, note = measure_with_fallback(cfg, target, base_dir, cache)
    params = params_by_module(run.model)
    report = InspectReport(
        model=ModelInfo(
            name=loaded.name,
            description=cfg.description,
            source=loaded.source.label,
            backbone=_backbone_label(cfg),
            neck=cfg.neck.kind,
            head=cfg.head.kind if cfg.head is not None else None,
        ),
        input=InputInfo(cfg.input.batch, cfg.input.channels, cfg.input.height, cfg.input.width),
        device=DeviceInfo(requested=device, used=str(run.device), note=note),
        backbone_levels=run.backbone_levels,
        levels=run.levels,
        stages={
            "backbone": stage_cost(run.counter, params, "backbone"),
            "neck": stage_cost(run.counter, params, "neck"),
            "head": stage_cost(run.counter, params, "head") if run.model.head is not None else None,
        },
        diagnostics=diagnose(cfg, run),
        not_counted=not_counted(run.counter),
        modules=module_rows(run.model, run.counter, params, depth) if depth > 0 else [],
        head_outputs=run.head_outputs,
        memory=memory_info(run),
        level_costs=level_costs(
            run.counter,
            (cfg.input.height, cfg.input.width),
            max(lvl.stride for lvl in run.backbone_levels + run.levels),
            cfg.input.batch,
        ),
        roi_costs=roi_costs(run.counter, params, roi_stages(run.model.head), cfg.input.batch),
    )
    if flops_backend == "fvcore":
        from fpnscope.analysis.measure.crosscheck import fvcore_crosscheck

        report.crosscheck = fvcore_crosscheck(cfg, run, base_dir)
    return report


def memory_info(run: Measurement) -> MemoryInfo | None:
    """Parameter bytes and the activation peak tracked during ``run``."""
    if run.counter.live is None:
        return None
    where = "meta estimate" if run.device.type == "meta" else f"tracked on {run.device}"
    return MemoryInfo(param_bytes(run.model), run.counter.live.peak, f"{where}, one inference pass")


def refuse_if_too_big(cfg: PresetConfig, device: torch.device, base_dir: Path | None) -> None:
    """Estimate on meta first; refuse a real-device run that would not fit."""
    try:
        estimate = measure(cfg, torch.device("meta"), base_dir)
    except MetaUnsupported:
        return  # no estimate without meta; the real run will tell
    info = memory_info(estimate)
    if info is not None:
        inp = cfg.input
        check_fits(info.total_bytes, device, f"{cfg.name or 'this model'} at {inp.batch}×{inp.channels}×{inp.height}×{inp.width}")


def _backbone_label(cfg: PresetConfig) -> str:
    bb = cfg.backbone
    name = getattr(bb, "name", None) or getattr(bb, "target", None)
    return f"{bb.kind} {name}" if name else bb.kind
