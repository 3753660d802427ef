"""What a preset's levels will be, read from its YAML alone (no torch, no timm).

Used by ``presets list``. Where the levels depend on a model that must be built to be known (a
timm backbone without ``in_features``), the answer is None rather than a guess.
"""

from __future__ import annotations

from typing import Any

from fpnscope.config.kinds import NECKS, SIMPLE_FPN_SCALES
from fpnscope.config.loader import load_raw, resolve
from fpnscope.config.presets import preset_names
from fpnscope.errors import ConfigError
from fpnscope.spec import level_name, stride_of_name

_TORCHVISION_STRIDES = {1: 4, 2: 8, 3: 16, 4: 32}
_YOLOV8_STRIDES = [4, 8, 16, 32]  # C2..C5


def backbone_strides(backbone: dict[str, Any]) -> list[int] | None:
    """Strides of the backbone's levels when the YAML alone tells them."""
    kind = backbone.get("kind")
    if kind == "synthetic":
        return list(backbone.get("strides") or [])
    if kind == "torchvision":
        # dilated stages (output_stride 16 or 8) keep the stride of the stage before
        cap = int(backbone.get("output_stride", 32))
        return [min(_TORCHVISION_STRIDES[i], cap) for i in backbone.get("returned_layers", [1, 2, 3, 4])]
    if kind == "yolov8":
        return list(_YOLOV8_STRIDES)
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
        named = [stride_of_name(str(name)) for name in features]
        if any(s is None for s in named):
            return None
        strides = [s for s in named if s is not None]
    else:
        found = backbone_strides(raw.get("backbone") or {})
        if found is None:
            return None
        strides = found
        reads = NECKS[neck["kind"]].traits.default_levels if neck.get("kind") in NECKS else None
        strides = strides[-reads:] if reads else strides
    kind = neck.get("kind")
    extra = NECKS[kind].extra_levels if kind in NECKS else 0
    if "extra_levels" in neck:
        extra = (neck["extra_levels"] or {}).get("count", 1) if neck["extra_levels"] else 0
    if kind == "simple_fpn":
        scales = sorted(neck.get("scale_factors") or SIMPLE_FPN_SCALES, reverse=True)
        strides = [int(strides[-1] / f) for f in scales]
    out = [int(s) for s in strides if s]
    for _ in range(extra):
        out.append(out[-1] * 2)
    return [level_name("P", s) for s in out]


def preset_infos() -> list[dict[str, Any]]:
    """Name, model, levels and description of every bundled preset, read from its YAML alone
    (merged with its ``_base_``, never validated: listing stays fast)."""
    rows = []
    for name in preset_names():
        raw = load_raw(resolve(name))
        backbone = raw.get("backbone", {})
        rows.append({
            "name": name,
            "backbone": " ".join(str(v) for v in (backbone.get("kind"), backbone.get("name")) if v),
            "neck": str(raw.get("neck", {}).get("kind", "")),
            "head": (raw.get("head") or {}).get("kind"),
            "levels": pyramid_levels(raw),
            "description": raw.get("description", ""),
        })
    return rows


def preset_yaml(name: str, resolved: bool = False) -> str:
    """A bundled preset's YAML as written, or ``resolved`` (inheritance merged, defaults filled in).

    >>> preset_yaml("synthetic_fpn").startswith("name: synthetic_fpn")
    True
    """
    source = resolve(name, paths=False)
    if not source.bundled or source.path is None:
        raise ConfigError(f"'{name}' is a path; give a bundled preset name")
    if not resolved:
        return source.path.read_text(encoding="utf-8")
    import yaml

    from fpnscope.config.loader import load_config

    data = load_config(name).config.model_dump(mode="json")
    if data.get("model") is None:
        data.pop("model", None)  # a preset of its own stages, not parts of a model
    return str(yaml.safe_dump(data, sort_keys=False))
