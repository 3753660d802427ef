"""Which objects land on which level: each detection head's rule for giving boxes to levels, turned
into the range of object sides every level receives, beside the receptive field that sees them.

Sides are of square boxes in input pixels. Anchors take a box they overlap by the matcher's IoU;
a square box of side s and a concentric square anchor of side a overlap by (min/max)², so an anchor
takes sides from a·√t to a/√t. The RoI heads use FPN's level rule, FCOS its regression ranges
(a box's largest distance to a location, which is half its side at its centre), YOLOv8 the
distances its DFL bins can express; YOLOX assigns by cost, not by size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fpnscope.analysis.measure.run import Measurement
from fpnscope.config.schema import PresetConfig
from fpnscope.reports.inspect import Level
from fpnscope.reports.sizes import Assignment, LevelRange, ObjectSizes, SizeRow

__all__ = ["object_sizes"]

INF = math.inf


def _num(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or float(value).is_integer() else f"{value:.2g}"


def _joined(run: Measurement) -> bool:
    """Whether the head's outputs are not per level: each joins every level (torchvision's heads)."""
    return bool(run.head_outputs) and not any(h.level is not None for h in run.head_outputs)


def _fields(run: Measurement) -> dict[str, tuple[int | None, bool]]:
    """The receptive field of what predicts at each level: the widest head output at it, or the level;
    unknown (None) when the head's outputs join the levels (torchvision's logits of all levels in one
    tensor): the level's own would leave out the head's layers and make a false warning."""
    if _joined(run):
        return {lvl.name: (None, False) for lvl in run.levels}
    out: dict[str, tuple[int | None, bool]] = {lvl.name: (lvl.receptive_field, lvl.receptive_global) for lvl in run.levels}
    for head_out in run.head_outputs:
        if head_out.level is None or head_out.level not in out:
            continue
        px, whole = out[head_out.level]
        if head_out.receptive_global or whole:
            out[head_out.level] = (None, True)
        elif head_out.receptive_field is not None:
            out[head_out.level] = (max(px or 0, head_out.receptive_field), False)
    return out


def anchors(label: str, levels: Sequence[Level], fields: dict[str, tuple[int | None, bool]], scale: float,
            per_octave: int, ratios: Sequence[float], iou: float) -> Assignment:
    """Anchors of side ``scale`` × stride × 2^(i/per_octave) on each level, matched at ``iou``.

    >>> from fpnscope.reports.inspect import Level
    >>> p3 = Level("P3", (1, 256, 100, 168), 8, 256)
    >>> rng = anchors("anchors", [p3], {}, 4.0, 3, (0.5, 1.0, 2.0), 0.5).levels[0]
    >>> round(rng.low, 1), round(rng.high, 1)
    (22.6, 71.8)
    """
    sides = [[scale * lvl.stride * 2 ** (i / per_octave) for i in range(per_octave)] for lvl in levels]
    octave = f" × 2^(i/{per_octave}), i = 0..{per_octave - 1}" if per_octave > 1 else ""
    return anchors_of(label, levels, fields, sides, [ratios] * len(levels), iou, f"{_num(scale)} × stride{octave}")


def anchors_of(label: str, levels: Sequence[Level], fields: dict[str, tuple[int | None, bool]],
               sides: Sequence[Sequence[float]], ratios: Sequence[Sequence[float]], iou: float, how: str) -> Assignment:
    """Anchors of the given ``sides`` (and aspect ``ratios``) on each level, matched at ``iou``."""
    root = math.sqrt(iou)
    out = []
    for lvl, own, shapes in zip(levels, sides, ratios):
        detail = f"anchors {', '.join(_num(s) for s in own)} px × ratios {', '.join(_num(r) for r in shapes)}"
        px, whole = fields.get(lvl.name, (lvl.receptive_field, lvl.receptive_global))
        out.append(LevelRange(lvl.name, lvl.stride, min(own) * root, max(own) / root, detail, px, whole))
    shown = sorted({_num(r) for shapes in ratios for r in shapes}, key=float)
    summary = (f"an anchor takes a box it overlaps by IoU ≥ {iou:g}: square anchors of {how}, aspect ratios "
               f"{', '.join(shown)} (for a box centred on one)")
    return Assignment(label, "anchors", summary, out)


def roi_levels(label: str, levels: Sequence[Level], scale: int, canonical: int) -> Assignment:
    """FPN's rule: a box of side s goes to level ⌊canonical + log2(s / scale)⌋, clamped to ``levels``."""
    ks = [round(math.log2(lvl.stride)) for lvl in levels]
    out = []
    for lvl, k in zip(levels, ks):
        low = 0.0 if k == min(ks) else scale * 2.0 ** (k - canonical)
        high = INF if k == max(ks) else scale * 2.0 ** (k - canonical + 1)
        out.append(LevelRange(lvl.name, lvl.stride, low, high, "RoIAlign from this level", lvl.receptive_field,
                              lvl.receptive_global))
    summary = (f"a box of side s is pooled from level ⌊{canonical} + log2(s / {scale})⌋, clamped to "
               f"{levels[0].name}–{levels[-1].name}")
    return Assignment(label, "roi-level", summary, out)


