"""Running one stage's forward inside a measurement, and what happens when it raises.

A failure the operands' shapes explain, or an error of plain Python (an index, a key, a type), is
the model's own: it becomes a :class:`ForwardFailure` that the report shows as a finding, on any
device. Anything else on meta (an op without a meta kernel, ``.item()``, a data-dependent shape)
is the meta device's limit: :class:`MetaUnsupported`, and the model is measured on the CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_flatten

from fpnscope.analysis.measure.build import CODE_ERRORS, reason
from fpnscope.analysis.measure.construction import Construction, constructed_at
from fpnscope.analysis.measure.counter import CostCounter
from fpnscope.analysis.measure.failure import OpFailure, SourceLine, raised_at
from fpnscope.analysis.measure.operands import Operand, operand
from fpnscope.errors import FpnscopeError


class MetaUnsupported(Exception):
    """The model cannot be built or run on the meta device; ``needed_bytes`` is what was known of its
    memory when it stopped (parameters and the activation peak so far: a lower bound)."""

    def __init__(self, message: str, needed_bytes: int = 0) -> None:
        super().__init__(message)
        self.needed_bytes = needed_bytes


@dataclass
class ForwardFailure:
    """A stage's forward raised: where, on what, and whether the shapes explain it."""

    stage: str  # backbone | neck | head
    device: str
    error: str  # the exception's type and first line, shown as it is, never read
    module: str  # the innermost module running ("neck.lateral.1")
    source: SourceLine | None  # the user's line
    op: OpFailure | None = None  # the op that raised, when one did
    operands: list[Operand] = field(default_factory=list)
    module_info: dict[str, Any] = field(default_factory=dict)  # the failing module's own sizes (a conv's channels)
    inputs: list[tuple[str, int]] = field(default_factory=list)  # the stage's input levels and their channels
    built: Construction | None = None  # the call that built the failing module, when found


class StageFailed(Exception):
    """Carries a ForwardFailure out of the stage that raised."""

    def __init__(self, failure: ForwardFailure) -> None:
        super().__init__(failure.error)
        self.failure = failure


def _module_info(module: nn.Module | None) -> dict[str, Any]:
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)):
        return {"type": type(module).__name__, "in_channels": module.in_channels,
                "out_channels": module.out_channels, "groups": module.groups}
    if isinstance(module, nn.Linear):
        return {"type": "Linear", "in_features": module.in_features, "out_features": module.out_features}
    return {"type": type(module).__name__} if module is not None else {}


def call_stage(
    stage: str,
    module: nn.Module,
    argument: Any,
    counter: CostCounter,
    device: torch.device,
    hw: tuple[int, int],
    modules: Mapping[str, nn.Module],
) -> Any:
    """``module(argument)``; a failure is a StageFailed (the model's) or MetaUnsupported (meta's)."""
    counter.failure = None
    try:
        return module(argument)
    except FpnscopeError:
        raise
    except Exception as err:
        op = counter.failure
        if device.type == "meta" and not (op is not None and op.problem is not None) and not (
            op is None and isinstance(err, CODE_ERRORS)
        ):
            needed = sum(p.numel() * p.element_size() for p in module.parameters())
            peak = counter.live.peak if counter.live is not None else 0
            raise MetaUnsupported(f"the {stage}'s forward: {reason(err)}", needed + peak) from err
        prefix = "C" if stage == "backbone" else "P"
        owners = {id(p): (path, name) for path, m in modules.items() for name, p in m.named_parameters(recurse=False)}
        operands: list[Operand] = []
        tensors: list[torch.Tensor] = op.operands if op is not None else []
        where = op.module if op is not None else counter.module
        for tensor in tensors:
            if id(tensor) in owners:
                shape = tuple(int(d) for d in tensor.shape)
                path, name = owners[id(tensor)]
                operands.append(Operand(shape, f"the parameter {path}.{name}", None, None, (), "parameter", path))
            else:
                operands.append(operand(tensor, counter.provenance, hw, prefix, modules, where))
        source = (op.source if op is not None else None) or raised_at(err)
        levels = [t for t in tree_flatten(argument)[0] if isinstance(t, torch.Tensor)]
        named = [(counter.provenance.input_level(t), int(t.shape[1])) for t in levels if t.dim() == 4]
        inputs = [(level, channels) for level, channels in named if level is not None]
        failure = ForwardFailure(stage, str(device), reason(err), where, source, op, operands,
                                 _module_info(modules.get(where)), inputs, constructed_at(modules, where))
        raise StageFailed(failure) from err
