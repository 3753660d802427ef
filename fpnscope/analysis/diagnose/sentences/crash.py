"""The sentences of a forward that raised: where, on what, and each fix."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fpnscope.analysis.diagnose.sentences.table import Facts, Writers
from fpnscope.analysis.diagnose.spelling import spelled
from fpnscope.reports.findings import BuildWith, EditCode, Fix, PadInput, SetInput, SetKeys

WRITERS = Writers()


def _operand_text(operand: Mapping[str, Any]) -> str:
    shape = "×".join(map(str, operand["shape"]))
    return f"{operand['what']}: {shape}"


def _at(facts: Facts) -> str:
    where = facts["source"]["where"] if facts.get("source") else None
    return f"{facts['module'] or 'the ' + facts['stage']}" + (f" ({where})" if where else "")


@WRITERS.title("forward-error")
def _forward_title(facts: Facts) -> str:
    """``add fails in neck (mypan.py:22)``: what a layout that lists the operands apart leads with."""
    if facts.get("rule") not in ("broadcast", "concat"):
        return ""
    return f"{'joining' if facts['rule'] == 'concat' else facts['op']} fails in {_at(facts)}"


@WRITERS("forward-error", "forward-error")
def _forward(facts: Facts, fixes: Sequence[Fix]) -> tuple[str, str]:
    where = facts["source"]["where"] if facts.get("source") else None
    at = _at(facts)
    operands = [o for o in facts["operands"] if o.get("made") != "parameter"]
    rule, sizes = facts.get("rule"), facts.get("sizes") or []
    info = facts.get("module_info") or {}
    if rule == "channels":
        got = sizes[1] if len(sizes) > 1 else "?"
        source = operands[0]["what"] if operands else "its input"
        message = f"{facts['module']}" + (f" ({where})" if where else "") + f" expects {sizes[0]} input channels; "
        message += f"{source} has {got}" + (f" ({'×'.join(map(str, operands[0]['shape']))})" if operands else "")
    elif rule in ("broadcast", "concat"):
        message = f"{_forward_title(facts)}: " + " and ".join(_operand_text(o) for o in operands)
        message += f" disagree in {facts.get('dim') or 'size'} ({' vs '.join(map(str, sizes))})"
        explained = facts.get("explained")
        if explained:
            message += f"; {' → '.join(map(str, explained['chain']))}, and {explained['because']}"
    elif rule == "inner":
        message = f"{facts['op']} fails in {at}: inner sizes {sizes[0]} and {sizes[1]} differ"
        if info.get("in_features") is not None:
            message += f" ({facts['module']} expects {info['in_features']} features)"
    elif rule in ("elements", "elements-multiple"):
        needs = f"a multiple of {sizes[1]:,}" if rule == "elements-multiple" else f"{sizes[1]:,}"
        message = (f"{facts['op']} fails in {at}: the new shape needs {needs} elements but its input, "
                   f"{_operand_text(operands[0]) if operands else '?'}, has {sizes[0]:,}")
    else:
        message = f"the {facts['stage']}'s forward raised in {at}: {facts['error']}"
    return message, _forward_hint(facts, fixes)


def _forward_hint(facts: Facts, fixes: Sequence[Fix]) -> str:
    parts = []
    # img_size: auto and an input that work only together (MaxViT at 800x1333) are one fix
    size = next((f for f in fixes if isinstance(f, (PadInput, SetInput))), None) if facts.get("together") else None
    for fix in fixes:
        if size is not None and isinstance(fix, (PadInput, SetInput, SetKeys)):
            continue
        if isinstance(fix, BuildWith):
            changed = ", ".join(f"{k}={v!r}" for k, v in fix.changes.items())
            at = f" at {fix.file.rsplit('/', 1)[-1]}:{fix.line}" if fix.file else ""
            many = len(fix.layers) > 1
            which = f"the {len(fix.layers)} layers of {fix.module}" if many else fix.module
            parts.append(f"build {which} with {changed}, so {'each' if many else 'it'} gives the size of the map "
                         f"it meets: `{fix.code}`{at}, with which the forward runs (checked)")
        elif isinstance(fix, EditCode):
            needs = f" (with `{fix.imports}` at the top of the file)" if fix.imports else ""
            parts.append(f"{fix.why}: `{fix.code}` at {fix.file.rsplit('/', 1)[-1]}:{fix.line}{needs}")
        elif isinstance(fix, PadInput):
            parts.append(f"pad the input to {fix.height}x{fix.width} (a multiple of {fix.multiple}), with which "
                         "the forward runs (checked)")
        elif isinstance(fix, SetInput):
            parts.append(f"use an input of {fix.height}x{fix.width}, with which the forward runs (checked)")
        elif isinstance(fix, SetKeys) and "img_size" in fix.keys.get("backbone", {}):
            parts.append("timm builds this model for one input size: add img_size: auto to the backbone to build "
                         "it for this one")
        elif fix.kind == "set-keys":
            parts.append(f"give the {facts['stage']} in_channels: auto in its kwargs (fpnscope then passes the "
                         "measured channels)")
    if facts.get("rule") == "channels":
        sizes = facts.get("sizes") or []
        if len(sizes) > 1:
            parts.insert(0, f"build {facts['module']} with {sizes[1]} input channels" + _channels_context(facts))
    explained = facts.get("explained") or {}
    unpadded = explained.get("input", True) and not any(isinstance(f, (PadInput, SetInput)) for f in fixes) \
        and bool(explained)
    if unpadded and not any(isinstance(f, (EditCode, BuildWith)) for f in fixes):
        parts.append("no padded input makes this forward run (checked): resizing to the exact size is the fix")
    if facts.get("rule") in ("elements", "elements-multiple"):
        parts.append(_reshape_hint(facts))
    if size is not None:
        parts.append(f"timm builds this model for one input size: add img_size: auto to the backbone and use an "
                     f"input of {size.height}x{size.width}, with which the forward runs (checked; img_size: auto "
                     "alone does not)")
    if not parts:
        line = facts["source"]["text"] if facts.get("source") else ""
        parts.append(f"the line that raised is `{line}`" if line else "see the error above")
    hint = "; or ".join(parts)
    if unpadded and any(isinstance(f, (EditCode, BuildWith)) for f in fixes):
        hint += " (no padded input makes this forward run: checked)"
    return hint


def _reshape_hint(facts: Facts) -> str:
    """A reshape written for one map size: the size it was written for, when the numbers say
    (12544 = 256 × 7 × 7: pool to 7×7 first), and the layers after it sized from this map."""
    operands = [o for o in facts["operands"] if o.get("made") != "parameter"]
    sizes = facts.get("sizes") or []
    shape = operands[0]["shape"] if operands else []
    follow = "or size the layers after the reshape for the map it gets at this input"
    if facts.get("rule") != "elements" or len(shape) != 4 or len(sizes) < 2 or sizes[1] % shape[0]:
        return f"reshape by the input's own size (x.flatten(1)), {follow}"
    n, c, h, w = shape
    per = sizes[1] // n
    side = math.isqrt(per // c) if per % c == 0 else 0
    if side and side * side * c == per and (side, side) != (h, w):
        source = facts.get("source") or {}
        pool = spelled(source.get("file"), "torch.nn.functional.adaptive_avg_pool2d")
        where = f" before the reshape at {source['where']}" if source else " before the reshape"
        return (f"it was written for a {c}×{side}×{side} map ({per:,} elements an image) and gets {c}×{h}×{w}: pool "
                f"to that size first, `{pool}(x, ({side}, {side}))`{where} (as RoIAlign or a classifier's pooling "
                f"does), {follow}")
    return f"it needs {per:,} elements an image and gets {c}×{h}×{w} = {c * h * w:,}: {follow}"


def _channels_context(facts: Facts) -> str:
    """Where the layer is built and every channel count the stage gets, so the layers after it are
    fixed in the same edit: ``(neck.lat's 3 layers are built at wrong_ch.py:11 ...; the neck gets
    C3 128, C4 256, C5 512)``."""
    said = []
    built = facts.get("built")
    if built:
        which = f"{built['attribute']}'s {len(built['layers'])} layers are" if len(built["layers"]) > 1 else "it is"
        said.append(f"{which} built at {Path(built['file']).name}:{built['line']}, `{built['code']}`")
    inputs = facts.get("inputs") or []
    if len(inputs) > 1:
        said.append(f"the {facts['stage']} gets " + ", ".join(f"{name} {channels}" for name, channels in inputs))
    return f" ({'; '.join(said)})" if said else ""
