"""Theoretical receptive fields, followed op by op through the forward the analysis already runs.

Each tensor computed from the image carries a :class:`Field`: the side, in input pixels, of the
window of the image it depends on, and its jump (the input pixels between two neighbouring
elements). A k×k convolution or pooling with dilation d grows the side by ``(d·(k-1))·jump`` and
multiplies the jump by its stride; a resize divides the jump (bilinear adds one input pixel);
element-wise ops, concatenation and reshapes keep the widest field of their inputs. Ops that mix
the whole map make the field global: pooling to 1×1 and then spreading it again (PPM, ASPP's image
pooling) and attention (``bmm``), windowed attention included, whose windows are not followed.
A map multiplied by a 1×1 gate (squeeze-excitation, channel attention) keeps its own field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from torch import Tensor
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakTensorKeyDictionary

_POOLS = {"max_pool2d_with_indices", "max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d"}
_RESIZES = {"upsample_nearest2d", "_upsample_nearest_exact2d", "upsample_bilinear2d", "_upsample_bilinear2d_aa",
            "upsample_bicubic2d", "upsample_nearest1d", "upsample_linear1d"}
_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "var", "std", "var_mean", "logsumexp"}
# ops whose output depends on no input's values: new tensors shaped like their input
_FRESH = {"empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "randint_like", "new_empty",
          "new_zeros", "new_ones", "new_full", "new_empty_strided", "normal", "uniform", "bernoulli", "fill", "zero",
          "random", "exponential", "sym_size", "sym_stride", "sym_numel", "_local_scalar_dense"}
_ATTENTION = {"bmm", "baddbmm", "_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention",
              "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_cudnn_attention",
              "_scaled_dot_product_attention_math"}


@dataclass(frozen=True)
class Field:
    """The window of the image a tensor element depends on: its side and the jump between
    neighbours, in input pixels; ``whole``: it depends on the whole image.

    >>> Field.pixel().grown(kernel=7, stride=2).grown(kernel=3, stride=2)  # ResNet's stem
    Field(side=11.0, jump=4.0, whole=False)
    """

    side: float
    jump: float
    whole: bool = False

    @classmethod
    def pixel(cls) -> Field:
        return cls(1.0, 1.0)

    def grown(self, kernel: int, stride: float, dilation: int = 1) -> Field:
        """After a window of ``kernel`` taps ``dilation`` apart, moved by ``stride``."""
        return Field(self.side + dilation * (kernel - 1) * self.jump, self.jump * stride, self.whole)

    @property
    def pixels(self) -> int | None:
        """The side in whole pixels; None when the field is the whole image."""
        return None if self.whole else math.ceil(self.side - 1e-9)


def pair(value: Any, default: int = 1) -> tuple[int, int]:
    """A layer's size along rows and columns, from an int or a pair: ``(3, 3)`` for 3."""
    if value is None or value == []:
        return (default, default)
    if isinstance(value, (list, tuple)):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


def _spatial(tensor: Tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.shape[2:]) if tensor.dim() >= 3 else ()


