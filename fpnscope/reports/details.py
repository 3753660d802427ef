"""The parts of an ``inspect`` report beside its levels and costs: the model and its input, the
device, memory, the per-module breakdown, ops not counted, a second counter's opinion."""

from __future__ import annotations

from dataclasses import dataclass


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
    parts_of: str | None = None  # the whole model the stages are parts of (its target)
    overridden: tuple[str, ...] = ()  # keys set over the file ("neck.out_channels=128"): the description predates them
    from_file: bool = True  # read from a preset or YAML file (not a dict or modules given from Python)

    @property
    def corrected_title(self) -> str:
        """What the corrected fragment is called: merged into a file, or a configuration to write."""
        return "Corrected YAML (merge into your file)" if self.from_file else "Corrected configuration (as YAML)"


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
