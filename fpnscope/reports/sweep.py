"""What ``fpnscope sweep`` found: one point per combination of the grid's values. Plain data.

JSON contract: ``model``; ``axes`` (each {key, values}); ``points``: list of {index, values ({key:
value}), status ("ok" | "error" | "oom"), reason (why it failed, or its first error finding),
input ([batch, channels, height, width]), params, macs, flops, memory_bytes, levels (["P3:256",
...]), errors, warnings (finding counts), latency_ms, throughput_ips}; ``pareto`` (the two metrics),
``front`` (indices of the Pareto-optimal points), ``where`` (the constraints), ``satisfying``
(indices of the points that keep them all), ``metric``, ``best`` (an index, or null), ``planned``
(points in the grid), ``interrupted``, ``device``, ``device_note``, ``profiled``.

A point is a *candidate* when it was measured and has no error-level finding; only candidates can
be on the front, satisfy the constraints, or be the best.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from fpnscope.errors import ConfigError, missing_extra
from fpnscope.reports.budget import LOWER_IS_BETTER, METRICS, Constraint
from fpnscope.reports.common import Displayable, header

if TYPE_CHECKING:
    from fpnscope.reports.inspect import InspectReport

__all__ = ["METRICS", "Axis", "Constraint", "Goals", "SweepPoint", "SweepReport", "pareto_front"]


@dataclass(frozen=True)
class Axis:
    """One dimension of the grid: a configuration key (``input`` for the input sizes) and its values."""

    key: str
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        """What a table's column calls it: the key without ``neck.``."""
        return self.key.removeprefix("neck.")


@dataclass
class SweepPoint:
    """One point of the grid, measured or with the reason it could not be."""

    index: int
    values: dict[str, Any]
    status: str = "ok"  # ok | error (could not be built or run) | oom (did not fit, with profile)
    reason: str | None = None
    input: tuple[int, int, int, int] | None = None  # batch, channels, height, width
    params: int | None = None
    macs: int | None = None
    flops: int | None = None
    memory_bytes: int | None = None
    levels: list[str] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    latency_ms: float | None = None
    throughput_ips: float | None = None

    @classmethod
    def from_inspect(cls, index: int, values: dict[str, Any], report: InspectReport) -> SweepPoint:
        """The figures of one analysed point; the first error finding is its reason."""
        first = next((f for f in report.diagnostics if f.severity == "error"), None)
        inp = report.input
        if report.stopped_at is not None:  # measured up to the crash only: no figures to set beside the others
            return cls(index=index, values=values, status="error", input=(inp.batch, inp.channels, inp.height, inp.width),
                       reason=f"{first.code}: {first.title or first.message}" if first is not None
                       else f"the {report.stopped_at} raised",
                       errors=sum(f.severity == "error" for f in report.diagnostics))
        return cls(
            index=index,
            values=values,
            reason=f"{first.code}: {first.message}" if first is not None else None,
            input=(inp.batch, inp.channels, inp.height, inp.width),
            params=report.params.total,
            macs=report.macs.total,
            flops=report.flops.total,
            memory_bytes=report.memory.total_bytes if report.memory is not None else None,
            levels=[f"{lvl.name}:{lvl.channels}" for lvl in report.levels],
            errors=sum(f.severity == "error" for f in report.diagnostics),
            warnings=sum(f.severity == "warning" for f in report.diagnostics),
        )

    @property
    def candidate(self) -> bool:
        """Measured, and without error-level findings."""
        return self.status == "ok" and self.errors == 0

    def value(self, metric: str) -> float | None:
        """The figure ``metric`` names."""
        return {"params": self.params, "macs": self.macs, "flops": self.flops, "memory": self.memory_bytes,
                "latency": self.latency_ms, "throughput": self.throughput_ips}[metric]


@dataclass(frozen=True)
class Goals:
    """What a sweep is asked for: the two metrics of its front, the one that picks the best, the
    order to show, and the constraints."""

    pareto: tuple[str, str]
    metric: str
    sort: str | None
    where: tuple[Constraint, ...]

    @classmethod
    def parse(cls, pareto: str | Sequence[str], metric: str | None, sort: str | None, where: Sequence[str],
              profiled: bool) -> Goals:
        """Check the options against each other; ``metric`` defaults to the first ``pareto`` metric.

        >>> Goals.parse("latency,params", None, None, ["params<30M"], profiled=True).metric
        'latency'
        """
        names = [m.strip() for m in pareto.split(",")] if isinstance(pareto, str) else list(pareto)
        if len(names) != 2 or len(set(names)) != 2 or not set(names) <= set(METRICS):
            raise ConfigError(f"«pareto» {','.join(map(str, names))!r}: give two different metrics of "
                              f"{', '.join(METRICS)}, e.g. «pareto» macs,params", option="pareto", choices=METRICS)
        for option, value in (("metric", metric), ("sort", sort)):
            if value is not None and value not in METRICS:
                raise ConfigError(f"«{option}» {value!r}: use one of {', '.join(METRICS)}", option=option,
                                  choices=METRICS)
        constraints = tuple(Constraint.parse(w) for w in where)
        timed = [m for m in (*names, metric, sort, *(c.metric for c in constraints)) if m in ("latency", "throughput")]
        if timed and not profiled:
            raise ConfigError(f"{timed[0]} is measured only with «profile»; add «profile»", option="profile")
        return cls((names[0], names[1]), metric or names[0], sort, constraints)


