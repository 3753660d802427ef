"""What ``fpnscope profile`` measured, as plain data; ``to_dict()`` is the ``--json`` output.

JSON contract (stable keys; more may be added):

- ``device``: {requested, used, name, torch, threads, note}
- ``settings``: {dtype, mode, channels_last, compile, cuda_graphs, warmup, iters, cudnn_benchmark}
- ``points``: one per (input size, batch): {batch, height, width, status ("ok" | "oom" |
  "error"), message, compile_seconds, params_bytes, stages}
- ``stages``: {name: {median_ms, p10_ms, p90_ms, mean_ms, std_ms, iters, throughput_ips, flops,
  tflops, measured_peak_bytes, estimated_peak_bytes}}; names are ``model``, ``backbone``, ``neck``,
  ``head`` and, for a head shared across levels, ``head P3``, ``head P4``... ``flops`` are the
  FLOPs (2 x MACs) of the timed work (forward, or forward and backward in train mode);
  ``measured_peak_bytes`` is the CUDA peak above what was allocated before (null elsewhere);
  ``estimated_peak_bytes`` the meta-device estimate of the same.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from fpnscope.reports.common import Displayable, header


@dataclass(frozen=True)
class TimingStats:
    """Milliseconds per call over ``iters`` timed calls."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    mean_ms: float
    std_ms: float
    iters: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> TimingStats:
        """Statistics of per-call samples.

        >>> TimingStats.of([1.0, 2.0, 3.0, 4.0, 100.0]).median_ms
        3.0
        """
        ordered = sorted(samples_ms)
        return cls(
            median_ms=statistics.median(ordered),
            p10_ms=_percentile(ordered, 0.10),
            p90_ms=_percentile(ordered, 0.90),
            mean_ms=statistics.fmean(ordered),
            std_ms=statistics.pstdev(ordered) if len(ordered) > 1 else 0.0,
            iters=len(ordered),
        )


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class StageProfile:
    """Timing, work and memory of one timed callable."""

    timing: TimingStats
    batch: int
    flops: int | None
    measured_peak_bytes: int | None
    estimated_peak_bytes: int | None

    @property
    def throughput_ips(self) -> float:
        """Images per second: batch over the median latency."""
        return self.batch / (self.timing.median_ms / 1000) if self.timing.median_ms > 0 else float("inf")

    @property
    def tflops(self) -> float | None:
        """Achieved TFLOP/s: FLOPs over the median latency."""
        if self.flops is None or self.timing.median_ms <= 0:
            return None
        return self.flops / (self.timing.median_ms / 1000) / 1e12

    def to_dict(self) -> dict[str, Any]:
        return asdict(self.timing) | {
            "throughput_ips": self.throughput_ips,
            "flops": self.flops,
            "tflops": self.tflops,
            "measured_peak_bytes": self.measured_peak_bytes,
            "estimated_peak_bytes": self.estimated_peak_bytes,
        }


@dataclass
class ProfilePoint:
    """One point of a sweep."""

    batch: int
    height: int
    width: int
    status: str = "ok"  # ok | oom | error
    message: str | None = None
    compile_seconds: float | None = None
    params_bytes: int | None = None
    stages: dict[str, StageProfile] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "height": self.height,
            "width": self.width,
            "status": self.status,
            "message": self.message,
            "compile_seconds": self.compile_seconds,
            "params_bytes": self.params_bytes,
            "stages": {name: stage.to_dict() for name, stage in self.stages.items()},
        }


@dataclass(frozen=True)
class ProfileDevice:
    requested: str
    used: str
    name: str
    torch: str
    threads: int
    note: str | None = None


@dataclass(frozen=True)
class ProfileSettings:
    """How to run: the options of ``fpnscope profile``."""

    dtype: str = "fp32"
    mode: str = "infer"
    channels_last: bool = False
    compile: bool = False
    cuda_graphs: bool = False
    warmup: int = 3
    iters: int = 0  # 0: at least 10 calls and one second
    cudnn_benchmark: bool = True
    stages: bool = True  # time backbone, neck and head apart too (compare times the model only)


@dataclass
class ProfileReport(Displayable):
    """Everything ``fpnscope profile`` measured."""

    view: ClassVar[str] = "fpnscope.render.profile:view"

    model: str
    description: str
    device: ProfileDevice
    settings: ProfileSettings
    points: list[ProfilePoint]

    def to_dict(self) -> dict[str, Any]:
        return {
            **header("profile"),
            "model": {"name": self.model, "description": self.description},
            "device": asdict(self.device),
            "settings": asdict(self.settings),
            "points": [p.to_dict() for p in self.points],
        }
