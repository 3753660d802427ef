"""What a preset's levels will be, read from its YAML alone (no torch, no timm).

Used by ``presets list``. Where the levels depend on a model that must be built to be known (a
timm backbone without ``in_features``), the answer is None rather than a guess.
"""

from __future__ import annotations

from typing import Any

from fpnscope.spec import level_name, stride_of_name

_TORCHVISION_STRIDES = {1: 4, 2: 8, 3: 16, 4: 32}
# neck kinds that read a fixed number of the coarsest levels, or make extra levels by default
_DEFAULT_LEVELS = {"yolo_pan": 3, "simple_fpn": 1}
_EXTRA_DEFAULT = {"bifpn": 2, "simple_fpn": 1}


def backbone_strides(backbone: dict[str, Any]) -> list[int] | None:
    """Strides of the backbone's levels when the YAML alone tells them."""
    kind = backbone.get("kind")
    if kind == "synthetic":
        return list(backbone.get("strides") or [])
    if kind == "torchvision":
        return [_TORCHVISION_STRIDES[i] for i in backbone.get("returned_layers", [1, 2, 3, 4])]
    if kind == "python" and backbone.get("strides"):
        return list(backbone["strides"])
    return None


def pyramid_levels(raw: dict[str, Any]) -> list[str] | None:
    """Output level names of a merged preset document, or None when building is needed.

    >>> pyramid_levels({"backbone": {"kind": "torchvision"},
    ...                 "neck": {"kind": "fpn", "extra_levels": {"count": 1}}})
    ['P2', 'P3', 'P4', 'P5', 'P6']
    """
    neck = raw.get("neck") or {}
    features = neck.get("in_features")
    if features:
        strides = [stride_of_name(str(name)) for name in features]
        if any(s is None for s in strides):
            return None
    else:
        strides = backbone_strides(raw.get("backbone") or {})
        if strides is None:
            return None
        strides = strides[-_DEFAULT_LEVELS[neck.get("kind")] :] if neck.get("kind") in _DEFAULT_LEVELS else strides
    kind = neck.get("kind")
    extra = _EXTRA_DEFAULT.get(kind, 0)
    if "extra_levels" in neck:
        extra = (neck["extra_levels"] or {}).get("count", 1) if neck["extra_levels"] else 0
    if kind == "simple_fpn":
        scales = sorted(neck.get("scale_factors") or (4.0, 2.0, 1.0, 0.5), reverse=True)
        strides = [int(strides[-1] / f) for f in scales]  # type: ignore[operator]
    out = [int(s) for s in strides if s]
    for _ in range(extra):
        out.append(out[-1] * 2)
    return [level_name("P", s) for s in out]


def level_range(names: list[str] | None) -> str:
    """``['P2', 'P3', 'P4']`` -> ``'P2–P4'``; None -> ``'(built on use)'``."""
    if not names:
        return "(known once built)"
    return names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"
