"""One measured forward pass: build the model stage by stage on a device and run it once.

The backbone is built and run first; the neck is then built over the levels the backbone *really*
produced, so a wrong declaration becomes a finding instead of a crash deep in a conv. A stage
whose forward raises stops the measurement there: what ran is kept (levels, costs) with the
failure, and the report ends with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from fpnscope.analysis.measure.backbone import BackboneCache, BackboneRun, keyed, run_backbone
from fpnscope.analysis.measure.build import build_on
from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.analysis.measure.forward import ForwardFailure, MetaUnsupported, StageFailed, call_stage
from fpnscope.analysis.measure.levels import distinct, measure_levels
from fpnscope.analysis.measure.receptive import ReceptiveFields
from fpnscope.config.schema import PresetConfig
from fpnscope.errors import ConfigError, HeadMismatch, LevelNotFound
from fpnscope.models.assemble import build_head, build_neck, select_levels
from fpnscope.models.code import outside_stages
from fpnscope.models.context import BuildContext
from fpnscope.models.io import as_maps
from fpnscope.models.model import PyramidModel, StagePlan
from fpnscope.reports.inspect import HeadOutput, Level
from fpnscope.spec import LevelSpec, RoIStage

__all__ = ["BackboneCache", "BackboneRun", "Measurement", "MetaUnsupported", "measure", "measure_with_fallback",
           "roi_stages", "run_backbone"]


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
    neck_specs: list[LevelSpec] | None  # what the neck says it makes (None: a user's neck that does not say)
    head_outputs: list[HeadOutput] = field(default_factory=list)
    head_failure: HeadMismatch | LevelNotFound | None = None  # why the head was left out
    failure: ForwardFailure | None = None  # a stage's forward raised: the measurement stops there
    notes: list[str] = field(default_factory=list)  # how it was built, when not as asked
    whole: nn.Module | None = None  # the model the stages are parts of, if they are

    @property
    def plan(self) -> StagePlan:
        """How the measured model is wired, to build it again on another device."""
        model = self.model
        return StagePlan(tuple(lvl.spec for lvl in self.backbone_levels), tuple(model.neck_inputs),
                         tuple(lvl.spec for lvl in self.levels),
                         tuple(model.head_inputs) if model.head_inputs is not None else None,
                         tuple(model.order) if model.order is not None else None)

    @property
    def stopped_at(self) -> str | None:
        """The stage whose forward raised, if one did."""
        return self.failure.stage if self.failure is not None else None


def roi_stages(head: nn.Module | None) -> tuple[RoIStage, ...]:
    """The parts of a head that run per RoI (a two-stage head's box and mask heads), if any."""
    return tuple(getattr(head, "roi_stages", ())) if head is not None else ()


def head_output_list(out: Any, names: list[str], fields: ReceptiveFields | None = None) -> list[HeadOutput]:
    """Name a head's outputs: ``{"cls": [t3, t4]}`` -> ``cls P3``, ``cls P4``; ``{"seg": t}`` -> ``seg``."""
    items: Any = out.items() if isinstance(out, dict) else [("out", out)]
    if isinstance(out, (list, tuple)) and out and all(isinstance(v, (list, tuple)) and len(v) == len(names) for v in out):
        items = [(str(i), v) for i, v in enumerate(out)]  # (logits per level, boxes per level): torchvision's RPN head
    result = []

    def one(name: str, t: Tensor, key: str, level: str | None = None) -> HeadOutput:
        field = fields.of(t) if fields is not None else None
        return HeadOutput(name, tuple(int(d) for d in t.shape), field.pixels if field else None,
                          bool(field and field.whole), level, key)

    for key, value in items:
        if isinstance(value, Tensor):
            result.append(one(str(key), value, str(key)))
        elif isinstance(value, (list, tuple)):
            for i, t in enumerate(value):
                if isinstance(t, Tensor):
                    level = names[i] if len(value) == len(names) else None
                    result.append(one(f"{key} {level if level is not None else i}", t, str(key), level))
    return result


def _too_small(hw: tuple[int, int], specs: list[LevelSpec] | None, stage: str, why: str) -> ConfigError | None:
    """A forward that fails on an input smaller than the coarsest stride is a level-too-small
    problem; say so instead of quoting a kernel-size error alone."""
    coarsest = max((s.stride for s in specs), default=32) if specs else 32
    if min(hw) >= coarsest:
        return None
    return ConfigError(
        f"level-too-small: «input» {hw[0]}x{hw[1]} is smaller than the {stage}'s coarsest stride ({coarsest}), and "
        f"its forward fails ({why}); use an input of at least {2 * coarsest} pixels a side", option="input",
    )


def _stage(stage: str, model: PyramidModel, argument: Any, counter: CostCounter, device: torch.device,
           hw: tuple[int, int], specs: list[LevelSpec] | None) -> tuple[Any, ForwardFailure | None]:
    module = getattr(model, stage)
    modules = dict(model.named_modules())  # "backbone.x", "neck.lateral.0": as the counter names them
    try:
        return call_stage(stage, module, argument, counter, device, hw, modules), None
    except StageFailed as stopped:
        small = _too_small(hw, specs, stage, stopped.failure.error)
        if small is not None:
            raise small from None
        return None, stopped.failure
    except MetaUnsupported as err:
        small = _too_small(hw, specs, stage, str(err))
        if small is not None:
            raise small from None
        raise


def measure(
    cfg: PresetConfig, device: torch.device, base_dir: Path | None = None, cache: BackboneCache | None = None
) -> Measurement:
    """Build and run ``cfg`` on ``device`` once, stage by stage, counting every op."""
    hw = (cfg.input.height, cfg.input.width)
    bb = run_backbone(cfg, device, base_dir, cache)
    backbone_levels, feats = bb.levels, bb.feats
    notes = list(bb.notes)
    context = BuildContext(hw, base_dir, bb.whole)
    with CostCounter() as counter, torch.no_grad():
        counter.absorb(bb.counter)
        specs = [lvl.spec for lvl in backbone_levels]
        indices = select_levels(cfg.neck.in_features, specs, "neck.in_features", cfg.neck.traits.default_levels) if specs else []
        if bb.failure is None:
            (neck, neck_specs), note = build_on(device, "the neck", build_neck, cfg.neck, [specs[i] for i in indices],
                                                context)
            notes += [note] if note else []
        else:  # the backbone raised: there are no levels to build a neck over
            neck, neck_specs = nn.Identity(), None
        neck.eval()
        neck_names = [backbone_levels[i].name for i in indices]
        model = PyramidModel(bb.module, neck, indices, neck_form=getattr(cfg.neck, "inputs", "list"),
                             neck_names=neck_names, order=bb.order)
        done = Measurement(model, counter, device, bb.declared, bb.raw_levels, backbone_levels,
                           [backbone_levels[i] for i in indices], [], neck_specs, failure=bb.failure, notes=notes,
                           whole=bb.whole)
        if bb.whole is not None:  # what of the whole model no stage covers is not counted: say so
            paths = [str(getattr(s, "path", "")) for s in (cfg.backbone, cfg.neck, cfg.head)
                     if getattr(s, "kind", "") == "part"]
            left = outside_stages(bb.whole, paths)
            if left:
                notes.append("not in any stage, so not counted: " + ", ".join(f"{p} ({n:,} params)" for p, n in left))
        if bb.failure is not None:
            return done
        if counter.live is not None:
            counter.live.track([bb.x, *feats])  # alive while the neck runs
        counter.watch(neck, "neck")
        for i in indices:
            counter.tag(feats[i], backbone_levels[i].name)
            counter.fields.seed(feats[i], bb.counter.fields.of(feats[i]))
        out, done.failure = _stage("neck", model, model.neck_input(feats, bb.keys), counter, device, hw, neck_specs)
        if done.failure is not None:
            return done
        maps, keys = as_maps(out)
        order = {lvl.name: i for i, lvl in enumerate(backbone_levels)}
        sources = [sorted(counter.tags(t), key=lambda n: order.get(n, 0)) for t in maps]
        declared = [d.stride for d in neck_specs] if neck_specs else None
        done.levels = keyed(distinct(measure_levels(maps, hw, "P", sources, stage="neck", declared=declared,
                                                    known=bb.known, fields=[counter.fields.of(m) for m in maps])), keys)
        if cfg.head is not None:
            _run_head(cfg.head, done, maps, keys, counter, device, hw, context)
    return done


def _run_head(head_cfg: Any, done: Measurement, maps: list[Tensor], keys: list[str] | None, counter: CostCounter,
              device: torch.device, hw: tuple[int, int], context: BuildContext) -> None:
    """Build the head over the measured levels and run it; a head that cannot sit on them is a finding."""
    level_specs = [lvl.spec for lvl in done.levels]
    try:
        head_indices = select_levels(head_cfg.in_features, level_specs, "head.in_features")
        chosen = [level_specs[i] for i in head_indices]
        head, note = build_on(device, "the head", build_head, head_cfg, chosen, context)
    except (HeadMismatch, LevelNotFound) as err:
        done.head_failure = err
        return
    done.notes += [note] if note else []
    head.eval()
    done.model.head, done.model.head_inputs = head, head_indices
    done.model.head_form, done.model.head_names = getattr(head_cfg, "inputs", "list"), [s.name for s in chosen]
    counter.watch(head, "head")
    counter.per_roi = tuple(f"head.{stage.module}" for stage in roi_stages(head))
    result, done.failure = _stage("head", done.model, done.model.head_input(maps, keys), counter, device, hw, chosen)
    if done.failure is None:
        done.head_outputs = head_output_list(result, [s.name for s in chosen], counter.fields)


def measure_with_fallback(
    cfg: PresetConfig, device: torch.device, base_dir: Path | None = None, cache: BackboneCache | None = None,
    fits: Any = None,
) -> tuple[Measurement, str | None]:
    """``measure`` on ``device``; a model that cannot run on meta is measured on the CPU instead, with
    a note saying why, once ``fits(needed_bytes)`` (the memory check) let it."""
    try:
        return measure(cfg, device, base_dir, cache), None
    except MetaUnsupported as err:
        if fits is not None:
            fits(err.needed_bytes)
        cpu = torch.device("cpu")
        return measure(cfg, cpu, base_dir), f"could not run on the meta device ({err}); measured on cpu with real tensors"
