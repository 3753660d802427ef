"""Where each tensor of a measured forward came from: the input levels it was computed from
(its tags), and the op and module that made it. One record shared by the "Fed by" column and
the crash report, which names a failing op's operands in pyramid terms."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from torch import Tensor
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakTensorKeyDictionary

IMAGE = "the input image"  # the tag of the batch the backbone is given

# pointwise ops that pass one map through, scaled or activated: BiFPN's ``w[2] * self.down(p3)``,
# ``F.relu(conv(x))``. The map keeps the maker of the tensor it carries, so a crash names that maker.
_PASS_THROUGH = frozenset(
    """mul div add sub relu relu_ sigmoid silu gelu hardswish hardsigmoid leaky_relu elu tanh clamp
    neg mul_ div_ silu_ sigmoid_ hardtanh hardtanh_ _to_copy clone contiguous detach""".split()
)


@dataclass(frozen=True)
class Producer:
    """The op that made a tensor, the module it ran in, and the shape and tags of its first input."""

    op: str
    module: str
    source_shape: tuple[int, ...]
    source_tags: frozenset[str]
    source_is_input: bool  # its first input was a stage's input level itself (C3, not derived from it)
    then: tuple[str, ...] = ()  # pointwise ops applied since (mul by a fusion weight, relu)


class Provenance:
    """Tags and producers of the tensors a forward makes, kept only while the tensors live."""

    def __init__(self) -> None:
        self._tags = WeakTensorKeyDictionary()
        self._producers = WeakTensorKeyDictionary()
        self._inputs = WeakTensorKeyDictionary()  # the tagged input levels themselves

    def tag(self, tensor: Tensor, label: str) -> None:
        """Mark ``tensor`` as the input level ``label``; ops carry the mark to their outputs."""
        self._tags[tensor] = frozenset({label})
        self._inputs[tensor] = label

    def tags(self, tensor: Tensor) -> frozenset[str]:
        """The labels ``tensor`` was computed from."""
        return self._tags.get(tensor, frozenset())

    def input_level(self, tensor: Tensor) -> str | None:
        """The level name when ``tensor`` is a tagged input level itself."""
        return self._inputs.get(tensor)

    def producer(self, tensor: Tensor) -> Producer | None:
        return self._producers.get(tensor)

    def _carried(self, op: str, tensors: list[Tensor], out: Any) -> Producer | None:
        """The maker of the one input a pointwise op passes through (the others are smaller: a
        weight, a scale), when it has one; a sum of two maps is a node of its own."""
        if op not in _PASS_THROUGH or not isinstance(out, Tensor) or out.dim() < 3:
            return None
        same = [t for t in tensors if tuple(t.shape) == tuple(out.shape)]
        if len(same) != 1 or any(t.numel() >= out.numel() for t in tensors if t is not same[0]):
            return None
        if same[0] in self._inputs:
            return None  # an input level itself: named as it is
        return self._producers.get(same[0])

    def record(self, op: str, module: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """An op ran: carry its inputs' tags to its outputs and remember it made them."""
        sources: frozenset[str] = frozenset()
        first: Tensor | None = None
        tensors = [leaf for leaf in tree_flatten((args, kwargs))[0] if isinstance(leaf, Tensor)]
        for leaf in tensors:
            first = first if first is not None else leaf
            if leaf in self._tags:
                sources |= self._tags[leaf]
        carried = self._carried(op, tensors, out)
        made = replace(carried, then=(*carried.then, op)) if carried is not None else Producer(
            op, module, tuple(first.shape) if first is not None else (),
            self.tags(first) if first is not None else frozenset(), first is not None and first in self._inputs)
        for leaf in tree_flatten(out)[0]:
            if isinstance(leaf, Tensor):
                if leaf not in self._producers or leaf is not first:  # an in-place op keeps its maker
                    self._producers[leaf] = made
                if sources:
                    self._tags[leaf] = self._tags.get(leaf, frozenset()) | sources
