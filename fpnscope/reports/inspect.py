"""What ``inspect`` found, as plain data; ``to_dict()`` is the ``--json`` output.

JSON contract (stable keys; more may be added):

- ``schema_version``, ``tool``: {name, version, command}
- ``input``: {batch, channels, height, width}
- ``backbone_levels`` / ``levels``: lists of {name, shape, stride, channels, key}; ``key`` is what a
  stage returning a dict called the map (else null); pyramid levels also carry ``sources``, the
  backbone levels that fed them
- ``params`` / ``macs`` / ``flops`` / ``elementwise_ops``: {total, backbone, neck, head}; ``head`` is
  null when the model has no head. MACs are multiply-accumulates of conv / linear / matmul, FLOPs =
  2 x MACs; element-wise ops (adds, resizes, pooling, norms, activations) are counted apart.
- ``head_outputs``: list of {name, shape, receptive_field, receptive_field_global} (``cls P3``,
  ``seg``...), empty without a head
- ``level_costs``: MACs and element-wise ops per level and stage, by the resolution each op ran at:
  list of {level, stride, macs: {backbone, neck, head}, elementwise_ops: {...}}; ops that do not
  produce a feature map (or run at a size no level has) are in a row with level null
- ``object_sizes``: a detection head's rules for giving objects to levels (anchors, RoI level rule,
  regression ranges), each level's range of object sides and receptive field, a table of sides
  and the levels they land on; null without such a head
- ``roi_costs``: head parts run once per RoI (box and mask heads): list of {stage, module, params,
  per_roi: {macs, flops, elementwise_ops}, rois_per_image, set_by, rois (x batch), macs, flops,
  elementwise_ops, in_head_total}; their MACs are in ``macs.head``, in no ``level_costs`` row
- ``memory``: {params_bytes, activations_peak_bytes, total_bytes, method}: parameters and buffers,
  and the most activation memory alive at once during one inference forward
- ``not_counted``: ops with no cost formula, {op, calls, modules}
- ``diagnostics``: list of {severity, code, level, message, hint, fix, check, facts, fixes}; ``fix``
  holds the YAML keys to write when the fix is mechanical, ``fixes`` the typed fixes ({kind:
  set-keys | pad-input | min-input | set-input | edit-code | build-with, ...}), ``facts`` what the check
  measured; ``corrected`` merges every fix into one patch
- ``stopped_at``: the stage whose forward raised (its ``forward-error`` finding says why), else null
- ``notes``: how the model was built when not as asked (on the CPU, say)
- ``modules`` (with ``--depth``), ``device``, ``model``, ``crosscheck`` (with ``--flops-backend``)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from fpnscope.reports.common import Displayable, header
from fpnscope.reports.details import CrossCheck, DeviceInfo, InputInfo, MemoryInfo, ModelInfo, ModuleRow, NotCounted
from fpnscope.reports.findings import Finding, merge_fixes
from fpnscope.reports.roi import RoICost
from fpnscope.reports.sizes import ObjectSizes
from fpnscope.spec import LevelSpec

STAGES = ("backbone", "neck", "head")


@dataclass(frozen=True)
class Level:
    """A measured feature map."""

    name: str
    shape: tuple[int, ...]
    stride: int
    channels: int
    sources: tuple[str, ...] = ()
    key: str | None = None  # the key a stage returning a dict gave this map ("res2", "p6")
    receptive_field: int | None = None  # theoretical, in input pixels; None: unknown or global
    receptive_global: bool = False  # the map depends on the whole image (attention, global pooling)

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
            "key": self.key,
            "receptive_field": self.receptive_field,
            "receptive_field_global": self.receptive_global,
        }
        if with_sources:
            out["sources"] = list(self.sources)
        return out


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
class ByStage:
    """One figure per stage and their total; a stage the model lacks (no head) is None.

    >>> ByStage(total=3, backbone=2, neck=1, head=None).neck
    1
    """

    total: int
    backbone: int | None
    neck: int | None
    head: int | None

    def to_dict(self) -> dict[str, int | None]:
        return asdict(self)


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
    """One output of the head, such as ``cls P3``, and the receptive field of its elements."""

    name: str
    shape: tuple[int, ...]
    receptive_field: int | None = None
    receptive_global: bool = False
    level: str | None = None  # the pyramid level it was computed at, for outputs per level
    output: str = ""  # the head's own name for it (``cls`` of ``cls P3``)


@dataclass
class InspectReport(Displayable):
    """Everything ``fpnscope inspect`` found.

    ``levels`` are the pyramid's measured levels, ``backbone_levels`` the backbone's; ``params``,
    ``macs`` and ``flops`` are per stage (``report.params.total``, ``report.macs.neck``).
    """

    view: ClassVar[str] = "fpnscope.render.inspect:view"

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
    stopped_at: str | None = None  # the stage whose forward raised: what follows it did not run
    notes: list[str] = field(default_factory=list)  # how the model was built, when not as asked
    roi_costs: list[RoICost] = field(default_factory=list)
    object_sizes: ObjectSizes | None = None  # which objects each level serves, for a detection head

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

    def _per_stage(self, attr: str) -> ByStage:
        by = {stage: getattr(cost, attr) if (cost := self.stages.get(stage)) is not None else None for stage in STAGES}
        return ByStage(total=getattr(self.total, attr), **by)

    @property
    def params(self) -> ByStage:
        """Parameters per stage (``report.params.total``)."""
        return self._per_stage("params")

    @property
    def macs(self) -> ByStage:
        """Multiply-accumulates of conv, linear and matmul per stage."""
        return self._per_stage("macs")

    @property
    def flops(self) -> ByStage:
        """FLOPs per stage, counted as 2 × MACs."""
        return self._per_stage("flops")

    @property
    def elementwise_ops(self) -> ByStage:
        """Element-wise ops (adds, resizes, pooling, norms, activations) per stage."""
        return self._per_stage("elementwise")

    @property
    def all_notes(self) -> list[str]:
        """The device's note (a fallback), then how the model was built and what was left out."""
        return [note for note in (self.device.note, *self.notes) if note]

    @property
    def corrected(self) -> dict[str, Any] | None:
        """Every finding's mechanical fix merged into one YAML fragment to paste, or None."""
        return merge_fixes(self.diagnostics)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            **header("inspect"),
            "model": asdict(self.model),
            "input": asdict(self.input),
            "device": asdict(self.device),
            "backbone_levels": [lvl.to_dict() for lvl in self.backbone_levels],
            "levels": [lvl.to_dict(with_sources=True) for lvl in self.levels],
            "params": self.params.to_dict(),
            "macs": self.macs.to_dict(),
            "flops": self.flops.to_dict(),
            "elementwise_ops": self.elementwise_ops.to_dict(),
            "head_outputs": [{"name": h.name, "shape": list(h.shape), "level": h.level,
                              "receptive_field": h.receptive_field, "receptive_field_global": h.receptive_global}
                             for h in self.head_outputs],
            "memory": None if self.memory is None else asdict(self.memory) | {"total_bytes": self.memory.total_bytes},
            "level_costs": [lc.to_dict() for lc in self.level_costs],
            "roi_costs": [rc.to_dict() for rc in self.roi_costs],
            "object_sizes": self.object_sizes.to_dict() if self.object_sizes is not None else None,
            "not_counted": [asdict(n) | {"modules": list(n.modules)} for n in self.not_counted],
            "diagnostics": [f.to_dict() for f in self.diagnostics],
            "corrected": self.corrected,
            "modules": [asdict(m) for m in self.modules],
            "crosscheck": None
            if self.crosscheck is None
            else asdict(self.crosscheck) | {"delta": self.crosscheck.delta},
            "stopped_at": self.stopped_at,
            "notes": list(self.notes),
        }


__all__ = ["STAGES", "ByStage", "CrossCheck", "DeviceInfo", "HeadOutput", "InputInfo", "InspectReport", "Level",
           "LevelCost", "MemoryInfo", "ModelInfo", "ModuleRow", "NotCounted", "StageCost"]
