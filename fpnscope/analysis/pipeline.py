"""``inspect``: build the model stage by stage on a device, run it once, and report.

The backbone is built and run first; the neck is then built over the levels the backbone *really*
produced, so a wrong declaration becomes a diagnostic instead of a crash deep in a conv.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from fpnscope.analysis.counter import CostCounter
from fpnscope.analysis.device import make_input, resolve_device
from fpnscope.analysis.diagnostics import diagnose, head_mismatch
from fpnscope.analysis.memory import check_fits, param_bytes
from fpnscope.analysis.flops import level_costs, module_rows, not_counted, params_by_module, stage_cost
from fpnscope.analysis.shapes import finest_first, measure_levels
from fpnscope.config.loader import LoadedConfig
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import BuildError, ConfigError, FpnscopeError, HeadMismatch, LevelNotFound
from fpnscope.models.assemble import build_backbone, build_head, build_neck, select_levels
from fpnscope.models.model import PyramidModel
from fpnscope.report import (
    DeviceInfo,
    Finding,
    HeadOutput,
    InputInfo,
    InspectReport,
    Level,
    MemoryInfo,
    ModelInfo,
)
from fpnscope.spec import LevelSpec


class MetaUnsupported(Exception):
    """The model cannot be built or run on the meta device."""


@dataclass
class Measurement:
    """One forward pass of the whole model, with its counter still holding the costs."""

    model: PyramidModel
    counter: CostCounter
    device: torch.device
    declared: list[LevelSpec] | None
    raw_backbone_levels: list[Level]  # in the order the backbone returned them
    backbone_levels: list[Level]  # finest first, names made unique
    neck_inputs: list[Level]
    levels: list[Level]
    neck_specs: list[LevelSpec]
    head_outputs: list[HeadOutput] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _guarded(device: torch.device, what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn``; on meta an unexpected failure means 'try real tensors', elsewhere it is reported."""
    try:
        return fn(*args)
    except FpnscopeError:
        raise
    except Exception as err:
        reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ")
        if device.type == "meta":
            raise MetaUnsupported(f"{what}: {reason}") from err
        raise BuildError(f"{what} failed on {device}: {reason}") from err


def _specs(levels: list[Level]) -> list[LevelSpec]:
    return [LevelSpec(lvl.name, lvl.channels, lvl.stride) for lvl in levels]


def head_output_list(out: Any, names: list[str]) -> list[HeadOutput]:
    """Name a head's outputs: ``{"cls": [t3, t4]}`` -> ``cls P3``, ``cls P4``; ``{"seg": t}`` -> ``seg``."""
    items = out.items() if isinstance(out, dict) else [("out", out)]
    result = []
    for key, value in items:
        if isinstance(value, Tensor):
            result.append(HeadOutput(key, tuple(int(d) for d in value.shape)))
        elif isinstance(value, (list, tuple)):
            for i, t in enumerate(value):
                label = names[i] if len(value) == len(names) else str(i)
                result.append(HeadOutput(f"{key} {label}", tuple(int(d) for d in t.shape)))
    return result