def _better(metric: str, value: float) -> float:
    """A value where smaller is better, whichever way ``metric`` goes."""
    return value if LOWER_IS_BETTER[metric] else -value


def pareto_front(points: list[SweepPoint], metrics: tuple[str, str]) -> list[int]:
    """Indices of the candidates that no other candidate beats on one metric without losing on the other.

    >>> a, b, c = (SweepPoint(i, {}, params=p, macs=m) for i, (p, m) in enumerate([(1, 9), (5, 5), (6, 6)]))
    >>> pareto_front([a, b, c], ("macs", "params"))
    [0, 1]
    """
    scored = []
    for p in points:
        values = [p.value(m) for m in metrics]
        if p.candidate and all(v is not None for v in values):
            scored.append((p.index, tuple(_better(m, float(v)) for m, v in zip(metrics, values) if v is not None)))
    front = []
    for index, mine in scored:
        beaten = any(all(o <= s for o, s in zip(other, mine)) and other != mine for _, other in scored)
        if not beaten:
            front.append(index)
    return front


@dataclass
class SweepReport(Displayable):
    """Every point of a design space, its Pareto front, and the best point that keeps the constraints.

    ``points[i].index == i`` always (the grid's order); ``sort`` orders only what is shown.
    """

    view: ClassVar[str] = "fpnscope.render.sweep:view"

    model: str
    axes: list[Axis]
    points: list[SweepPoint]
    pareto: tuple[str, str] = ("macs", "params")
    metric: str = "macs"
    where: list[Constraint] = field(default_factory=list)
    sort: str | None = None
    planned: int = 0
    interrupted: bool = False
    device: str = "meta"
    device_note: str | None = None
    profiled: bool = False

    @property
    def front(self) -> list[int]:
        """Indices of the Pareto-optimal points of the two ``pareto`` metrics."""
        return pareto_front(self.points, self.pareto)

    def satisfies(self, point: SweepPoint) -> bool:
        """A candidate that keeps every constraint."""
        if not point.candidate:
            return False
        for c in self.where:
            value = point.value(c.metric)
            if value is None or not c.holds(value):
                return False
        return True

    @property
    def satisfying(self) -> list[int]:
        """Indices of the points that keep every constraint (every candidate when there are none)."""
        return [p.index for p in self.points if self.satisfies(p)]

    @property
    def best(self) -> int | None:
        """The index of the best point on ``metric`` among those that keep the constraints."""
        ranked = [(_better(self.metric, v), p.index) for p in self.points
                  if self.satisfies(p) and (v := p.value(self.metric)) is not None]
        return min(ranked)[1] if ranked else None

    @property
    def failed(self) -> list[int]:
        """Indices of the points that could not be measured or have error-level findings (``oom``
        points, which did not fit on the device, are results and not failures)."""
        return [p.index for p in self.points if p.status == "error" or p.errors]

    def ordered(self) -> list[SweepPoint]:
        """The points in the order ``sort`` asks for (best first; points without the figure last)."""
        if self.sort is None:
            return list(self.points)
        metric = self.sort

        def key(p: SweepPoint) -> tuple[bool, float, int]:
            value = p.value(metric)
            return value is None or p.status != "ok", _better(metric, value or 0.0), p.index

        return sorted(self.points, key=key)

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per point (grid values, figures, front / constraints / best), in ``sort`` order."""
        front, satisfying, best = set(self.front), set(self.satisfying), self.best
        out = []
        for p in self.ordered():
            row: dict[str, Any] = {"point": p.index, **{a.key: p.values.get(a.key) for a in self.axes}}
            row |= {k: v for k, v in asdict(p).items() if k not in ("index", "values", "input", "levels")}
            batch, _, height, width = p.input or (None, None, None, None)
            row |= {"height": height, "width": width, "batch": batch}
            row |= {"levels": " ".join(p.levels), "front": p.index in front, "satisfies": p.index in satisfying,
                    "best": p.index == best}
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            **header("sweep"),
            "model": self.model,
            "axes": [{"key": a.key, "values": list(a.values)} for a in self.axes],
            "points": [asdict(p) for p in self.points],
            "pareto": list(self.pareto),
            "front": self.front,
            "where": [c.expression for c in self.where],
            "satisfying": self.satisfying,
            "metric": self.metric,
            "best": self.best,
            "sort": self.sort,
            "planned": self.planned,
            "interrupted": self.interrupted,
            "device": self.device,
            "device_note": self.device_note,
            "profiled": self.profiled,
        }

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per point, indexed by the point's number (needs the ``frames`` extra)."""
        try:
            import pandas
        except ImportError:
            raise missing_extra("pandas", "frames", "to_dataframe()") from None
        return pandas.DataFrame(self.rows()).set_index("point")

    def plot(self, path: str | None = None) -> Any:
        """A matplotlib figure of the two ``pareto`` metrics: every point, the front joined and
        labelled; saved to ``path`` (``.svg``, ``.png`` or ``.pdf``) when given (needs the ``plot`` extra)."""
        return importlib.import_module("fpnscope.render.plots").sweep_figure(self, path)

    def to_svg(self) -> str:
        """The plot as SVG text (needs the ``plot`` extra)."""
        return str(importlib.import_module("fpnscope.render.plots").svg_text(self.plot()))
