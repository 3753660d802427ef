"""Parameters, MACs and element-wise ops per stage and per module, from a CostCounter."""

from __future__ import annotations

from collections import defaultdict

from torch import nn

from fpnscope.analysis.counter import CostCounter
from fpnscope.report import ModuleRow, NotCounted, StageCost


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
        return f"{len(shape)} maps" if len(shape) > 1 else _shape_text(shape[0])
    return str(shape)