def measure(cfg: PresetConfig, device: torch.device, base_dir: Path | None = None) -> Measurement:
    """Build and run ``cfg`` on ``device`` once, stage by stage, counting every op."""
    inp = cfg.input
    hw = (inp.height, inp.width)
    with torch.device(device):
        backbone, declared = _guarded(device, "building the backbone", build_backbone, cfg.backbone, base_dir, hw)
    backbone.eval()
    x = make_input(inp.batch, inp.channels, inp.height, inp.width, device)
    findings: list[Finding] = []
    with CostCounter() as counter, torch.no_grad():
        counter.watch(backbone, "backbone")
        if counter.live is not None:
            counter.live.track(x)  # the input batch is live memory too
        try:
            feats: list[Tensor] = _guarded(device, "the backbone's forward", backbone, x)
        except BuildError as err:
            raise _maybe_too_small(err, hw, declared) from None
        raw_levels = measure_levels(
            feats, hw, "C", stage="backbone", declared=[d.stride for d in declared] if declared else None
        )
        feats, backbone_levels = finest_first(feats, raw_levels)
        indices = select_levels(
            cfg.neck.in_features, _specs(backbone_levels), "neck.in_features", cfg.neck.default_levels
        )
        with torch.device(device):
            neck, neck_specs = _guarded(
                device, "building the neck", build_neck, cfg.neck, [_specs(backbone_levels)[i] for i in indices]
            )
        neck.eval()
        counter.watch(neck, "neck")
        inputs = [feats[i] for i in indices]
        for i, tensor in zip(indices, inputs):
            counter.tag(tensor, backbone_levels[i].name)
        try:
            outs: list[Tensor] = _guarded(device, "the neck's forward", neck, inputs)
        except BuildError as err:
            raise _maybe_too_small(err, hw, neck_specs, "neck") from None
        order = {lvl.name: i for i, lvl in enumerate(backbone_levels)}
        sources = [sorted(counter.tags(t), key=lambda n: order.get(n, 0)) for t in outs]
        levels = measure_levels(outs, hw, "P", sources, stage="neck", declared=[d.stride for d in neck_specs])
        head, head_indices, head_outputs = None, None, []
        if cfg.head is not None:
            try:
                head_indices = select_levels(cfg.head.in_features, _specs(levels), "head.in_features")
                chosen = [_specs(levels)[i] for i in head_indices]
                with torch.device(device):
                    head = _guarded(device, "building the head", build_head, cfg.head, chosen)
            except (HeadMismatch, LevelNotFound) as err:
                findings.append(head_mismatch(str(err)))
            if head is not None:
                head.eval()
                counter.watch(head, "head")
                result = _guarded(device, "the head's forward", head, [outs[i] for i in head_indices])
                head_outputs = head_output_list(result, [s.name for s in chosen])
    model = PyramidModel(backbone, neck, indices, head, head_indices)
    return Measurement(
        model=model,
        counter=counter,
        device=device,
        declared=declared,
        raw_backbone_levels=raw_levels,
        backbone_levels=backbone_levels,
        neck_inputs=[backbone_levels[i] for i in indices],
        levels=levels,
        neck_specs=neck_specs,
        head_outputs=head_outputs,
        findings=findings,
    )


def measure_with_fallback(
    cfg: PresetConfig, device: torch.device, base_dir: Path | None = None
) -> tuple[Measurement, str | None]:
    """``measure`` on ``device``; a model that cannot run on meta is measured on the CPU instead,
    with a note saying why."""
    try:
        return measure(cfg, device, base_dir), None
    except MetaUnsupported as err:
        cpu = torch.device("cpu")
        return measure(cfg, cpu, base_dir), (
            f"could not run on the meta device ({err}); measured on cpu with real tensors"
        )


def inspect_model(
    loaded: LoadedConfig, device: str = "meta", depth: int = 0, flops_backend: str = "torch"
) -> InspectReport:
    """The full ``inspect`` report of a loaded configuration.

    >>> from fpnscope.config.loader import load_config
    >>> report = inspect_model(load_config("synthetic_fpn"))
    >>> [lvl.name for lvl in report.levels], report.stages["backbone"].params
    (['P2', 'P3', 'P4', 'P5'], 0)
    """
    cfg = loaded.config
    target = resolve_device(device)
    base_dir = None if loaded.source.bundled else loaded.source.path.parent
    if target.type != "meta":
        refuse_if_too_big(cfg, target, base_dir)
    run, note = measure_with_fallback(cfg, target, base_dir)
    params = params_by_module(run.model)
    report = InspectReport(
        model=ModelInfo(
            name=loaded.name,
            description=cfg.description,
            source=loaded.source.label if loaded.source.bundled else str(loaded.source.path),
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
    )
    if flops_backend == "fvcore":
        from fpnscope.analysis.crosscheck import fvcore_crosscheck

        report.crosscheck = fvcore_crosscheck(cfg, run, base_dir)
    return report


def _maybe_too_small(
    err: BuildError, hw: tuple[int, int], declared: list[LevelSpec] | None, stage: str = "backbone"
) -> FpnscopeError:
    """A forward that fails on an input smaller than the backbone's coarsest stride is a
    level-too-small problem; say so instead of quoting a kernel-size error alone."""
    coarsest = max((s.stride for s in declared), default=32) if declared else 32
    if min(hw) >= coarsest:
        return err
    return ConfigError(
        f"level-too-small: --input {hw[0]}x{hw[1]} is smaller than the {stage}'s coarsest stride "
        f"({coarsest}), and its forward fails ({str(err).split(': ', 1)[-1]}); use an input of "
        f"at least {2 * coarsest} pixels a side"
    )


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
