"""A layer that rounds a size down where its partner rounded up: 167 columns max-pooled by 2 give
83, while the backbone's padded stride-2 convs gave 84. The fix is to build that layer so it
rounds the same way (``ceil_mode=True`` for a pool, ``padding=k // 2`` for a conv), written as the
user's own call with the argument changed.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from fpnscope.analysis.measure.operands import Maker, Operand
from fpnscope.reports.findings import BuildWith

_POOLS = ("MaxPool2d", "AvgPool2d")
_CONV_ARGS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation")
_POOL_ARGS = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")


def out_side(n: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False) -> int:
    """The output side of a conv or pool, as torch computes it.

    >>> out_side(167, 2, 2, 0), out_side(167, 2, 2, 0, ceil=True), out_side(167, 3, 2, 1)
    (83, 84, 84)
    """
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    size = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (size - 1) * stride >= n + padding:  # the last window must start inside the map
        size -= 1
    return size


def _sides(maker: Maker, padding: tuple[int, int], ceil: bool) -> tuple[int, int]:
    rows, cols = (out_side(maker.given[2 + i], maker.kernel[i], maker.stride[i], padding[i], maker.dilation[i], ceil)
                  for i in (0, 1))
    return rows, cols


def changes_for(maker: Maker, target: tuple[int, int]) -> dict[str, Any] | None:
    """The argument that makes ``maker`` give ``target`` (rows, columns), if one does."""
    if len(maker.given) != 4:
        return None
    if maker.type in _POOLS and not maker.ceil_mode and _sides(maker, maker.padding, True) == target:
        return {"ceil_mode": True}
    if maker.type == "Conv2d" and maker.kernel[0] == maker.kernel[1]:
        for pad in range(maker.padding[0] + 1, maker.kernel[0]):
            if _sides(maker, (pad, pad), maker.ceil_mode) == target:
                return {"padding": pad}
    return None


def explain_made(operands: Sequence[Operand], dim: int, chain: Sequence[int]) -> dict[str, Any] | None:
    """How a layer's arithmetic gave one operand its size along ``dim`` (2: rows, 3: columns), when
    the chain of halvings from the input does not: ``(128 − 3) // 2 + 1 = 63 ≠ 64``; ``chain`` is the
    input side halved, cut at the other operand's size when it is in it."""
    if len(operands) != 2:
        return None
    for mine, other in (operands, operands[::-1]):
        maker = mine.maker
        if maker is None or len(maker.given) != 4 or mine.shape[dim] == other.shape[dim]:
            continue
        i = dim - 2
        n, k, st, p, d = maker.given[dim], maker.kernel[i], maker.stride[i], maker.padding[i], maker.dilation[i]
        span = f"{n}{f' + {2 * p}' if p else ''} − {d * (k - 1) + 1}"
        step = f"⌈({span}) / {st}⌉" if maker.ceil_mode else f"({span}) // {st}"
        target = other.shape[dim]
        cut = list(chain[: chain.index(target) + 1]) if target in chain else []
        return {"chain": cut, "because": f"{mine.module} gives {step} + 1 = {mine.shape[dim]} ≠ {target}"}
    return None


def _call(code: str, cls: str, changes: dict[str, Any]) -> str:
    """``code`` (the call that built the layer) with ``changes``: a positional argument replaced
    where it was given by position, else a keyword set."""
    try:
        call = ast.parse(code, mode="eval").body
    except SyntaxError:
        return code
    if not isinstance(call, ast.Call):
        return code
    order = _CONV_ARGS if cls == "Conv2d" else _POOL_ARGS
    for key, value in changes.items():
        index = order.index(key)
        node = ast.Constant(value)
        if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
            call.args[index] = node
        else:
            call.keywords = [k for k in call.keywords if k.arg != key] + [ast.keyword(key, node)]
    return ast.unparse(call)


def _fresh_call(maker: Maker, changes: dict[str, Any]) -> str:
    """The call when the line that built the layer was not found: from its sizes."""
    k, s, p = maker.kernel[0], maker.stride[0], changes.get("padding", maker.padding[0])
    extra = ", ceil_mode=True" if changes.get("ceil_mode") else ""
    if maker.type == "Conv2d":
        return f"nn.Conv2d(..., kernel_size={k}, stride={s}, padding={p})"
    return f"nn.{maker.type}({k}, {s}{', ' + str(p) if p else ''}{extra})"


def rounding_fixes(operands: Sequence[Operand]) -> list[BuildWith]:
    """For two operands that differ in size, the layer that made the smaller one built to give the
    larger one's size (proposed after the forward runs with it: see ``verify``)."""
    if len(operands) != 2 or any(len(o.shape) != 4 for o in operands):
        return []
    fixes = []
    for mine, other in (operands, operands[::-1]):
        maker = mine.maker
        if maker is None or mine.module is None or mine.shape[-2:] == other.shape[-2:]:
            continue
        target = (other.shape[-2], other.shape[-1])
        changes = changes_for(maker, target)
        if changes is None:
            continue
        built = maker.built
        if built is None:
            fixes.append(BuildWith(mine.module, (mine.module,), changes, None, None, _fresh_call(maker, changes)))
        else:
            name = built.attribute if len(built.layers) > 1 else mine.module
            fixes.append(BuildWith(name, built.layers, changes, built.file, built.line,
                                   _call(built.code, maker.type, changes)))
    return fixes
