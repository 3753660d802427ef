"""One measured forward pass: build the model stage by stage on a device and run it once.

The backbone is built and run first; the neck is then built over the levels the backbone *really*
produced, so a wrong declaration becomes a finding instead of a crash deep in a conv. A caller that
analyses several models on one backbone (``compare``) passes a :class:`BackboneCache` it owns; no
run is ever kept behind a caller's back.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.analysis.measure.device import make_input
from fpnscope.analysis.measure.levels import finest_first, measure_levels
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import BuildError, ConfigError, FpnscopeError, HeadMismatch, LevelNotFound
from fpnscope.models.assemble import build_backbone, build_head, build_neck, select_levels
from fpnscope.models.model import PyramidModel
from fpnscope.reports.inspect import HeadOutput, Level
from fpnscope.spec import LevelSpec, RoIStage


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
    head_failure: HeadMismatch | LevelNotFound | None = None  # why the head was left out


def roi_stages(head: nn.Module | None) -> tuple[RoIStage, ...]:
    """The parts of a head that run per RoI (a two-stage head's box and mask heads), if any."""
    return tuple(getattr(head, "roi_stages", ())) if head is not None else ()


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
    return [lvl.spec for lvl in levels]


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


def _maybe_too_small(
    err: BuildError, hw: tuple[int, int], declared: list[LevelSpec] | None, stage: str = "backbone"
) -> FpnscopeError:
    """A forward that fails on an input smaller than the backbone's coarsest stride is a
    level-too-small problem; say so instead of quoting a kernel-size error alone."""
    coarsest = max((s.stride for s in declared), default=32) if declared else 32
    if min(hw) >= coarsest:
        return err
    return ConfigError(
        f"level-too-small: «input» {hw[0]}x{hw[1]} is smaller than the {stage}'s coarsest stride "
        f"({coarsest}), and its forward fails ({err.template.split(': ', 1)[-1]}); use an input of "
        f"at least {2 * coarsest} pixels a side",
        option="input",
    )


@dataclass
class BackboneRun:
    """The backbone's part of a measurement, reusable by any neck and head on top of it."""

    module: nn.Module
    declared: list[LevelSpec] | None
    x: Tensor
    feats: list[Tensor]  # finest first
    raw_levels: list[Level]
    levels: list[Level]
    counter: CostCounter


class BackboneCache:
    """Backbone runs on meta, kept for configurations that share backbone, input and folder (meta
    tensors cost no memory). Owned by the caller that analyses several models (``compare``,
    ``sweep``); dropped with it.

    >>> cache = BackboneCache(keep=2)
    >>> len(cache)
    0
    """

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._runs: OrderedDict[str, BackboneRun] = OrderedDict()

    def __len__(self) -> int:
        return len(self._runs)

    @staticmethod
    def key(cfg: PresetConfig, base_dir: Path | None) -> str:
        return json.dumps([cfg.backbone.model_dump(mode="json"), cfg.input.model_dump(mode="json"), str(base_dir)])

    def get(self, key: str) -> BackboneRun | None:
        run = self._runs.get(key)
        if run is not None:
            self._runs.move_to_end(key)
        return run

    def put(self, key: str, run: BackboneRun) -> None:
        self._runs[key] = run
        while len(self._runs) > self.keep:
            self._runs.popitem(last=False)


def run_backbone(
    cfg: PresetConfig, device: torch.device, base_dir: Path | None, cache: BackboneCache | None = None
) -> BackboneRun:
    """Build and run the backbone once; on meta, a ``cache`` given by the caller keeps the run."""
    key = BackboneCache.key(cfg, base_dir)
    cached = cache.get(key) if cache is not None and device.type == "meta" else None
    if cached is not None:
        return cached
    inp = cfg.input
    hw = (inp.height, inp.width)
    with torch.device(device):
        backbone, declared = _guarded(device, "building the backbone", build_backbone, cfg.backbone, base_dir, hw)
    backbone.eval()
    x = make_input(inp.batch, inp.channels, inp.height, inp.width, device)
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
    feats, levels = finest_first(feats, raw_levels)
    run = BackboneRun(backbone, declared, x, feats, raw_levels, levels, counter)
    if cache is not None and device.type == "meta":
        cache.put(key, run)
    return run


def measure(
    cfg: PresetConfig, device: torch.device, base_dir: Path | None = None, cache: BackboneCache | None = None
) -> Measurement:
    """Build and run ``cfg`` on ``device`` once, stage by stage, counting every op."""
    inp = cfg.input
    hw = (inp.height, inp.width)
    bb = run_backbone(cfg, device, base_dir, cache)
    backbone_levels, feats = bb.levels, bb.feats
    with CostCounter() as counter, torch.no_grad():
        counter.absorb(bb.counter)
        if counter.live is not None:
            counter.live.track([bb.x, *feats])  # alive while the neck runs
        indices = select_levels(
            cfg.neck.in_features, _specs(backbone_levels), "neck.in_features", cfg.neck.traits.default_levels
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
        head: nn.Module | None = None
        head_indices: list[int] | None = None
        head_outputs: list[HeadOutput] = []
        failure: HeadMismatch | LevelNotFound | None = None
        if cfg.head is not None:
            try:
                head_indices = select_levels(cfg.head.in_features, _specs(levels), "head.in_features")
                chosen = [_specs(levels)[i] for i in head_indices]
                with torch.device(device):
                    head = _guarded(device, "building the head", build_head, cfg.head, chosen)
            except (HeadMismatch, LevelNotFound) as err:
                failure = err
            if head is not None and head_indices is not None:
                head.eval()
                counter.watch(head, "head")
                counter.per_roi = tuple(f"head.{stage.module}" for stage in roi_stages(head))
                result = _guarded(device, "the head's forward", head, [outs[i] for i in head_indices])
                head_outputs = head_output_list(result, [s.name for s in chosen])
    return Measurement(
        model=PyramidModel(bb.module, neck, indices, head, head_indices),
        counter=counter,
        device=device,
        declared=bb.declared,
        raw_backbone_levels=bb.raw_levels,
        backbone_levels=backbone_levels,
        neck_inputs=[backbone_levels[i] for i in indices],
        levels=levels,
        neck_specs=neck_specs,
        head_outputs=head_outputs,
        head_failure=failure,
    )


def measure_with_fallback(
    cfg: PresetConfig, device: torch.device, base_dir: Path | None = None, cache: BackboneCache | None = None
) -> tuple[Measurement, str | None]:
    """``measure`` on ``device``; a model that cannot run on meta is measured on the CPU instead,
    with a note saying why."""
    try:
        return measure(cfg, device, base_dir, cache), None
    except MetaUnsupported as err:
        cpu = torch.device("cpu")
        return measure(cfg, cpu, base_dir), (
            f"could not run on the meta device ({err}); measured on cpu with real tensors"
        )
