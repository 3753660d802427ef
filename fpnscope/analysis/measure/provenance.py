"""Where each tensor of a measured forward came from: the input levels it was computed from
(its tags), and the op and module that made it. One record shared by the "Fed by" column and
the crash report, which names a failing op's operands in pyramid terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakTensorKeyDictionary

IMAGE = "the input image"  # the tag of the batch the backbone is given


@dataclass(frozen=True)
class Producer:
    """The op that made a tensor, the module it ran in, and the shape and tags of its first input."""

    op: str
    module: str
    source_shape: tuple[int, ...]
    source_tags: frozenset[str]
    source_is_input: bool  # its first input was a stage's input level itself (C3, not derived from it)


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

    def record(self, op: str, module: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """An op ran: carry its inputs' tags to its outputs and remember it made them."""
        sources: frozenset[str] = frozenset()
        first: Tensor | None = None
        for leaf in tree_flatten((args, kwargs))[0]:
            if isinstance(leaf, Tensor):
                first = first if first is not None else leaf
                if leaf in self._tags:
                    sources |= self._tags[leaf]
        made = Producer(op, module, tuple(first.shape) if first is not None else (),
                        self.tags(first) if first is not None else frozenset(),
                        first is not None and first in self._inputs)
        for leaf in tree_flatten(out)[0]:
            if isinstance(leaf, Tensor):
                if leaf not in self._producers or leaf is not first:  # an in-place op keeps its maker
                    self._producers[leaf] = made
                if sources:
                    self._tags[leaf] = self._tags.get(leaf, frozenset()) | sources
