"""One pass over a forward that counts cost per module and follows where each tensor came from.

A ``TorchDispatchMode`` sees every aten op the forward runs, on meta tensors as well as real ones.
Module hooks keep a stack of module names so each op's cost goes to the innermost module that ran
it. Tensors can be tagged (``C3``, ``C4``...) and the tags flow through every op, which tells which
inputs fed each output level of any neck, a user's own included, without knowing its code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from fpnscope.analysis.measure.failure import OpFailure
from fpnscope.analysis.measure.memory import LiveTensors
from fpnscope.analysis.measure.ops import elementwise_ops, macs_of, op_name
from fpnscope.analysis.measure.provenance import Provenance
from fpnscope.analysis.measure.receptive import ReceptiveFields


@dataclass
class Cost:
    """What ran directly in one module (not in its children)."""

    macs: int = 0
    elementwise: int = 0
    calls: int = 0
    out_shape: Any = None


@dataclass
class Uncounted:
    """An op with no cost formula: how often it ran and where."""

    calls: int = 0
    modules: set[str] = field(default_factory=set)


def shape_of(value: Any) -> Any:
    """Shapes of a module output: a tuple for a tensor, a list for several, None otherwise."""
    if isinstance(value, Tensor):
        return tuple(value.shape)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        shapes = [shape_of(v) for v in value]
        return [s for s in shapes if s is not None] or None
    return None


class CostCounter(TorchDispatchMode):
    """Count MACs and element-wise ops per module of ``root`` while a forward runs.

    >>> import torch
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 1))
    >>> with CostCounter(net) as counter, torch.no_grad():
    ...     _ = net(torch.empty(1, 3, 4, 4, device="meta"))
    >>> counter.own["0"].macs  # 16 pixels x 8 outputs x 3 inputs
    384
    """

    def __init__(self, root: nn.Module | None = None, prefix: str = "", memory: bool = True) -> None:
        super().__init__()
        self.live = LiveTensors() if memory else None
        self.own: dict[str, Cost] = defaultdict(Cost)
        # cost by (stage, output shape, shape of the running module's input): the resolution, hence
        # the level, each op ran at; the module's input places ops whose own shape does not tell
        self.by_shape: dict[tuple[str, tuple[int, ...], tuple[int, ...]], Cost] = defaultdict(Cost)
        self._inputs: dict[str, tuple[int, ...]] = {}
        self.uncounted: dict[str, Uncounted] = defaultdict(Uncounted)
        # modules whose ops run per RoI, not at a level's resolution: ``by_shape`` files them under
        # the stage "roi", which no level table reads
        self.per_roi: tuple[str, ...] = ()
        self._stack: list[str] = [""]
        self.provenance = Provenance()
        self.fields = ReceptiveFields()  # the receptive field of each tensor made from the image
        self.failure: OpFailure | None = None  # the first op that raised, with its operands
        self._handles: list[Any] = []
        if root is not None:
            self.watch(root, prefix)

    # --- module stack -----------------------------------------------------------------------
    def watch(self, root: nn.Module, prefix: str = "") -> None:
        """Attribute ops run inside ``root`` to its modules, named ``prefix.<name>``.

        Hooks stay until the counter exits, so stages built one after another can be watched
        as they appear.
        """
        for name, module in root.named_modules():
            full = ".".join(p for p in (prefix, name) if p)
            self._handles.append(module.register_forward_pre_hook(partial(self._enter, full)))
            self._handles.append(module.register_forward_hook(partial(self._leave, full)))

    def __exit__(self, *exc: Any) -> Any:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        return super().__exit__(*exc)

    def _enter(self, name: str, module: nn.Module, args: Any) -> None:
        self._stack.append(name)
        self.own[name].calls += 1
        first = next((a for a in tree_flatten(args)[0] if isinstance(a, Tensor)), None)
        self._inputs[name] = tuple(first.shape) if first is not None else ()

    def _leave(self, name: str, module: nn.Module, args: Any, output: Any) -> None:
        # Unwind to this module even if a child's hook was skipped by an exception.
        while len(self._stack) > 1 and self._stack[-1] != name:
            self._stack.pop()
        if len(self._stack) > 1:
            self._stack.pop()
        if self.own[name].out_shape is None:  # a module shared across levels: its first call's
            self.own[name].out_shape = shape_of(output)

    # --- provenance -------------------------------------------------------------------------
    def tag(self, tensor: Tensor, label: str) -> None:
        """Mark ``tensor`` as coming from ``label``; ops carry the mark to their outputs."""
        self.provenance.tag(tensor, label)

    def tags(self, tensor: Tensor) -> frozenset[str]:
        """The labels ``tensor`` was computed from."""
        return self.provenance.tags(tensor)

    @property
    def module(self) -> str:
        """The innermost module running now ("" outside every watched module)."""
        return self._stack[-1]

    # --- counting ---------------------------------------------------------------------------
    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        try:
            out = func(*args, **kwargs)
        except Exception as err:
            if self.failure is None:  # the innermost op that raised, while the user's frame is on the stack
                self.failure = OpFailure.capture(op_name(func), self._stack[-1], args, kwargs, err)
            raise
        if self.live is not None:
            self.live.track(out)
        where = self._stack[-1]
        try:
            macs = macs_of(func, args, kwargs, out)
        except Exception:  # a formula that does not understand these arguments
            macs = None
        ops = 0
        if macs is None:
            name = op_name(func)
            counted = elementwise_ops(name, args, out)
            if counted is None:
                record = self.uncounted[f"aten.{name}"]
                record.calls += 1
                record.modules.add(where)
            ops = counted or 0
        if macs or ops:
            self.own[where].macs += macs or 0
            self.own[where].elementwise += ops
            self._by_shape(where, out, macs or 0, ops)
        name = op_name(func)
        self.provenance.record(name, where, args, kwargs, out)
        self.fields.record(name.rstrip("_"), args, kwargs, out)
        return out

    def _by_shape(self, where: str, out: Any, macs: int, ops: int) -> None:
        first = out[0] if isinstance(out, (tuple, list)) and out else out
        shape = tuple(int(d) for d in first.shape) if isinstance(first, Tensor) else ()
        per_roi = any(where == p or where.startswith(p + ".") for p in self.per_roi)
        stage = "roi" if per_roi else where.split(".", 1)[0]
        cost = self.by_shape[(stage, shape, self._inputs.get(where, ()))]
        cost.macs += macs
        cost.elementwise += ops

    # --- carrying costs over ---------------------------------------------------------------
    def absorb(self, other: CostCounter) -> None:
        """Add ``other``'s counts to this counter (a stage measured once and reused)."""
        for name, cost in other.own.items():
            mine = self.own[name]
            mine.macs += cost.macs
            mine.elementwise += cost.elementwise
            mine.calls += cost.calls
            if mine.out_shape is None:
                mine.out_shape = cost.out_shape
        for key, cost in other.by_shape.items():
            self.by_shape[key].macs += cost.macs
            self.by_shape[key].elementwise += cost.elementwise
        for op, record in other.uncounted.items():
            self.uncounted[op].calls += record.calls
            self.uncounted[op].modules |= record.modules
        if self.live is not None and other.live is not None:
            self.live.peak = max(self.live.peak, other.live.peak)

    # --- totals -----------------------------------------------------------------------------
    def total(self, prefix: str = "") -> Cost:
        """MACs and element-wise ops of a module and everything under it ("": of everything)."""
        total = Cost()
        for name, cost in self.own.items():
            if not prefix or name == prefix or name.startswith(prefix + "."):
                total.macs += cost.macs
                total.elementwise += cost.elementwise
        return total
