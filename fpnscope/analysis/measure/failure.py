"""An op that raised during a measured forward: which op, in which module, on what, called from
which line of the user's code, and whether the operands' shapes explain it.

The shapes are checked here, with the rules the ops follow (broadcasting, concatenation, channels
of a convolution, inner dimensions of a product, elements of a reshape); torch's message is never
read. A failure the shapes explain is the model's own bug, on any device; one they do not explain
(an op with no meta kernel, ``.item()``) is the meta device's limit.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from torch import Tensor
from torch.utils._pytree import tree_flatten

# frames in these folders are the machinery, not the code that made the call
_SKIP = tuple(str(Path(m.__file__ or "").resolve().parent) for m in (sys.modules["torch"], sys.modules["fpnscope"]))
_STDLIB = str(Path(sys.modules["contextlib"].__file__ or "").resolve().parent)

_BROADCAST = frozenset(
    """add sub rsub mul div maximum minimum where eq ne lt le gt ge pow atan2 remainder fmod
    logical_and logical_or bitwise_and bitwise_or addcmul addcdiv lerp masked_fill copy""".split()
)
_CONCAT = frozenset({"cat", "stack"})
_PRODUCTS = frozenset({"mm", "bmm", "addmm", "matmul", "linear", "baddbmm"})
_RESHAPES = frozenset({"view", "reshape", "_unsafe_view"})


@dataclass(frozen=True)
class SourceLine:
    """Where the user's code made the call."""

    file: str
    line: int
    function: str
    text: str

    @property
    def where(self) -> str:
        return f"{Path(self.file).name}:{self.line}"


@dataclass(frozen=True)
class ShapeProblem:
    """What the shapes say is wrong: the rule, the dimension, the sizes that disagree."""

    rule: str  # "broadcast" | "concat" | "channels" | "inner" | "elements" | "elements-multiple"
    dim: int | None  # the dimension that disagrees (from the front), when there is one
    sizes: tuple[int, ...]  # the disagreeing sizes, in operand order
    operands: tuple[int, ...]  # which operands (indices into OpFailure.operands)


@dataclass
class OpFailure:
    """The op that raised, and everything known at that moment."""

    op: str  # aten packet name: add, cat, convolution, view...
    module: str  # the innermost module running, e.g. "neck.lateral.1" ("" at the top)
    operands: list[Tensor] = field(repr=False)  # the tensors it was given, in order
    shapes: list[tuple[int, ...]]
    args: tuple[Any, ...] = field(repr=False, default=())  # the non-tensor arguments, for reshapes
    source: SourceLine | None = None
    problem: ShapeProblem | None = None
    error: str = ""  # the exception's type, for the report of an unexplained failure

    @classmethod
    def capture(cls, op: str, module: str, args: tuple[Any, ...], kwargs: dict[str, Any], err: BaseException) -> OpFailure:
        """Record the failing op from inside the dispatch (the user's frame is still on the stack)."""
        leaves = tree_flatten((args, kwargs))[0]
        tensors = [t for t in leaves if isinstance(t, Tensor)]
        shapes = [tuple(int(d) for d in t.shape) for t in tensors]
        failure = cls(op, module, tensors, shapes, args, user_frame(), error=type(err).__name__)
        failure.problem = check_shapes(op, shapes, args)
        return failure


def user_frame(skip: Sequence[str] = _SKIP) -> SourceLine | None:
    """The innermost frame of code that is neither torch's, fpnscope's nor the standard library's."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not str(Path(name).resolve()).startswith((*skip, _STDLIB)) and not name.startswith("<"):
            return SourceLine(name, frame.f_lineno, frame.f_code.co_name, linecache.getline(name, frame.f_lineno).strip())
        frame = frame.f_back
    return None


def raised_at(err: BaseException, skip: Sequence[str] = _SKIP) -> SourceLine | None:
    """The innermost line of the user's code in ``err``'s traceback."""
    found: SourceLine | None = None
    tb = err.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not str(Path(name).resolve()).startswith((*skip, _STDLIB)) and not name.startswith("<"):
            found = SourceLine(name, tb.tb_lineno, tb.tb_frame.f_code.co_name, linecache.getline(name, tb.tb_lineno).strip())
        tb = tb.tb_next
    return found


def _broadcast(shapes: Sequence[tuple[int, ...]]) -> ShapeProblem | None:
    """Two shapes broadcast when, aligned from the right, each pair of sizes is equal or has a 1.

    >>> _broadcast([(1, 256, 100, 167), (1, 256, 100, 168)])
    ShapeProblem(rule='broadcast', dim=3, sizes=(167, 168), operands=(0, 1))
    """
    rank = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (rank - len(s)) + s for s in shapes]
    for dim in range(rank):
        sizes = {i: s[dim] for i, s in enumerate(padded) if s[dim] != 1}
        if len(set(sizes.values())) > 1:
            return ShapeProblem("broadcast", dim, tuple(sizes.values()), tuple(sizes))
    return None


def _concat(shapes: Sequence[tuple[int, ...]], dim: int) -> ShapeProblem | None:
    """Concatenated tensors agree in every dimension but the one they are joined along."""
    if not shapes:
        return None
    rank = len(shapes[0])
    dim = dim % rank if rank else 0
    for d in range(rank):
        if d == dim:
            continue
        sizes = [s[d] if len(s) == rank else -1 for s in shapes]
        if len(set(sizes)) > 1:
            return ShapeProblem("concat", d, tuple(sizes), tuple(range(len(shapes))))
    return None


def check_shapes(op: str, shapes: Sequence[tuple[int, ...]], args: tuple[Any, ...]) -> ShapeProblem | None:
    """The rule the operand shapes break for ``op``, or None when they are fine (or the op is not
    one whose rule is known here).

    >>> check_shapes("convolution", [(1, 64, 10, 10), (256, 96, 1, 1)], ()).sizes
    (96, 64)
    >>> check_shapes("cat", [(1, 2, 16, 16), (1, 2, 15, 15)], ([None, None], 1)).dim
    2
    """
    name = op.rstrip("_")
    if name in _BROADCAST:
        return _broadcast(shapes)
    if name in _CONCAT:
        dim = args[1] if len(args) > 1 and isinstance(args[1], int) else 0
        return _concat(shapes, dim)
    if name == "convolution" and len(shapes) >= 2:
        groups = args[8] if len(args) > 8 and isinstance(args[8], int) else 1
        transposed = len(args) > 6 and args[6] is True
        expected = shapes[1][0] if transposed else shapes[1][1] * groups
        if len(shapes[0]) >= 2 and shapes[0][1] != expected:
            return ShapeProblem("channels", 1, (expected, shapes[0][1]), (1, 0))
        return None
    if name in _PRODUCTS and len(shapes) >= 2:
        first, second = (shapes[-2], shapes[-1]) if name in ("addmm", "baddbmm") else (shapes[0], shapes[1])
        inner = second[-1] if name == "linear" else (second[-2] if len(second) >= 2 else second[0])
        if first and first[-1] != inner:
            return ShapeProblem("inner", len(first) - 1, (first[-1], inner), (0, 1))
        return None
    if name in _RESHAPES and shapes and len(args) > 1 and isinstance(args[1], (list, tuple)):
        wanted = [int(d) for d in args[1]]
        have = 1
        for d in shapes[0]:
            have *= d
        known = 1
        for d in wanted:
            known *= d if d != -1 else 1
        if -1 in wanted and (known == 0 or have % known):
            return ShapeProblem("elements-multiple", None, (have, known), (0,))
        if -1 not in wanted and known != have:
            return ShapeProblem("elements", None, (have, known), (0,))
    return None
