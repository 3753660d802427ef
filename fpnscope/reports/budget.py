"""Budgets for ``compare``: ``macs>+5%`` against the baseline, ``params>30M`` absolute."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fpnscope.errors import ConfigError

METRICS = ("params", "macs", "flops", "memory", "latency", "throughput")
LOWER_IS_BETTER = {"params": True, "macs": True, "flops": True, "memory": True, "latency": True, "throughput": False}
_SUFFIX = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


@dataclass(frozen=True)
class Budget:
    """A budget as parsed: ``macs>+5%`` (relative to the baseline), ``params>30M`` or
    ``memory>512MiB`` (absolute), ``throughput<-5%`` (for the metric where higher is better)."""

    expression: str
    metric: str
    op: str
    limit: float
    relative: bool

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse one budget expression.

        >>> Budget.parse("macs>+5%")
        Budget(expression='macs>+5%', metric='macs', op='>', limit=5.0, relative=True)
        >>> Budget.parse("params > 30M").limit, Budget.parse("memory>1.5GiB").limit
        (30000000.0, 1610612736.0)
        """
        match = re.fullmatch(r"\s*(\w+)\s*([<>])\s*([+-]?\d+(?:\.\d+)?)\s*(%|[KMGT]iB|[KMGT]?|ms)\s*", text)
        if not match or match.group(1) not in METRICS:
            raise ConfigError(
                f"«fail_on» {text!r}: expected METRIC>+N% (relative to the first variant) or METRIC>N[K|M|G|T] "
                f"(absolute; memory also takes KiB, MiB, GiB; latency is in ms), with METRIC one of "
                f"{', '.join(METRICS)} and < for throughput; e.g. «fail_on» 'macs>+5%'",
                option="fail_on",
            )
        metric, op, number, unit = match.groups()
        worse = ">" if LOWER_IS_BETTER[metric] else "<"
        if op != worse:
            raise ConfigError(
                f"«fail_on» {text!r}: this fails when {metric} gets better; a budget guards against it "
                f"getting worse: {metric}{worse}{'-' if worse == '<' else '+'}{number.lstrip('+-')}{unit}",
                option="fail_on",
            )
        if unit.endswith("iB") and metric != "memory" or unit == "ms" and metric != "latency":
            quantity = "memory" if unit != "ms" else "latency"
            raise ConfigError(f"«fail_on» {text!r}: {unit} is a unit of {quantity}, not {metric}", option="fail_on")
        if unit == "" and metric in ("params", "macs", "flops", "memory"):
            bare = number.lstrip("+-")
            big = "GiB" if metric == "memory" else "G"
            raise ConfigError(
                f"«fail_on» {text!r}: a bare {bare} on {metric} is {bare} {'bytes' if metric == 'memory' else metric}, "
                f"surely not what is meant; write {metric}{op}+{bare}% (against the first variant) or "
                f"{metric}{op}{bare}{big} (an absolute limit)", option="fail_on")
        relative = unit == "%"
        scale = 1.0 if relative or unit == "ms" else _SUFFIX[unit]
        return cls(text.strip(), metric, op, float(number) * scale, relative)

    def exceeded_by(self, value: float) -> bool:
        """Whether ``value`` (a % change when relative) breaks the budget."""
        return value > self.limit if self.op == ">" else value < self.limit


@dataclass(frozen=True)
class BudgetCheck:
    """One budget against one variant: ``value`` is a % change for a relative budget."""

    expression: str
    variant: str
    metric: str
    relative: bool
    value: float
    limit: float
    exceeded: bool