def regression_ranges(label: str, levels: Sequence[Level], fields: dict[str, tuple[int | None, bool]],
                      sizes: Sequence[float] | None = None) -> Assignment:
    """FCOS: a location takes a box whose largest distance to its sides is 4 to 8 × its anchor
    size (its stride, unless ``sizes`` says otherwise)."""
    out = []
    for i, lvl in enumerate(levels):
        size = sizes[i] if sizes is not None else lvl.stride
        low = 0.0 if i == 0 else 4.0 * size
        high = INF if i == len(levels) - 1 else 8.0 * size
        px, whole = fields.get(lvl.name, (lvl.receptive_field, lvl.receptive_global))
        shown = f"max(l, t, r, b) {_num(low)}–{'∞' if math.isinf(high) else _num(high)} px"
        out.append(LevelRange(lvl.name, lvl.stride, 2 * low, 2 * high, shown, px, whole))
    summary = (f"a location takes a box whose largest distance to its sides lies in 4–8 × stride ({levels[0].name} "
               f"from 0, {levels[-1].name} unbounded): a side of 8–16 × stride at the box's centre")
    return Assignment(label, "regression-range", summary, out)


def dfl_ranges(label: str, levels: Sequence[Level], fields: dict[str, tuple[int | None, bool]], reg_max: int) -> Assignment:
    """YOLOv8: a level's DFL bins express distances up to (reg_max − 1) × stride."""
    out = []
    for lvl in levels:
        cap = (reg_max - 1) * lvl.stride
        px, whole = fields.get(lvl.name, (lvl.receptive_field, lvl.receptive_global))
        out.append(LevelRange(lvl.name, lvl.stride, 0.0, 2.0 * cap, f"distances up to {cap} px", px, whole))
    summary = (f"task-aligned assignment picks levels by prediction quality, not size; a level's {reg_max} DFL bins "
               f"reach {reg_max - 1} × stride, so box sides up to 2 × {reg_max - 1} × stride at its centre")
    return Assignment(label, "dfl-range", summary, out)


def dynamic(label: str, levels: Sequence[Level], fields: dict[str, tuple[int | None, bool]], how: str) -> Assignment:
    out = [LevelRange(lvl.name, lvl.stride, 0.0, INF, "any size", *fields.get(lvl.name, (lvl.receptive_field,
                                                                                     lvl.receptive_global)))
           for lvl in levels]
    return Assignment(label, "dynamic", f"{how} picks levels by cost, not by size: no level has a fixed range", out)


def _head_levels(run: Measurement) -> list[Level]:
    indices = run.model.head_inputs
    return [run.levels[i] for i in indices] if indices is not None else list(run.levels)


def _assignments(head: Any, run: Measurement, levels: list[Level], fields: dict[str, tuple[int | None, bool]],
                 notes: list[str]) -> list[Assignment]:
    kind = head.kind
    if kind == "retina":
        if head.num_anchors != head.scales_per_octave * len(head.aspect_ratios):
            notes.append(f"head.num_anchors is {head.num_anchors}, not scales_per_octave × aspect_ratios "
                         f"({head.scales_per_octave} × {len(head.aspect_ratios)}): the anchors are not described")
            return []
        return [anchors("anchors", levels, fields, head.anchor_scale, head.scales_per_octave, head.aspect_ratios,
                        head.iou_threshold)]
    if kind in ("faster_rcnn", "mask_rcnn"):
        roi = getattr(run.model.head, "roi_inputs", None)
        pooled = [levels[i] for i in roi] if roi is not None else [lvl for lvl in levels if lvl.stride <= 32]
        out = []
        if head.num_anchors == head.scales_per_octave * len(head.aspect_ratios):
            out.append(anchors("RPN anchors", levels, fields, head.anchor_scale, head.scales_per_octave,
                               head.aspect_ratios, head.iou_threshold))
        else:
            notes.append(f"head.num_anchors is {head.num_anchors}, not scales_per_octave × aspect_ratios: the RPN's "
                         "anchors are not described")
        if pooled:
            out.append(roi_levels("RoI heads", pooled, head.canonical_scale, head.canonical_level))
        return out
    if kind == "fcos":
        return [regression_ranges("regression ranges", levels, fields)]
    if kind == "yolo_detect":
        return [dfl_ranges("DFL reach", levels, fields, head.reg_max)]
    if kind == "yolox":
        return [dynamic("SimOTA", levels, fields, "SimOTA")]
    if run.whole is not None:
        return torchvision_rules(run.whole, levels, fields)
    return []


