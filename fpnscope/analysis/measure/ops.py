"""How each aten op is counted: MACs, element-wise ops, free data movement, or not counted.

MACs come from ``torch.utils.flop_counter``'s formulas (convolution, mm, addmm, bmm, attention),
which work on meta tensors; its FLOPs are 2 x MACs. Everything else with a simple cost is counted
as element-wise ops, one op per element times the factor below, so neck variants that differ only
in their fusion (add, weighted sum, resize) can still be told apart. An op in none of these tables
is reported as not counted rather than silently costed at zero.
"""

from __future__ import annotations

import math
from typing import Any

from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry

# Reshaping, copying, allocating and indexing: no arithmetic.
FREE = frozenset(
    """
    view _unsafe_view reshape _reshape_alias permute transpose t expand expand_as slice select
    unsqueeze squeeze flatten unflatten cat stack split split_with_sizes chunk unbind clone copy
    _to_copy contiguous detach alias empty empty_like empty_strided zeros zeros_like ones ones_like
    full full_like new_empty new_empty_strided new_zeros new_ones new_full fill zero normal uniform
    bernoulli lift_fresh lift_fresh_copy as_strided constant_pad_nd pad reflection_pad2d
    replication_pad2d roll narrow repeat unfold im2col col2im pixel_shuffle pixel_unshuffle
    channel_shuffle arange linspace scalar_tensor index index_select gather native_dropout dropout
    _local_scalar_dense sym_size sym_stride sym_numel resize set split_copy view_copy unbind_copy
    permute_copy slice_copy select_copy squeeze_copy unsqueeze_copy expand_copy t_copy
    transpose_copy clone_ detach_ masked_select index_put _index_put_impl scatter flip
    """.split()
)

# One op per output element.
ELEMENTWISE = frozenset(
    """
    add sub rsub mul div neg abs relu relu6 sigmoid silu gelu hardswish hardsigmoid hardtanh tanh
    exp log log1p sqrt rsqrt pow clamp clamp_min clamp_max maximum minimum where erf leaky_relu elu
    celu selu softplus mish reciprocal masked_fill threshold sign floor ceil round trunc eq ne gt lt
    ge le logical_and logical_or logical_not bitwise_and bitwise_or addcmul addcdiv lerp square
    sin cos frac glu prelu _prelu_kernel
    """.split()
)

# Ops per output element for norms (normalise, then the affine term) and resizes.
PER_OUTPUT = {
    "native_batch_norm": 2,
    "_native_batch_norm_legit": 2,
    "_native_batch_norm_legit_no_training": 2,
    "_native_batch_norm_legit_functional": 2,
    "batch_norm": 2,
    "native_group_norm": 4,  # mean and variance per group, then normalise and affine
    "native_layer_norm": 4,
    "upsample_nearest1d": 1,
    "upsample_nearest2d": 1,
    "upsample_nearest3d": 1,
    "_upsample_nearest_exact2d": 1,
    "upsample_bilinear2d": 4,  # four taps per output pixel
    "_upsample_bilinear2d_aa": 4,
    "upsample_bicubic2d": 16,
    "grid_sampler_2d": 4,
}

# One op per input element.
PER_INPUT = frozenset(
    """
    sum mean amax amin max min var std var_mean std_mean prod norm linalg_vector_norm logsumexp
    adaptive_avg_pool2d _adaptive_avg_pool2d adaptive_max_pool2d cumsum argmax argmin
    """.split()
)

# Softmax: exp, sum, divide.
PER_INPUT_3 = frozenset({"_softmax", "_safe_softmax", "softmax", "_log_softmax", "log_softmax"})

# Window ops: kernel area per output element.
POOLING = frozenset({"max_pool2d", "max_pool2d_with_indices", "avg_pool2d"})


def op_name(func: Any) -> str:
    """``aten.add_.Tensor`` -> ``add_`` (the packet name without namespace)."""
    return func.overloadpacket.__name__


def macs_of(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> int | None:
    """MACs of a matrix op by torch's own formula, or None when the op is not one."""
    formula = flop_registry.get(func.overloadpacket)
    if formula is None:
        return None
    return int(formula(*args, **kwargs, out_val=out)) // 2


def elementwise_ops(name: str, args: tuple[Any, ...], out: Any) -> int | None:
    """Element-wise ops of a non-matrix op; 0 for free ops; None when there is no formula."""
    base = name.rstrip("_")  # in-place variants cost the same
    if base in FREE:
        return 0
    if base in ELEMENTWISE:
        return _numel(out)
    if base in PER_OUTPUT:
        return PER_OUTPUT[base] * _numel(_first(out))
    if base in PER_INPUT:
        return _numel(args[0])
    if base in PER_INPUT_3:
        return 3 * _numel(args[0])
    if base == "roi_align":
        return _roi_align_ops(args, out)
    if base in POOLING:
        kernel = args[1] if len(args) > 1 else (1,)
        kernel = list(kernel) if isinstance(kernel, (list, tuple)) else [kernel]
        if len(kernel) == 1:
            kernel = kernel * 2
        return math.prod(kernel) * _numel(_first(out))
    return None


def _roi_align_ops(args: tuple[Any, ...], out: Any) -> int | None:
    """RoIAlign (torchvision): ``sampling_ratio²`` bilinear samples of 4 taps per output element.

    An adaptive ratio (0 or less) depends on the boxes' values: not counted.
    """
    ratio = args[5] if len(args) > 5 else 0
    if not isinstance(ratio, int) or ratio <= 0:
        return None
    return 4 * ratio * ratio * _numel(out)


def _first(value: Any) -> Any:
    """The main result of ops that also return statistics or indices."""
    return value[0] if isinstance(value, (tuple, list)) else value


def _numel(value: Any) -> int:
    leaves, _ = tree_flatten(value)
    return sum(leaf.numel() for leaf in leaves if hasattr(leaf, "numel") and hasattr(leaf, "shape"))