class ReceptiveFields:
    """The field of every tensor of a forward, kept while the tensor lives.

    >>> import torch
    >>> fields = ReceptiveFields()
    >>> x = torch.empty(1, 3, 64, 64, device="meta")
    >>> fields.seed(x, Field.pixel())
    >>> y = torch.empty(1, 8, 32, 32, device="meta")
    >>> fields.record("convolution", (x, torch.empty(8, 3, 3, 3), None, [2, 2], [1, 1], [1, 1], False), {}, y)
    >>> fields.of(y)
    Field(side=3.0, jump=2.0, whole=False)
    """

    def __init__(self) -> None:
        self._fields = WeakTensorKeyDictionary()

    def seed(self, tensor: Tensor, field: Field | None) -> None:
        """Give ``tensor`` a field (the image: one pixel; a stage's input: its level's)."""
        if field is not None:
            self._fields[tensor] = field

    def of(self, tensor: Any) -> Field | None:
        """The field of ``tensor``; None when it was not computed from the image."""
        return self._fields.get(tensor) if isinstance(tensor, Tensor) else None

    def record(self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """An op ran: give its outputs the field its inputs and its window make."""
        tensors = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, Tensor)]
        fields = [(t, self._fields[t]) for t in tensors if t in self._fields]
        if op in _FRESH:  # a new tensor (or one overwritten in place) depends on nothing it was given
            for leaf in tree_flatten(out)[0]:
                if isinstance(leaf, Tensor) and leaf in self._fields:
                    del self._fields[leaf]
            return
        if not fields:
            return
        field = self._through(op, args, fields, out)
        for leaf in tree_flatten(out)[0]:
            if isinstance(leaf, Tensor) and field is not None:
                self._fields[leaf] = field

    def _through(self, op: str, args: tuple[Any, ...], fields: list[tuple[Tensor, Field]], out: Any) -> Field | None:
        first, field = fields[0]
        if op == "convolution" and isinstance(args[1], Tensor) and args[0] is first:
            kernel = max(int(k) for k in args[1].shape[2:]) if args[1].dim() > 2 else 1
            stride, dilation, transposed = max(pair(args[3])), max(pair(args[5])), bool(args[6])
            if transposed:  # each output reads ceil(k / s) inputs, and the grid gets finer
                return Field(field.side + (math.ceil(kernel / stride) - 1) * field.jump, field.jump / stride, field.whole)
            return field.grown(kernel, stride, dilation)
        if op in _POOLS and args[0] is first:
            kernel = max(pair(args[1]))
            stride = max(pair(args[2] if len(args) > 2 else None, kernel))
            dilation = max(pair(args[4])) if op.startswith("max") and len(args) > 4 else 1
            return field.grown(kernel, stride, dilation)
        if op in ("_adaptive_avg_pool2d", "adaptive_max_pool2d", "_adaptive_avg_pool3d"):
            size_in, size_out = _spatial(first), _spatial(_first_tensor(out))
            if all(o == 1 for o in size_out):
                return Field(math.inf, field.jump, whole=True)
            kernel = max(math.ceil(i / o) for i, o in zip(size_in, size_out) if o)
            return field.grown(kernel, max(i / o for i, o in zip(size_in, size_out) if o))
        if op in _RESIZES:
            size_in, size_out = _spatial(first), _spatial(_first_tensor(out))
            ratio = max((i / o for i, o in zip(size_in, size_out) if o), default=1.0)
            extra = field.jump if ("bilinear" in op or "linear" in op) else 0.0
            extra = 3 * field.jump if "bicubic" in op else extra
            return Field(field.side + extra, field.jump * ratio, field.whole)
        if op == "pixel_unshuffle":
            return field.grown(int(args[1]), int(args[1]))
        if op == "pixel_shuffle":
            return Field(field.side, field.jump / int(args[1]), field.whole)
        if op == "im2col":
            return field.grown(max(pair(args[1])), max(pair(args[4])), max(pair(args[2])))
        if op == "slice" and first.dim() == 4 and len(args) > 4 and int(args[1]) in (2, 3, -1, -2) and int(args[4]) > 1:
            return Field(field.side, field.jump * int(args[4]), field.whole)  # a strided slice (YOLOv5's Focus)
        if op in _REDUCTIONS and _reduces_space(first, args):
            return Field(math.inf, field.jump, whole=True)
        if op in _ATTENTION:
            return Field(math.inf, field.jump, whole=True)
        return _widest(fields, out)


def _first_tensor(out: Any) -> Tensor:
    return next(t for t in tree_flatten(out)[0] if isinstance(t, Tensor))


def _reduces_space(tensor: Tensor, args: tuple[Any, ...]) -> bool:
    """Whether a reduction runs over the spatial dims of an NCHW map (dims 2 and 3), or over all."""
    if tensor.dim() != 4:
        return False
    dims = args[1] if len(args) > 1 else None
    if dims is None or dims == []:
        return True
    dims = [dims] if isinstance(dims, int) else list(dims)
    return any(int(d) % 4 in (2, 3) for d in dims)


def _widest(fields: list[tuple[Tensor, Field]], out: Any) -> Field:
    """Element-wise ops, concatenation, reshapes: the widest field of the inputs, leaving out a
    spatial 1×1 gate applied over a larger map (its context is the gate's, not the map's)."""
    target = tree_flatten(out)[0]
    shape = next((_spatial(t) for t in target if isinstance(t, Tensor)), ())
    spread = [(t, f) for t, f in fields if not (_spatial(t) and all(d == 1 for d in _spatial(t)) and
                                               any(d > 1 for d in shape))]
    chosen = [f for _, f in (spread or fields)]
    side = max(f.side for f in chosen)
    return Field(side, min(f.jump for f in chosen), any(f.whole for f in chosen))