def torchvision_rules(model: Any, levels: list[Level], fields: dict[str, tuple[int | None, bool]]) -> list[Assignment]:
    """The rules of a torchvision detector given whole (``model:``), read from its own anchor
    generator, matchers and RoI pooler: RetinaNet, FCOS, Faster / Mask R-CNN."""
    rpn = getattr(model, "rpn", None)
    generator = getattr(rpn if rpn is not None else model, "anchor_generator", None)
    sizes, ratios = getattr(generator, "sizes", None), getattr(generator, "aspect_ratios", None)
    if sizes is None or ratios is None or len(sizes) != len(levels):
        return []
    if hasattr(model, "center_sampling_radius"):  # FCOS: ranges of 4-8 x its one anchor size per level
        return [regression_ranges("regression ranges", levels, fields, [float(s[0]) for s in sizes])]
    matcher = getattr(rpn if rpn is not None else model, "proposal_matcher", None)
    iou = float(getattr(matcher, "high_threshold", 0.5))
    out = [anchors_of("RPN anchors" if rpn is not None else "anchors", levels, fields, sizes, ratios, iou,
                      "the model's anchor generator")]
    pool = getattr(getattr(model, "roi_heads", None), "box_roi_pool", None)
    names = [str(n) for n in getattr(pool, "featmap_names", ())]
    pooled = [lvl for lvl in levels if lvl.key in names]
    if pool is not None and pooled:
        out.append(roi_levels("RoI heads", pooled, int(pool.canonical_scale), int(pool.canonical_level)))
    return out


def _sides(hw: tuple[int, int], wanted: tuple[int, int] | None) -> list[int]:
    """Object sides to tabulate: octaves from 8 (or below the smallest wanted) up to the input's
    long side (or the largest wanted).

    >>> _sides((800, 1344), None), _sides((512, 512), (4, 700))
    ([8, 16, 32, 64, 128, 256, 512, 1024], [4, 8, 16, 32, 64, 128, 256, 512])
    """
    low = min(8, wanted[0]) if wanted else 8
    high = max(max(hw), wanted[1]) if wanted else max(hw)
    side, out = 1 << max(0, math.floor(math.log2(low))), []
    while side <= high:
        out.append(side)
        side *= 2
    return out


def object_sizes(cfg: PresetConfig, run: Measurement) -> ObjectSizes | None:
    """The size analysis of the head of ``run``, or None when the head has no rule for sizes
    (segmentation, classification, a user's own head) or did not run."""
    head = cfg.head
    if head is None or run.model.head is None or not run.levels or run.failure is not None:
        return None
    notes: list[str] = []
    levels = _head_levels(run)
    assignments = _assignments(head, run, levels, _fields(run), notes)
    if assignments and _joined(run):
        notes.append("the head's outputs join the levels into one tensor each, so the receptive field of its "
                     "predictions at a level is not known (the level's own is in the level table)")
    if not assignments:
        return ObjectSizes(head.kind, [], [], head.object_sizes, notes) if notes else None
    hw = (cfg.input.height, cfg.input.width)
    rows = [SizeRow(side, {a.label: a.serving(side) for a in assignments}) for side in _sides(hw, head.object_sizes)]
    if any(a.rule == "anchors" for a in assignments):
        notes.append("a box that no anchor overlaps by the IoU still gets the anchor that overlaps it most "
                     "(torchvision's low-quality matches), at a lower IoU")
    return ObjectSizes(head.kind, assignments, rows, head.object_sizes, notes)
