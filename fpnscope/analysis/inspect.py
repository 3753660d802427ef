"""``inspect``: measure the model once (meta by default) and turn the measurement into a report.

Every input the report proposes is checked first: the analysis runs again at that input, and an
input that does not clear the findings it was meant to clear is not proposed.
"""

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
from fpnscope.analysis.sizes import object_sizes
from fpnscope.analysis.verify import verified
from fpnscope.config.loader import LoadedConfig
from fpnscope.config.schema import PresetConfig
from fpnscope.reports.inspect import STAGES, DeviceInfo, InputInfo, InspectReport, MemoryInfo, ModelInfo

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
    shape = f"{cfg.input.batch}×{cfg.input.channels}×{cfg.input.height}×{cfg.input.width}"

    def fits(needed: int) -> None:  # before a model that meta cannot run is measured on the CPU
        check_fits(needed, torch.device("cpu"), f"{loaded.name} at {shape} (at least, measured on meta until it stopped)")

    run, note = measure_with_fallback(cfg, target, base_dir, cache, fits)
    params = params_by_module(run.model)
    reached = STAGES if run.stopped_at is None else STAGES[: STAGES.index(run.stopped_at) + 1]
    report = InspectReport(
        model=ModelInfo(
            name=loaded.name,
            description=cfg.description,
            source=loaded.source.label,
            backbone=_label(cfg.backbone),
            neck=_label(cfg.neck),
            head=_label(cfg.head) if cfg.head is not None else None,
            parts_of=_label(cfg.model).removeprefix(" ") if cfg.model is not None else None,
            overridden=tuple(f"{o.key}={_short(o.value)}" for o in loaded.overrides if not o.key.startswith("input.")),
            from_file=loaded.source.path is not None,
        ),
        input=InputInfo(cfg.input.batch, cfg.input.channels, cfg.input.height, cfg.input.width),
        device=DeviceInfo(requested=device, used=str(run.device), note=note),
        backbone_levels=run.backbone_levels,
        levels=run.levels,
        stages={
            stage: stage_cost(run.counter, params, stage) if stage in reached or stage == "backbone" else None
            for stage in STAGES
            if stage != "head" or cfg.head is not None and run.head_failure is None
        },
        diagnostics=verified(cfg, diagnose(cfg, run), run, base_dir, cache),
        not_counted=not_counted(run.counter),
        modules=module_rows(run.model, run.counter, params, depth) if depth > 0 else [],
        head_outputs=run.head_outputs,
        memory=memory_info(run),
        level_costs=level_costs(
            run.counter,
            (cfg.input.height, cfg.input.width),
            max((lvl.stride for lvl in run.backbone_levels + run.levels), default=1),
            cfg.input.batch,
        ),
        stopped_at=run.stopped_at,
        notes=list(run.notes),
        roi_costs=roi_costs(run.counter, params, roi_stages(run.model.head), cfg.input.batch),
        object_sizes=object_sizes(cfg, run),
    )
    report.stages.setdefault("head", None)
    if flops_backend == "fvcore" and run.failure is None:
        from fpnscope.analysis.measure.crosscheck import fvcore_crosscheck

        report.crosscheck = fvcore_crosscheck(cfg, run, base_dir)
    return report


def memory_info(run: Measurement) -> MemoryInfo | None:
    """Parameter bytes and the activation peak tracked during ``run``."""
    if run.counter.live is None:
        return None
    where = "meta estimate" if run.device.type == "meta" else f"tracked on {run.device}"
    upto = f", up to the {run.stopped_at}'s failure" if run.stopped_at else ""
    return MemoryInfo(param_bytes(run.model), run.counter.live.peak, f"{where}, one inference pass{upto}")


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


def _short(value: object) -> str:
    text = str(value) if not isinstance(value, (list, tuple)) else "[" + ", ".join(map(str, value)) + "]"
    return text if len(text) <= 40 else text[:37] + "..."


def _label(stage: object) -> str:
    """A stage in a few words: its kind, and the model, target or part it names."""
    from fpnscope.config.code import target_title

    kind = getattr(stage, "kind", "")
    name = getattr(stage, "name", None) or getattr(stage, "path", None)
    target = getattr(stage, "target", None)
    name = name or (target_title(target) if target is not None else None)
    return f"{kind} {name}".strip() if name else str(kind)
