"""What a command found, as plain data: no torch, no rich. ``to_dict()`` is the ``--json`` output.

JSON contract of ``inspect`` (stable keys; more may be added):

- ``input``: {batch, channels, height, width}
- ``backbone_levels`` / ``levels``: lists of {name, shape, stride, channels}; pyramid levels also
  carry ``sources``, the backbone levels that fed them
- ``params`` / ``macs`` / ``flops`` / ``elementwise_ops``: {total, backbone, neck, head}; ``head`` is
  null when the model has no head. MACs are multiply-accumulates of conv / linear / matmul, FLOPs =
  2 x MACs; element-wise ops (adds, resizes, pooling, norms, activations) are counted apart.
- ``head_outputs``: list of {name, shape} (``cls P3``, ``seg``...), empty without a head
- ``level_costs``: MACs and element-wise ops per level and stage, by the resolution each op ran at:
  list of {level, stride, macs: {backbone, neck, head}, elementwise_ops: {...}}; ops that do not
  produce a feature map (or run at a size no level has) are in a row with level null
- ``memory``: {params_bytes, activations_peak_bytes, total_bytes, method}: parameters and buffers,
  and the most activation memory alive at once during one inference forward
- ``not_counted``: ops with no cost formula, {op, calls, modules}
- ``diagnostics``: list of {severity, code, level, message, hint, fix}; ``fix`` holds the YAML keys
  to write when the fix is mechanical, and ``corrected`` merges them all into one patch
- ``modules`` (with ``--depth``), ``device``, ``model``, ``crosscheck`` (with ``--flops-backend``)
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fpnscope import __version__
from fpnscope.spec import LevelSpec

Severity = Literal["error", "warning", "info"]
STAGES = ("backbone", "neck", "head")


@dataclass(frozen=True)
class Level:
    """A measured feature map."""

    name: str
    shape: tuple[int, ...]
    stride: int
    channels: int
    sources: tuple[str, ...] = ()

    @property
    def spec(self) -> LevelSpec:
        """The level as the stage contract states it (what the next stage is built over)."""
        return LevelSpec(self.name, self.channels, self.stride)

    def to_dict(self, with_sources: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "shape": list(self.shape),
            "stride": self.stride,
            "channels": self.channels,
        }
        if with_sources:
            out["sources"] = list(self.sources)
        return out


@dataclass(frozen=True)
class Finding:
    """One diagnostic: what is wrong at which level, and how to fix it."""

    severity: Severity
    code: str
    level: str | None
    message: str
    hint: str
    fix: dict[str, Any] | None = None  # the YAML keys to write, when the fix is mechanical


def merge_fixes(findings: list[Finding]) -> dict[str, Any] | None:
    """One YAML patch from every finding's fix: mappings merge, numbers take the larger value
    (a padded input that satisfies the coarsest multiple satisfies the finer ones), lists replace.

    >>> a = Finding("warning", "x", None, "", "", {"input": {"height": 800, "width": 1344}})
    >>> b = Finding("warning", "y", None, "", "", {"input": {"height": 832, "width": 1344}})
    >>> merge_fixes([a, b])
    {'input': {'height': 832, 'width': 1344}}
    """

    def merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
        for key, value in patch.items():
            old = into.get(key)
            if isinstance(old, dict) and isinstance(value, dict):
                merge(old, value)
            elif isinstance(old, int) and isinstance(value, int) and not isinstance(value, bool):
                into[key] = max(old, value)
            else:
                into[key] = copy.deepcopy(value)

    merged: dict[str, Any] = {}
    for finding in findings:
        if finding.fix:
            merge(merged, finding.fix)
    return merged or None


@dataclass(frozen=True)
class StageCost:
    """Cost of one stage (or of the whole model)."""

    params: int
    macs: int
    elementwise: int

    @property
    def flops(self) -> int:
        """FLOPs counted as 2 x MACs."""
        return 2 * self.macs


@dataclass(frozen=True)
class LevelCost:
    """Cost of the ops that ran at one level's resolution, per stage."""

    level: int | None  # log2 of the stride; None for ops at no level
    stride: int | None
    macs: dict[str, int]
    elementwise: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "stride": self.stride, "macs": dict(self.macs),
                "elementwise_ops": dict(self.elementwise)}


