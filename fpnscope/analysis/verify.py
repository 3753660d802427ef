"""Checking a proposed input before it is printed.

The analysis runs again at the input the findings propose; if that does not clear them (a
valid-padding backbone, whose levels are never exact halves of each other at a multiple of the
stride), the sizes within one period of the coarsest stride are tried on the backbone alone, side
by side, and the first that lines the fused levels up is checked in full. When none does, or the
model takes one input size only, no input is proposed and the findings say why. The input given
is never proposed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from torch.utils._python_dispatch import _disable_current_modes

from fpnscope.analysis.diagnose import diagnose
from fpnscope.analysis.diagnose.prose import rewrite
from fpnscope.analysis.measure.forward import ForwardFailure
from fpnscope.analysis.measure.run import BackboneCache, Measurement, MetaUnsupported, measure
from fpnscope.config.schema import PresetConfig
from fpnscope.models.io import as_maps
from fpnscope.reports.findings import INPUT_FIXES, BuildWith, Finding, Fix, SetInput, SetKeys

Probe = Callable[[int, int], list[tuple[int, int]] | None]  # backbone level sizes at an input, None: it fails


def _at(cfg: PresetConfig, height: int, width: int) -> PresetConfig:
    return cfg.model_copy(update={"input": cfg.input.model_copy(update={"height": height, "width": width})})


def _same(a: ForwardFailure, b: ForwardFailure) -> bool:
    return (a.stage, a.module, a.op.op if a.op else None) == (b.stage, b.module, b.op.op if b.op else None)


def clears(cfg: PresetConfig, size: tuple[int, int], base_dir: Path | None, cache: BackboneCache | None,
           failed: ForwardFailure | None = None) -> tuple[bool, bool]:
    """Whether the analysis at ``size`` leaves no finding that asks for another input, and whether
    the forward runs there. A head's failure the given input had too (``failed``: a head that
    reshapes for one size) does not stop the levels before it from being checked."""
    again = _at(cfg, *size)
    try:
        run = measure(again, torch.device("meta"), base_dir, cache)
    except MetaUnsupported:
        return False, False  # cannot be checked on meta: not proposed
    if run.failure is not None and (failed is None or not _same(run.failure, failed)):
        return False, False
    left = [f for f in diagnose(again, run) if any(isinstance(x, INPUT_FIXES) for x in f.fixes)]
    return not [f for f in left if f.code != "forward-error"], run.failure is None


def _kept(findings: list[Finding], runs: bool, size: tuple[int, int] | None = None) -> list[Finding]:
    """The findings with the input ``size`` proposed (the one first proposed when None); a crash's
    input only when the forward runs at it."""
    out = []
    for f in findings:
        if f.code == "forward-error" and not runs:
            f = rewrite(f, [x for x in f.fixes if not isinstance(x, INPUT_FIXES)])
        elif size is not None:
            f = rewrite(f, [_replace_input(x, size) for x in f.fixes])
        out.append(f)
    return out


def probe_of(run: Measurement, channels: int) -> Probe:
    """The backbone's level sizes at another input (finest first), from the measured module."""
    backbone, order, device = run.model.backbone, run.model.order, run.device

    def sizes(height: int, width: int) -> list[tuple[int, int]] | None:
        x = torch.empty(1, channels, height, width, device=device)
        try:
            with torch.no_grad(), _disable_current_modes():
                maps, _ = as_maps(backbone(x))
        except Exception:
            return None
        found = [(int(m.shape[-2]), int(m.shape[-1])) for m in maps]
        return [found[i] for i in order] if order is not None and len(order) == len(found) else found

    return sizes


def _lines_up(sizes: list[int], extra: int, bottom_up: bool) -> bool:
    """Consecutive levels are exact halves (×2 up gives the finer size; a stride-2 step down, the
    coarser); extra levels made by halving (rounded up) are included."""
    chain = list(sizes)
    for _ in range(extra):
        chain.append(math.ceil(chain[-1] / 2))
    for fine, coarse in zip(chain, chain[1:]):
        if 2 * coarse != fine or (bottom_up and math.ceil(fine / 2) != coarse):
            return False
    return True


def search(probe: Probe, given: tuple[int, int], start: tuple[int, int], period: int, fused: list[int],
           extra: int, bottom_up: bool) -> tuple[int, int] | None | str:
    """The smallest input from ``start`` (per side, within one ``period``) whose fused levels line
    up, never ``given``; ``"fixed"`` when the backbone runs at no other size, None when none lines up."""
    found: list[int] = []
    for side in (0, 1):
        hit, ran = None, False  # per side: a model checking one side's size fails on every other
        for value in range(start[side], start[side] + period):
            size = (value, given[1]) if side == 0 else (given[0], value)
            if size == given:
                continue
            levels = probe(*size)
            if levels is None:
                continue
            ran = True
            if _lines_up([levels[i][side] for i in fused if i < len(levels)], extra, bottom_up):
                hit = value
                break
        if hit is None:
            return None if ran else "fixed"
        found.append(hit)
    return found[0], found[1]


def _replace_input(fix: Fix, size: tuple[int, int]) -> Fix:
    return SetInput(size[0], size[1]) if isinstance(fix, INPUT_FIXES) else fix


def _auto(cfg: PresetConfig) -> PresetConfig:
    """``cfg`` with timm building the backbone for the analysed input (``img_size: auto``)."""
    return cfg.model_copy(update={"backbone": cfg.backbone.model_copy(update={"img_size": "auto"})})


