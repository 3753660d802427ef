"""The operands of a failing op, named in pyramid terms: "lateral.0 (conv 1×1 512→256) of C3",
"×2 upsample of P4", with their shapes and the level their size puts them at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from torch import Tensor, nn

from fpnscope.analysis.measure.construction import Construction, constructed_at
from fpnscope.analysis.measure.geometry import stride_of_shape
from fpnscope.analysis.measure.modules import describe
from fpnscope.analysis.measure.provenance import IMAGE, Provenance
from fpnscope.analysis.measure.receptive import pair
from fpnscope.spec import is_power_of_two, level_name

_RESIZES = ("upsample", "_upsample", "interpolate", "grid_sampler")
_DOWNSAMPLERS = (nn.MaxPool2d, nn.AvgPool2d, nn.Conv2d)

Made = Literal["input", "parameter", "resize", "module", "op", "outside"]


@dataclass(frozen=True)
class Maker:
    """The layer that made an operand, when it can round a size: its sizes, the size of the map it
    was given, and the call that built it."""

    type: str  # MaxPool2d | AvgPool2d | Conv2d
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    ceil_mode: bool
    given: tuple[int, ...]  # the shape of its input
    built: Construction | None


@dataclass(frozen=True)
class Operand:
    """One tensor a failing op was given."""

    shape: tuple[int, ...]
    what: str  # where it came from, in words (shown, never read)
    level: str | None  # the level its size puts it at (P3), or its input level's name (C3)
    stride: int | None
    sources: tuple[str, ...]  # the input levels it was computed from
    made: Made = "op"  # what made it
    module: str | None = None  # the module that made it
    maker: Maker | None = field(default=None, compare=False)


def _maker(module: nn.Module, given: tuple[int, ...], modules: Mapping[str, nn.Module], path: str) -> Maker | None:
    """The sizes of a pooling or strided conv layer: the ones whose output size is rounded."""
    if not isinstance(module, _DOWNSAMPLERS) or pair(module.stride) == (1, 1) or isinstance(module.padding, str):
        return None
    dilation = getattr(module, "dilation", 1)
    return Maker(type(module).__name__, pair(module.kernel_size), pair(module.stride), pair(module.padding),
                 pair(dilation), bool(getattr(module, "ceil_mode", False)), given, constructed_at(modules, path))


def _level(hw: tuple[int, int], shape: tuple[int, ...], prefix: str) -> tuple[str | None, int | None]:
    stride = stride_of_shape(hw, shape, loose=False) if len(shape) == 4 else None
    # stride 1 is not named: besides the image, what has the input's own size is as often a
    # (B, heads, N, N) attention score whose N tokens happen to equal the input's side (LeViT at 256);
    # nor is a stride that is not a power of two: a map one pixel off its level (240 / 16 = 15) is
    # on no level, and naming it "Ps15" would invent one
    if not stride or stride <= 1 or not is_power_of_two(stride):
        return None, None
    return level_name(prefix, stride), stride


def operand(
    tensor: Tensor, provenance: Provenance, hw: tuple[int, int], prefix: str, modules: Mapping[str, nn.Module],
    here: str | None = None,
) -> Operand:
    """Describe ``tensor`` from what made it: an input level, a resize, a module, another op (an
    op of ``here``, the module that failed, is named by the op alone: the report names the module)."""
    shape = tuple(int(d) for d in tensor.shape)
    sources = tuple(sorted(provenance.tags(tensor)))
    named = provenance.input_level(tensor)
    if named is not None:
        stride = _level(hw, shape, prefix)[1]
        return Operand(shape, named, None if named == IMAGE else named, stride, sources, "input")
    level, stride = _level(hw, shape, prefix)
    made = provenance.producer(tensor)
    if made is None:
        return Operand(shape, "a tensor made outside the stages", level, stride, sources, "outside")
    src_level = _level(hw, made.source_shape, prefix)[0] if made.source_shape else None
    if made.source_is_input and made.source_tags:
        src_level = next(iter(made.source_tags))
    if src_level == IMAGE or (src_level is None and IMAGE in sources):
        src_level = None  # named by the op alone: "of the input image" says nothing
    levels = [tag for tag in sources if tag != IMAGE]
    of = f" of {src_level}" if src_level else (f" of {', '.join(levels)}" if levels else "")
    kind: Made = "op"
    maker = None
    if made.op.startswith(_RESIZES) and len(made.source_shape) == 4 and len(shape) == 4:
        (h, w), (big_h, big_w) = made.source_shape[-2:], shape[-2:]
        factor = big_h / h if h else 0.0
        if w and factor == big_w / w and float(factor).is_integer() and factor > 1:
            what = f"×{int(factor)} upsample{of}"
        else:
            what = f"{'resize' if big_h >= h else 'downsample'} {h}×{w}→{big_h}×{big_w}{of}"
        kind = "resize"
    elif made.module in modules and not list(modules[made.module].children()):
        what = f"{made.module} ({describe(modules[made.module])}){of}"
        kind, maker = "module", _maker(modules[made.module], made.source_shape, modules, made.module)
    else:
        what = f"{made.op}{' in ' + made.module if made.module and made.module != here else ''}{of}"
    if made.then and kind != "op":
        what += f", then {' and '.join(dict.fromkeys(made.then))}"  # "…, then mul": a fusion weight
    return Operand(shape, what, level, stride, sources, kind, made.module or None, maker)
