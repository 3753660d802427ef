"""Parameters, MACs and element-wise ops per stage and per module, from a CostCounter."""

from __future__ import annotations

from collections import defaultdict

from torch import nn

from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.analysis.measure.geometry import stride_of_shape
from fpnscope.reports.inspect import STAGES, LevelCost, ModuleRow, NotCounted, StageCost
from fpnscope.reports.roi import RoICost
from fpnscope.spec import RoIStage, is_power_of_two


def params_by_module(model: nn.Module) -> dict[str, int]:
    """Parameter count of every module, its children included; shared tensors count once."""
    counts: dict[str, int] = defaultdict(int)
    seen: set[int] = set()
    for name, param in model.named_parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        parts = name.split(".")[:-1]
        counts[""] += param.numel()
        for i in range(1, len(parts) + 1):
            counts[".".join(parts[:i])] += param.numel()
    return counts


def stage_cost(counter: CostCounter, params: dict[str, int], stage: str) -> StageCost:
    """Totals of one stage (``backbone``, ``neck``, ``head``)."""
    cost = counter.total(stage)
    return StageCost(params=params.get(stage, 0), macs=cost.macs, elementwise=cost.elementwise)


def roi_costs(counter: CostCounter, params: dict[str, int], stages: tuple[RoIStage, ...], batch: int) -> list[RoICost]:
    """The cost of each per-RoI part of the head, at the RoI count it ran with (per image x batch)."""
    out = []
    for stage in stages:
        name = f"head.{stage.module}"
        cost = counter.total(name)
        out.append(RoICost(stage.label, name, params.get(name, 0), stage.rois_per_image, stage.option,
                           stage.rois_per_image * batch, cost.macs, cost.elementwise))
    return out


def module_rows(model: nn.Module, counter: CostCounter, params: dict[str, int], depth: int) -> list[ModuleRow]:
    """Modules down to ``depth`` (1 = the stages), in definition order."""
    rows = []
    for name, module in model.named_modules():
        level = name.count(".") + 1 if name else 0
        if not name or level > depth:
            continue
        cost = counter.total(name)
        own = counter.own.get(name)
        rows.append(
            ModuleRow(
                name=name,
                type=type(module).__name__,
                depth=level,
                params=params.get(name, 0),
                macs=cost.macs,
                elementwise=cost.elementwise,
                calls=own.calls if own else 0,
                shape=_shape_text(own.out_shape if own else None),
            )
        )
    return rows


def not_counted(counter: CostCounter) -> list[NotCounted]:
    """Ops that ran without a cost formula, most frequent first."""
    return sorted(
        (NotCounted(op, rec.calls, tuple(sorted(rec.modules))) for op, rec in counter.uncounted.items()),
        key=lambda n: (-n.calls, n.op),
    )


def _shape_text(shape: object) -> str:
    if shape is None:
        return ""
    if isinstance(shape, tuple):
        return "×".join(str(d) for d in shape)
    if isinstance(shape, list):
        maps = _count_maps(shape)
        return f"{maps} maps" if maps > 1 else _shape_text(shape[0])
    return str(shape)


def _count_maps(shape: object) -> int:
    """Tensors in a nested output: a RetinaHead's (class maps, box maps) over 5 levels is 10."""
    return sum(_count_maps(s) for s in shape) if isinstance(shape, list) else 1


def level_costs(
    counter: CostCounter, input_hw: tuple[int, int], max_stride: int, batch: int = 1
) -> list[LevelCost]:
    """MACs and element-wise ops per level, finest first, by the resolution each op ran at.

    Token sequences find their level by their patch grid (see ``stride_of_shape``); an op whose
    own output does not tell (attention with its heads folded in) goes by its module's input. An op whose
    output has no level, whose stride is not a power of two or is coarser than every measured
    level (a pooled 6x6 or 1x1 map, say) goes to a last row with no level.
    """
    rows: dict[int | None, tuple[dict[str, int], dict[str, int]]] = {}
    for (stage, shape, context), cost in counter.by_shape.items():
        stride = (
            stride_of_shape(input_hw, shape, batch, loose=False)
            or stride_of_shape(input_hw, context, batch, loose=False)
            or stride_of_shape(input_hw, shape, batch)
        )
        key = stride if stride and is_power_of_two(stride) and stride <= max_stride else None
        macs, ops = rows.setdefault(key, ({s: 0 for s in STAGES}, {s: 0 for s in STAGES}))
        if stage in macs:
            macs[stage] += cost.macs
            ops[stage] += cost.elementwise
    ordered = sorted(k for k in rows if k is not None) + ([None] if None in rows else [])
    return [
        LevelCost(
            level=(k.bit_length() - 1) if k else None,
            stride=k,
            macs=rows[k][0],
            elementwise=rows[k][1],
        )
        for k in ordered
        if any(rows[k][0].values()) or any(rows[k][1].values())
    ]
