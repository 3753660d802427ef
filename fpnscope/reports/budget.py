"""Budgets for ``compare`` (``macs>+5%`` against the baseline, ``params>30M`` absolute) and
constraints for ``sweep`` (``params<30M``), sharing one way of writing a quantity."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fpnscope.errors import ConfigError

METRICS = ("params", "macs", "flops", "memory", "latency", "throughput")
LOWER_IS_BETTER = {"params": True, "macs": True, "flops": True, "memory": True, "latency": True, "throughput": False}
_SUFFIX = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_EXAMPLE = {"params": "30M", "macs": "100G", "flops": "200G", "memory": "2GiB", "latency": "20ms", "throughput": "30"}
_NUMBER = r"([+-]?\d+(?:\.\d+)?)\s*(%|[KMGT]iB|[KMGT]?|ms)"  # a number and its unit


def _scaled(text: str, metric: str, op: str, number: str, unit: str, option: str) -> float:
    """The value a number and its unit stand for (a % stays a %); a unit of another quantity, or a
    bare number on a quantity counted in millions, is refused.

    >>> _scaled("memory<1.5GiB", "memory", "<", "1.5", "GiB", "where"), _scaled("latency<20ms", "latency", "<", "20", "ms", "where")
    (1610612736.0, 20.0)
    """
    if unit.endswith("iB") and metric != "memory" or unit == "ms" and metric != "latency":
        quantity = "memory" if unit != "ms" else "latency"
        raise ConfigError(f"«{option}» {text!r}: {unit} is a unit of {quantity}, not {metric}", option=option)
    if unit == "" and metric in ("params", "macs", "flops", "memory"):
        bare = number.lstrip("+-")
        what = "bytes" if metric == "memory" else metric
        big = {"params": "M", "memory": "GiB"}.get(metric, "G")
        meant = (f"{metric}{op}+{bare}% (against the first variant) or {metric}{op}{bare}{big} (an absolute limit)"
                 if option == "fail_on" else f"{metric}{op}{bare}{big}")
        raise ConfigError(f"«{option}» {text!r}: a bare {bare} on {metric} is {bare} {what}, surely not what is "
                          f"meant; write {meant}", option=option)
    scale = 1.0 if unit in ("%", "ms") else _SUFFIX[unit]
    return float(number) * scale


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
        match = re.fullmatch(r"\s*(\w+)\s*([<>])\s*" + _NUMBER + r"\s*", text)
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
        return cls(text.strip(), metric, op, _scaled(text, metric, op, number, unit, "fail_on"), unit == "%")

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


@dataclass(frozen=True)
class Constraint:
    """A limit a point of a sweep must keep: ``params<30M``, ``macs<=100G``, ``memory<2GiB``,
    ``latency<20ms``, ``throughput>30`` (images/s). A sweep has no baseline, so no ``%``.

    >>> Constraint.parse("params<30M").holds(26_852_416), Constraint.parse("throughput >= 30").holds(12.5)
    (True, False)
    """

    expression: str
    metric: str
    op: str
    limit: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """Parse one constraint expression."""
        match = re.fullmatch(r"\s*(\w+)\s*(<=|>=|<|>)\s*" + _NUMBER + r"\s*", text)
        if not match or match.group(1) not in METRICS:
            raise ConfigError(
                f"«where» {text!r}: expected METRIC<N[K|M|G|T] (or >, <=, >=), with METRIC one of "
                f"{', '.join(METRICS)}; memory also takes KiB, MiB, GiB, latency is in ms and throughput "
                f"in images/s; e.g. «where» 'params<30M'",
                option="where",
            )
        metric, op, number, unit = match.groups()
        if unit == "%":
            raise ConfigError(f"«where» {text!r}: a sweep has no baseline to take a % of; give a limit such as "
                              f"{metric}{op}{_EXAMPLE[metric]}", option="where")
        return cls(text.strip(), metric, op, _scaled(text, metric, op, number, unit, "where"))

    def holds(self, value: float) -> bool:
        """Whether ``value`` keeps the limit."""
        return {"<": value < self.limit, "<=": value <= self.limit, ">": value > self.limit,
                ">=": value >= self.limit}[self.op]