@dataclass(frozen=True)
class HeadOutput:
    """One output of the head, such as ``cls P3``."""

    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModuleRow:
    """One line of the per-module breakdown."""

    name: str
    type: str
    depth: int
    params: int
    macs: int
    elementwise: int
    calls: int
    shape: str


@dataclass(frozen=True)
class NotCounted:
    """An op with no cost formula: reported, never costed as zero."""

    op: str
    calls: int
    modules: tuple[str, ...]


@dataclass(frozen=True)
class CrossCheck:
    """MACs from another counter on the same model, beside fpnscope's own."""

    backend: str
    device: str
    macs: int  # the other tool's multiply-accumulates of conv / linear / matmul
    ours: int
    by_operator: dict[str, int]
    skipped: dict[str, int]  # ops the other tool did not count, with call counts

    @property
    def delta(self) -> float:
        """Relative difference of ours against theirs."""
        return (self.ours - self.macs) / self.macs if self.macs else 0.0


@dataclass(frozen=True)
class MemoryInfo:
    """Bytes of parameters (and buffers) and the peak of live activations in one forward pass."""

    params_bytes: int
    activations_peak_bytes: int  # tracked from every storage the forward creates
    method: str  # how the peak was found, e.g. "estimated on the meta device"

    @property
    def total_bytes(self) -> int:
        return self.params_bytes + self.activations_peak_bytes


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    source: str
    backbone: str
    neck: str
    head: str | None


@dataclass(frozen=True)
class InputInfo:
    batch: int
    channels: int
    height: int
    width: int


@dataclass(frozen=True)
class DeviceInfo:
    requested: str
    used: str
    note: str | None = None


@dataclass
class InspectReport:
    """Everything ``fpnscope inspect`` found."""

    model: ModelInfo
    input: InputInfo
    device: DeviceInfo
    backbone_levels: list[Level]
    levels: list[Level]
    stages: dict[str, StageCost | None]
    diagnostics: list[Finding] = field(default_factory=list)
    not_counted: list[NotCounted] = field(default_factory=list)
    modules: list[ModuleRow] = field(default_factory=list)
    crosscheck: CrossCheck | None = None
    head_outputs: list[HeadOutput] = field(default_factory=list)
    level_costs: list[LevelCost] = field(default_factory=list)
    memory: MemoryInfo | None = None

    @property
    def total(self) -> StageCost:
        """The sum over the stages present."""
        present = [s for s in self.stages.values() if s is not None]
        return StageCost(
            params=sum(s.params for s in present),
            macs=sum(s.macs for s in present),
            elementwise=sum(s.elementwise for s in present),
        )

    @property
    def has_errors(self) -> bool:
        """True when a diagnostic is an error (the command then exits 1)."""
        return any(f.severity == "error" for f in self.diagnostics)

    @property
    def has_warnings(self) -> bool:
        """True when a diagnostic is a warning (with --strict the command then exits 1)."""
        return any(f.severity == "warning" for f in self.diagnostics)

    def _per_stage(self, attr: str) -> dict[str, int | None]:
        out: dict[str, int | None] = {"total": getattr(self.total, attr)}
        for stage in STAGES:
            cost = self.stages.get(stage)
            out[stage] = getattr(cost, attr) if cost is not None else None
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "tool": {"name": "fpnscope", "version": __version__, "command": "inspect"},
            "model": asdict(self.model),
            "input": asdict(self.input),
            "device": asdict(self.device),
            "backbone_levels": [lvl.to_dict() for lvl in self.backbone_levels],
            "levels": [lvl.to_dict(with_sources=True) for lvl in self.levels],
            "params": self._per_stage("params"),
            "macs": self._per_stage("macs"),
            "flops": self._per_stage("flops"),
            "elementwise_ops": self._per_stage("elementwise"),
            "head_outputs": [{"name": h.name, "shape": list(h.shape)} for h in self.head_outputs],
            "memory": None if self.memory is None else asdict(self.memory) | {"total_bytes": self.memory.total_bytes},
            "level_costs": [lc.to_dict() for lc in self.level_costs],
            "not_counted": [asdict(n) | {"modules": list(n.modules)} for n in self.not_counted],
            "diagnostics": [asdict(f) for f in self.diagnostics],
            "corrected": merge_fixes(self.diagnostics),
            "modules": [asdict(m) for m in self.modules],
            "crosscheck": None
            if self.crosscheck is None
            else asdict(self.crosscheck) | {"delta": self.crosscheck.delta},
        }
