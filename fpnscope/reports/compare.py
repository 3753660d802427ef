"""What ``fpnscope compare`` found: one row per variant, the first one the baseline. Plain data.

JSON contract: ``variants``: list of {name, source, status ("ok" | "error"), error, params,
macs, flops (each {total, backbone, neck, head}), levels (["P3:256", ...]), memory_bytes
(parameters + estimated activation peak), latency_ms, throughput_ips, level_macs ({stride: MACs};
stride 0: ops on no level's grid, -1: a two-stage head's per-RoI heads), delta ({metric: relative
change against the baseline})}; ``baseline``; ``metric``; ``budgets`` (each {expression, variant,
value, limit, exceeded}).
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from fpnscope.reports.budget import LOWER_IS_BETTER, METRICS, Budget, BudgetCheck
from fpnscope.reports.common import Displayable, header

__all__ = ["LOWER_IS_BETTER", "METRICS", "Budget", "BudgetCheck", "CompareReport", "VariantResult"]


PER_ROI = -1  # the level_macs key of the per-RoI heads (a two-stage head's box and mask heads)


@dataclass
class VariantResult:
    """One compared model, from a live analysis or a saved ``inspect --json`` report."""

    name: str
    source: str
    status: str = "ok"
    error: str | None = None
    params: dict[str, int | None] = field(default_factory=dict)
    macs: dict[str, int | None] = field(default_factory=dict)
    flops: dict[str, int | None] = field(default_factory=dict)
    levels: list[str] = field(default_factory=list)
    memory_bytes: int | None = None
    latency_ms: float | None = None
    throughput_ips: float | None = None
    level_macs: dict[int, int] = field(default_factory=dict)  # by stride; 0 is "other", -1 the per-RoI heads
    input: tuple[int, int, int, int] | None = None  # batch, channels, height, width

    @classmethod
    def from_inspect(cls, name: str, source: str, data: dict[str, Any]) -> VariantResult:
        """From the ``inspect --json`` document (live or saved)."""
        memory = data.get("memory") or {}
        level_macs: dict[int, int] = {}
        for row in data.get("level_costs", []):  # stride 0: ops on no level's grid ("other")
            stride = int(row.get("stride") or 0)
            level_macs[stride] = level_macs.get(stride, 0) + sum(v or 0 for v in row["macs"].values())
        roi_macs = sum(rc["macs"] for rc in data.get("roi_costs", []))
        if roi_macs:  # per RoI, on no level: a row of its own, so the rows still sum to the total
            level_macs[PER_ROI] = roi_macs
        stopped = data.get("stopped_at")
        crash = next((f for f in data.get("diagnostics", []) if f.get("code") == "forward-error"), None)
        return cls(
            name=name,
            source=source,
            # a forward that raised measured only what ran before it: not a model to compare
            status="error" if stopped else "ok",
            error=(f"the {stopped}'s forward raised: {crash['message']}" if crash else f"the {stopped}'s forward raised")
            if stopped else None,
            params=dict(data["params"]),
            macs=dict(data["macs"]),
            flops=dict(data["flops"]),
            levels=[f"{lvl['name']}:{lvl['channels']}" for lvl in data["levels"]],
            memory_bytes=memory.get("total_bytes"),
            level_macs=level_macs,
            input=_input_of(data),
        )

    def value(self, metric: str) -> float | None:
        """The figure ``metric`` names (totals for params, macs, flops)."""
        if metric in ("params", "macs", "flops"):
            return getattr(self, metric).get("total")
        return {"memory": self.memory_bytes, "latency": self.latency_ms, "throughput": self.throughput_ips}[metric]


def _input_of(data: dict[str, Any]) -> tuple[int, int, int, int] | None:
    given = data.get("input") or {}
    keys = ("batch", "channels", "height", "width")
    if not all(k in given for k in keys):
        return None
    batch, channels, height, width = (int(given[k]) for k in keys)
    return batch, channels, height, width


@dataclass
class CompareReport(Displayable):
    """Every variant, the first one the baseline."""

    view: ClassVar[str] = "fpnscope.render.compare:view"

    variants: list[VariantResult]
    metric: str = "macs"
    budgets: list[BudgetCheck] = field(default_factory=list)

    @property
    def baseline(self) -> VariantResult:
        return self.variants[0]

    def delta(self, variant: VariantResult, metric: str) -> float | None:
        """Relative change of ``metric`` against the baseline (0.125 = +12.5%)."""
        base, value = self.baseline.value(metric), variant.value(metric)
        if base in (None, 0) or value is None or self.baseline.status != "ok":
            return None
        return (value - base) / base

    def check(self, budgets: list[Budget]) -> None:
        """Evaluate budgets against every variant (relative ones skip the baseline)."""
        self.budgets = []
        for budget in budgets:
            for variant in self.variants:
                if variant.status != "ok" or (budget.relative and variant is self.baseline):
                    continue
                value = 100 * d if budget.relative and (d := self.delta(variant, budget.metric)) is not None else None
                if not budget.relative:
                    value = variant.value(budget.metric)
                if value is None:
                    continue
                self.budgets.append(BudgetCheck(budget.expression, variant.name, budget.metric, budget.relative,
                                                value, budget.limit, budget.exceeded_by(value)))

    def sort(self, metric: str) -> None:
        """Order the variants after the baseline by ``metric`` (or ``name``): best first, so
        throughput goes highest first; variants that failed go last."""
        self.variants[1:] = sorted(
            self.variants[1:],
            key=lambda v: (v.status != "ok", v.name if metric == "name" else (v.value(metric) or 0)),
            reverse=metric == "throughput",
        )

    @property
    def inputs(self) -> list[tuple[int, int, int, int]]:
        """The distinct inputs the variants were analysed at, the baseline's first."""
        seen: list[tuple[int, int, int, int]] = []
        for v in self.variants:
            if v.status == "ok" and v.input is not None and v.input not in seen:
                seen.append(v.input)
        return seen

    @property
    def over_budget(self) -> list[BudgetCheck]:
        return [b for b in self.budgets if b.exceeded]

    def plot(self, path: str | None = None) -> Any:
        """MACs per level as grouped bars, one per variant: a matplotlib figure, saved to ``path``
        (``.svg``, ``.png`` or ``.pdf``) when given (needs the ``plot`` extra)."""
        return importlib.import_module("fpnscope.render.plots").compare_figure(self, path)

    def to_dict(self) -> dict[str, Any]:
        variants = []
        for v in self.variants:
            row = asdict(v)
            row["level_macs"] = {str(k): n for k, n in v.level_macs.items()}
            row["delta"] = {m: self.delta(v, m) for m in METRICS} if v is not self.baseline else {}
            variants.append(row)
        return {
            **header("compare"),
            "baseline": self.baseline.name,
            "metric": self.metric,
            "variants": variants,
            "budgets": [asdict(b) for b in self.budgets],
        }
