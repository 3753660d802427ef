"""A stage's forward that raised, as a finding: where (module, file:line), on what (each operand
with where it came from), why (the arithmetic of the sizes) and what to change.

The facts come from the measurement (the failing op, its operands' provenance); the sizes are
explained from the input: 1333 → 667 → 334 → 167 → 84 columns, and 84 × 2 = 168 ≠ 167.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from fpnscope.analysis.diagnose.alignment import pad_fix
from fpnscope.analysis.diagnose.broadcast import explain as explain_broadcast
from fpnscope.analysis.diagnose.broadcast import misaligned, reshape_fix
from fpnscope.analysis.diagnose.prose import finding
from fpnscope.analysis.diagnose.rounding import explain_made, rounding_fixes
from fpnscope.analysis.diagnose.spelling import missing_import, spelled
from fpnscope.analysis.measure.construction import called
from fpnscope.analysis.measure.forward import ForwardFailure
from fpnscope.models.imports import installed
from fpnscope.reports.findings import EditCode, Finding, Fix, SetKeys

_DIM_NAMES = {2: "rows", 3: "columns", 1: "channels"}


def halvings(size: int, steps: int) -> list[int]:
    """Sizes a stride-2 stack gives (each step rounds up), from the input.

    >>> halvings(1333, 4)
    [1333, 667, 334, 167, 84]
    """
    chain = [size]
    for _ in range(steps):
        chain.append(math.ceil(chain[-1] / 2))
    return chain


def explain_sizes(side: int, sizes: tuple[int, ...]) -> dict[str, Any] | None:
    """How two disagreeing sizes along one side come from the input: a level's size, and twice the
    next coarser level's (a ×2 upsample), or half the next finer's (a stride-2 step).

    >>> explain_sizes(1333, (167, 168))["because"]
    '84 × 2 = 168 ≠ 167'
    """
    if len(sizes) != 2:
        return None
    chain = halvings(side, 10)
    a, b = sizes
    for first, second in ((a, b), (b, a)):
        if first in chain:
            k = chain.index(first)
            if k + 1 < len(chain) and second == 2 * chain[k + 1] != first:
                return {"chain": chain[: k + 2], "because": f"{chain[k + 1]} × 2 = {second} ≠ {first}"}
            if k > 0 and second == chain[k - 1] // 2 != first:
                return {"chain": chain[: k + 1], "because": f"{chain[k - 1]} // 2 = {second} ≠ {first} (rounded down)"}
    return None


def _operand_nodes(source_text: str, count: int) -> list[ast.expr] | None:
    """The expressions of the failing op's operands in the user's line: the two sides of a binary
    operation, or the items of the list given to ``torch.cat`` / ``torch.stack``."""
    try:
        tree = ast.parse(source_text.strip().rstrip(":"), mode="exec")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and count == 2:
            return [node.left, node.right]
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
            if called(node) in ("cat", "concat", "concatenate", "stack") and len(node.args[0].elts) == count:
                return list(node.args[0].elts)
    return None


def _weight(node: ast.expr) -> bool:
    """A fusion weight or a constant: ``w[0]``, ``0.5``."""
    return isinstance(node, ast.Constant) or (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant))


def _unweighted(node: ast.expr) -> ast.expr:
    """The map in a weighted term: ``x`` of ``w[0] * x`` (whose size is the map's)."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        if _weight(node.left) and not isinstance(node.op, ast.Div):
            node = node.right
        elif _weight(node.right):
            node = node.left
        else:
            break
    return node


def _size_fix(failure: ForwardFailure) -> EditCode | None:
    """Resize to the exact size of the map it meets, instead of by a factor, in the user's names."""
    if failure.source is None:
        return None
    operands = [o for o in failure.operands if o.made != "parameter"]
    resized = [i for i, o in enumerate(operands) if o.made == "resize"]
    file = failure.source.file
    interpolate = spelled(file, "torch.nn.functional.interpolate")  # as the user's file can write it
    generic = EditCode(file, failure.source.line, f"{interpolate}(x, size=other.shape[-2:])",
                       "resize to the exact size of the map it meets (size=...) instead of by a scale factor"
                       if resized else "resize one map to the exact size of the other",
                       missing_import(file, interpolate))
    nodes = _operand_nodes(failure.source.text, len(operands))
    if not resized or nodes is None or len(operands) != 2:
        return generic
    resize, other = nodes[resized[0]], nodes[1 - resized[0]]
    other = _unweighted(other)
    target = ast.unparse(other)
    size = ast.parse(f"({target}).shape[-2:]" if isinstance(other, ast.BinOp) else f"{target}.shape[-2:]",
                     mode="eval").body
    scaled = next((n for n in ast.walk(resize)  # the call itself, or inside a weighting (w[1] * F.interpolate(...))
                   if isinstance(n, ast.Call) and any(k.arg == "scale_factor" for k in n.keywords)), None)
    if scaled is not None:
        scaled.keywords = [ast.keyword("size", size), *(k for k in scaled.keywords if k.arg != "scale_factor")]
        code = ast.unparse(scaled)
    elif isinstance(resize, ast.Call) and len(resize.args) == 1:  # a resize module: self.up(c5)
        code = f"{interpolate}({ast.unparse(resize.args[0])}, size={ast.unparse(size)})"
    else:
        return generic
    return EditCode(file, failure.source.line, code, f"resize to the exact size of {target} instead of by a factor",
                    missing_import(file, code))


def crash_finding(failure: ForwardFailure, hw: tuple[int, int], coarsest: int, stage: Any = None) -> Finding:
    """The ``forward-error`` finding of ``failure``; ``coarsest`` is the coarsest stride of the
    backbone's levels (the multiple a padded input needs), ``stage`` the failing stage's options."""
    op, operands = failure.op, failure.operands
    problem = op.problem if op is not None else None
    level = next((o.level for o in operands if o.level), None)
    facts: dict[str, Any] = {
        "stage": failure.stage, "device": failure.device, "error": failure.error, "module": failure.module,
        "op": op.op if op is not None else None, "rule": problem.rule if problem is not None else None,
        "source": None if failure.source is None else {"file": failure.source.file, "line": failure.source.line,
                                                        "where": failure.source.where, "text": failure.source.text},
        "operands": [{"shape": list(o.shape), "what": o.what, "level": o.level, "stride": o.stride, "made": o.made,
                      "module": o.module} for o in operands],
        "module_info": dict(failure.module_info),
        "inputs": [list(pair) for pair in failure.inputs],
        "built": None if failure.built is None else {
            "file": failure.built.file, "line": failure.built.line, "code": failure.built.code,
            "attribute": failure.built.attribute, "layers": list(failure.built.layers)},
    }
    fixes: list[Fix] = []
    if problem is not None:
        facts["sizes"] = list(problem.sizes)
        rank = max((len(s) for s in op.shapes), default=0) if op is not None else 0
        dim = problem.dim if problem.dim is None or problem.dim >= 0 else problem.dim + rank
        facts["dim"] = _DIM_NAMES.get(dim, f"dimension {dim}") if dim is not None and rank == 4 else (
            f"dimension {dim}" if dim is not None else None)
        if problem.rule in ("broadcast", "concat") and dim in (2, 3) and rank == 4:
            maps = [o for o in operands if o.made != "parameter"]
            facts["explained"] = explain_sizes(hw[dim - 2], problem.sizes) or explain_made(
                maps, dim, halvings(hw[dim - 2], 10))
            fixes += [f for f in rounding_fixes(maps) if f.file is None or not installed(f.file)]
            edit = _size_fix(failure)
            fixes += [edit] if edit is not None and not installed(edit.file) else []
        elif problem.rule == "broadcast" and misaligned(operands, dim) is not None:
            # a (2,) weight meeting the columns of a (2, N, C, H, W) stack: the weight, a parameter or not
            facts["explained"] = explain_broadcast(operands, dim)
            source = failure.source
            edit = (reshape_fix(operands, dim, op.op if op is not None else "", source.file, source.line,
                                          source.text) if source else None)
            fixes += [edit] if edit is not None and not installed(edit.file) else []
        given = getattr(stage, "kwargs", {}).get("in_channels") if getattr(stage, "kind", "") == "python" else None
        if problem.rule == "channels" and given is not None and given != "auto":
            fixes.append(SetKeys({failure.stage: {"kwargs": {"in_channels": "auto"}}}))
    if getattr(stage, "kind", "") == "timm" and getattr(stage, "img_size", "") is None and failure.stage == "backbone":
        # timm builds ViT-like models for one input size; img_size: auto builds them for this one
        fixes.append(SetKeys({"backbone": {"img_size": "auto"}}))
    if pad_fix(hw, coarsest).patch["input"] != {"height": hw[0], "width": hw[1]}:
        fixes.append(pad_fix(hw, coarsest))  # each is proposed only once the analysis with it has run (verify)
    return finding("forward-error", "error", level, facts, fixes)
