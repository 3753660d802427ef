"""The backbone's part of a measurement: build it (and the whole model, when the stages are parts of
one), run it once, measure its levels. A caller that analyses several models on one backbone
passes a :class:`BackboneCache` it owns; no run is ever kept behind a caller's back."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._python_dispatch import _disable_current_modes

from fpnscope.analysis.measure.build import build_on
from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.analysis.measure.device import make_input
from fpnscope.analysis.measure.forward import ForwardFailure, StageFailed, call_stage
from fpnscope.analysis.measure.geometry import explained_stride, explains, grown_stride, within_border
from fpnscope.analysis.measure.levels import finest_first, measure_levels
from fpnscope.analysis.measure.provenance import IMAGE
from fpnscope.analysis.measure.receptive import Field
from fpnscope.config.schema import PresetConfig
from fpnscope.models.assemble import build_backbone
from fpnscope.models.code import build_whole
from fpnscope.models.context import BuildContext
from fpnscope.models.io import as_maps
from fpnscope.reports.inspect import Level
from fpnscope.spec import LevelSpec


@dataclass
class BackboneRun:
    """The backbone's part of a measurement, reusable by any neck and head on top of it."""

    module: nn.Module
    declared: list[LevelSpec] | None
    x: Tensor
    feats: list[Tensor]  # finest first
    keys: list[str] | None  # the keys of a backbone that returns a dict, finest first
    order: list[int]  # the backbone's own order of its maps, finest first
    raw_levels: list[Level]
    levels: list[Level]
    counter: CostCounter
    whole: nn.Module | None = None  # the model the stages are parts of, if they are
    notes: list[str] = field(default_factory=list)
    failure: ForwardFailure | None = None  # the backbone's forward raised: no levels
    known: dict[tuple[int, int], int] = field(default_factory=dict)  # sizes whose stride their growth told


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
        model = cfg.model.model_dump(mode="json") if cfg.model is not None else None
        return json.dumps([cfg.backbone.model_dump(mode="json"), model, cfg.input.model_dump(mode="json"), str(base_dir)])

    def get(self, key: str) -> BackboneRun | None:
        run = self._runs.get(key)
        if run is not None:
            self._runs.move_to_end(key)
        return run

    def put(self, key: str, run: BackboneRun) -> None:
        self._runs[key] = run
        while len(self._runs) > self.keep:
            self._runs.popitem(last=False)


def keyed(levels: list[Level], keys: list[str] | None) -> list[Level]:
    """Levels with the keys their stage's dict gave them."""
    return levels if keys is None else [replace(lvl, key=key) for lvl, key in zip(levels, keys)]


def _sizes(maps: list[Any]) -> list[tuple[int, int]]:
    return [(int(m.shape[-2]), int(m.shape[-1])) for m in maps if isinstance(m, Tensor) and m.dim() == 4]


def _strides_by_growth(
    backbone: nn.Module, x: Tensor, raw: list[Any], declared: list[int] | None, hw: tuple[int, int]
) -> dict[tuple[int, int], int]:
    """Strides of the levels whose size no stride explains by rounding (unpadded convolutions lose
    border pixels: Inception at 299 gives 35 at stride 8): from how each level grows when the input
    grows by a whole number of every stride. A model that takes one input size only keeps its
    declared stride when that explains the size within the border's loss."""
    sizes = _sizes(raw)
    odd = [i for i, size in enumerate(sizes) if (explains(hw, size, declared[i]) if declared else
                                                  explained_stride(hw, size) is not None) is False]
    if not odd:
        return {}
    step = max([*(declared or []), 32])
    step = 1 << (step - 1).bit_length()  # a power of two: a whole number of every power-of-two stride
    bigger = x.new_empty(x.shape[0], x.shape[1], hw[0] + step, hw[1] + step)
    try:
        with torch.no_grad(), _disable_current_modes():  # a probe: neither cost nor memory of the analysis
            grown = _sizes(as_maps(backbone(bigger))[0])
    except Exception:
        grown = []
    known = {}
    for i in odd:
        stride = grown_stride(sizes[i], grown[i], (step, step)) if len(grown) == len(sizes) else None
        if stride is None and declared and within_border(hw, sizes[i], declared[i]):
            stride = declared[i]
        if stride is not None:
            known[sizes[i]] = stride
    return known


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
    notes: list[str] = []
    whole: Any = None
    if cfg.model is not None:
        whole, note = build_on(device, "the model", build_whole, cfg.model, BuildContext(hw, base_dir))
        notes += [note] if note else []
        whole.eval()
    (backbone, declared), note = build_on(device, "the backbone", build_backbone, cfg.backbone, base_dir, hw, whole)
    notes += [note] if note else []
    backbone.eval()
    x = make_input(inp.batch, inp.channels, inp.height, inp.width, device)
    modules = {f"backbone.{n}" if n else "backbone": m for n, m in backbone.named_modules()}
    failure = None
    with CostCounter() as counter, torch.no_grad():
        counter.watch(backbone, "backbone")
        if counter.live is not None:
            counter.live.track(x)  # the input batch is live memory too
        counter.tag(x, IMAGE)
        counter.fields.seed(x, Field.pixel())
        try:
            raw, keys = as_maps(call_stage("backbone", backbone, x, counter, device, hw, modules))
        except StageFailed as stopped:
            raw, keys, failure = [], None, stopped.failure
    strides = [d.stride for d in declared] if declared and len(declared) == len(raw) else None
    known = _strides_by_growth(backbone, x, raw, strides, hw)
    raw_levels = keyed(measure_levels(raw, hw, "C", stage="backbone", declared=strides, known=known,
                                      fields=[counter.fields.of(m) for m in raw]), keys)
    order = sorted(range(len(raw_levels)), key=lambda i: raw_levels[i].stride)
    feats, levels = finest_first(raw, raw_levels)
    sorted_keys = [keys[i] for i in order] if keys is not None else None
    run = BackboneRun(backbone, declared, x, feats, sorted_keys, order, raw_levels, levels, counter, whole, notes, failure,
                      known)
    if cache is not None and device.type == "meta" and failure is None:
        cache.put(key, run)
    return run