def _rebuilt(cfg: PresetConfig, base_dir: Path | None) -> bool:
    """Whether the model runs once timm builds it for the analysed input (``img_size: auto``)."""
    try:
        return measure(_auto(cfg), torch.device("meta"), base_dir).failure is None
    except Exception:
        return False


def _img_size(f: Finding) -> list[Fix]:
    return [x for x in f.fixes if isinstance(x, SetKeys) and "img_size" in x.keys.get("backbone", {})]


def _checked_keys(cfg: PresetConfig, findings: list[Finding], base_dir: Path | None) -> list[Finding]:
    """A proposed ``img_size: auto`` is kept only when the model then runs: at the input given, or
    at the input the finding also proposes (MaxViT at 800x1333 needs both: its windows want a
    multiple of 32, and timm built it for 256); then the two go together."""
    out = []
    for f in findings:
        keys = _img_size(f)
        if keys and not _rebuilt(cfg, base_dir):
            pads = [x for x in f.fixes if isinstance(x, INPUT_FIXES)]
            if pads and _rebuilt(_at(cfg, pads[0].height, pads[0].width), base_dir):
                f = rewrite(replace(f, facts={**f.facts, "together": True}), f.fixes)
            else:
                f = rewrite(f, [x for x in f.fixes if x not in keys])
        out.append(f)
    return out


def _runs_with(run: Measurement, cfg: PresetConfig, fix: BuildWith) -> bool:
    """Whether the failing stage's forward runs on meta once the layer is built as ``fix`` says
    (its attributes set for the run, and set back after it)."""
    if run.device.type != "meta" or run.failure is None:
        return False  # checking on a real device would compute: not proposed
    try:
        layers = [run.model.get_submodule(path) for path in fix.layers]
    except AttributeError:
        return False
    changes = dict(fix.changes)
    if "padding" in changes:
        pad = int(changes["padding"])
        changes = {"padding": (pad, pad), "_reversed_padding_repeated_twice": [pad] * 4}
    before = [{key: getattr(layer, key) for key in changes} for layer in layers]
    x = torch.empty(cfg.input.batch, cfg.input.channels, cfg.input.height, cfg.input.width, device=run.device)
    forward = {"backbone": run.model.features, "neck": run.model.forward_levels}.get(run.failure.stage, run.model)
    try:
        for layer in layers:
            for key, value in changes.items():
                setattr(layer, key, value)
        with torch.no_grad(), _disable_current_modes():
            forward(x)
        return True
    except Exception:
        return False
    finally:
        for layer, values in zip(layers, before):
            for key, value in values.items():
                setattr(layer, key, value)


def _checked_builds(cfg: PresetConfig, findings: list[Finding], run: Measurement) -> list[Finding]:
    """A layer built another way is proposed only when the forward then runs."""
    out = []
    for f in findings:
        builds = [x for x in f.fixes if isinstance(x, BuildWith)]
        failed = [x for x in builds if not _runs_with(run, cfg, x)]
        out.append(rewrite(f, [x for x in f.fixes if x not in failed]) if failed else f)
    return out


def verified(cfg: PresetConfig, findings: list[Finding], run: Measurement, base_dir: Path | None,
             cache: BackboneCache | None = None) -> list[Finding]:
    """The findings with their proposals checked: an input kept, replaced by one that works, or
    withdrawn; ``img_size: auto`` kept only when it lets the model run; a layer built another way
    kept only when the forward then runs."""
    findings = _checked_builds(cfg, _checked_keys(cfg, findings, base_dir), run)
    proposals = [f for finding in findings for f in finding.fixes if isinstance(f, INPUT_FIXES)]
    if not proposals:
        return findings
    given = (cfg.input.height, cfg.input.width)
    first = (max(f.height for f in proposals), max(f.width for f in proposals))
    if any(_img_size(f) for f in findings):  # an input is checked with the backbone built for it
        cfg = _auto(cfg)
    # a head that fails at every input does not make the neck's levels unfixable (its own finding
    # then proposes no input); a failure before the levels must go for an input to be proposed
    head_failure = run.failure if run.failure is not None and run.failure.stage == "head" else None
    if first != given:
        aligned, runs = clears(cfg, first, base_dir, cache, head_failure)
        if aligned:
            return findings if runs else _kept(findings, runs)
    traits = cfg.neck.traits
    fused = [lvl.stride for lvl in run.neck_inputs]
    indices = [i for i, lvl in enumerate(run.backbone_levels) if lvl in run.neck_inputs]
    period = max(fused, default=32)
    extra = max(0, len(run.levels) - len(run.neck_inputs)) if traits.fuses == "all" else 0
    found = search(probe_of(run, cfg.input.channels), given, (max(first[0], given[0]), max(first[1], given[1])), period, indices, extra,
                   traits.bottom_up) if traits.fuses != "none" else None
    if isinstance(found, tuple) and found != given:
        aligned, runs = clears(cfg, found, base_dir, cache, head_failure)
        if aligned:
            return _kept(findings, runs, found)
    why = (f"the model runs at {given[0]}x{given[1]} only, so no other input is proposed" if found == "fixed" else
           "no input lines every level up (checked: each size within one period of the coarsest stride)")
    return [rewrite(replace(f, facts={**f.facts, "unfixable_by_input": why}),
                    [x for x in f.fixes if not isinstance(x, INPUT_FIXES)]) for f in findings]
