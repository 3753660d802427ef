"""A tensor with fewer dimensions than the map it meets lines up with the map's *last* ones: a
BiFPN weight of shape (2,) multiplied into a (2, N, C, H, W) stack meets the columns (32), not the
two inputs. The fix reshapes it to meet the dimension it was meant for."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from fpnscope.analysis.measure.operands import Operand
from fpnscope.reports.findings import EditCode


def misaligned(operands: Sequence[Operand], dim: int | None) -> dict[str, Any] | None:
    """Which operand has too few dimensions and the dimension of the other it was meant for: the
    first dimension of the larger one whose size equals its own."""
    if dim is None or len(operands) != 2:
        return None
    small, big = sorted(operands, key=lambda o: len(o.shape))
    if not small.shape or len(small.shape) >= len(big.shape) or len(small.shape) != 1:
        return None
    meant = next((d for d, size in enumerate(big.shape) if size == small.shape[0]), None)
    if meant is None or meant == dim:
        return None
    return {"small": small, "rank": len(big.shape), "meant": meant, "met": big.shape[dim]}


def explain(operands: Sequence[Operand], dim: int | None) -> dict[str, Any] | None:
    """``{"chain": [], "because": ...}`` for the report's "why" line."""
    found = misaligned(operands, dim)
    if found is None:
        return None
    size = found["small"].shape[0]
    return {"chain": [], "input": False,  # no input size changes it
            "because": (f"a tensor of shape ({size},) lines up with the last dimension ({found['met']}) "
                        f"when broadcast, not with dimension {found['meant']} ({size})")}


_OPERATORS = {"mul": ast.Mult, "add": ast.Add, "sub": ast.Sub, "div": ast.Div}


def reshape_fix(operands: Sequence[Operand], dim: int | None, op: str, file: str, line: int,
                text: str) -> EditCode | None:
    """``w.view(-1, 1, 1, 1, 1)``, written with the user's expression for the small operand: the
    side of the line's one ``op`` (``*`` for mul) that it is."""
    found = misaligned(operands, dim)
    if found is None or op not in _OPERATORS:
        return None
    try:
        tree = ast.parse(text.strip().rstrip(":"), mode="exec")
    except SyntaxError:
        return None
    binops = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, _OPERATORS[op])]
    if len(binops) != 1:
        return None  # none, or several: which one raised is not known
    binop = binops[0]
    side = binop.left if operands.index(found["small"]) == 0 else binop.right
    ones = ", ".join(["-1", *["1"] * (found["rank"] - 1 - found["meant"])])
    lead = "1, " * found["meant"]
    code = f"{ast.unparse(side)}.view({lead}{ones})"
    return EditCode(file, line, code, f"reshape it to meet dimension {found['meant']}")
