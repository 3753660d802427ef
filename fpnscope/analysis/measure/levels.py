"""Measured levels: what a stage really produced, named by its real stride."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from torch import Tensor

from fpnscope.analysis.measure.geometry import infer_stride
from fpnscope.analysis.measure.receptive import Field
from fpnscope.errors import BuildError
from fpnscope.reports.inspect import Level
from fpnscope.spec import level_name


def measure_levels(
    feats: Sequence[Tensor],
    input_hw: tuple[int, int],
    prefix: str,
    sources: Sequence[Sequence[str]] = (),
    stage: str = "backbone",
    declared: Sequence[int] | None = None,
    known: Mapping[tuple[int, int], int] | None = None,
    fields: Sequence[Field | None] = (),
) -> list[Level]:
    """One Level per NCHW map; its stride is inferred from the input size (``declared`` strides,
    one per map, settle sizes that several strides explain, as on tiny inputs). ``known`` sizes
    have a stride found otherwise (from how they grow with the input): it is taken as it is.
    ``fields``, one per map, are their receptive fields.

    >>> import torch
    >>> measure_levels([torch.empty(1, 256, 25, 42, device="meta")], (800, 1333), "P")
    [Level(name='P5', shape=(1, 256, 25, 42), stride=32, channels=256, sources=(), key=None, receptive_field=None, receptive_global=False)]
    """
    levels = []
    for i, feat in enumerate(feats):
        if not isinstance(feat, Tensor) or feat.dim() != 4:
            got = tuple(feat.shape) if isinstance(feat, Tensor) else type(feat).__name__
            whole = (" (a whole detector returns its detections: measure it by its parts, with stages= from "
                     "Python or a model: section with stages in YAML)") if stage == "backbone" and isinstance(feat, dict) else ""
            raise BuildError(
                f"{stage}: output {i} is {got}, not an NCHW feature map; a {stage} must return "
                f"a list (or dict) of 4-d maps{whole}"
            )
        prefer = declared[i] if declared is not None and len(declared) == len(feats) else None
        size = (int(feat.shape[-2]), int(feat.shape[-1]))
        stride = known[size] if known and size in known else infer_stride(input_hw, size, prefer)
        field = fields[i] if i < len(fields) else None
        levels.append(
            Level(
                name=level_name(prefix, stride),
                shape=tuple(int(d) for d in feat.shape),
                stride=stride,
                channels=int(feat.shape[1]),
                sources=tuple(sources[i]) if i < len(sources) else (),
                receptive_field=field.pixels if field is not None else None,
                receptive_global=field is not None and field.whole,
            )
        )
    return levels


def finest_first(feats: Sequence[Tensor], levels: Sequence[Level]) -> tuple[list[Tensor], list[Level]]:
    """Sort levels by stride (stable) and give levels that share a stride distinct names.

    >>> a, b = Level("C4", (1, 8, 4, 4), 16, 8), Level("C4", (1, 8, 4, 4), 16, 8)
    >>> [lvl.name for lvl in finest_first([None, None], [a, b])[1]]
    ['C4', 'C4_1']
    """
    order = sorted(range(len(levels)), key=lambda i: levels[i].stride)
    return [feats[i] for i in order], distinct([levels[i] for i in order])


def distinct(levels: Sequence[Level]) -> list[Level]:
    """The levels in their order, a second one of a name suffixed ``_1`` (then ``_2``...).

    >>> [lvl.name for lvl in distinct([Level("P7", (1, 8, 3, 3), 128, 8), Level("P7", (1, 8, 2, 2), 128, 8)])]
    ['P7', 'P7_1']
    """
    seen: dict[str, int] = {}
    out = []
    for lvl in levels:
        count = seen.get(lvl.name, 0)
        seen[lvl.name] = count + 1
        out.append(replace(lvl, name=f"{lvl.name}_{count}") if count else lvl)
    return out
