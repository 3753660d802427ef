"""The preset format: a model is an input, a backbone, a neck and an optional head.

One pydantic model per kind, discriminated on ``kind``; the kinds live in ``backbones``,
``necks`` and ``heads`` beside this file and are re-exported here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from fpnscope.config.backbones import (
    TORCHVISION_RESNETS,
    Backbone,
    PythonBackbone,
    SyntheticBackbone,
    TimmBackbone,
    TorchvisionBackbone,
    YOLOv8Backbone,
)
from fpnscope.config.base import Strict, Width
from fpnscope.config.code import ModelSection
from fpnscope.config.heads import (
    ClsHeadConfig,
    DeepLabV3PlusHeadConfig,
    DenseHeadConfig,
    FasterRCNNHeadConfig,
    FCOSHeadConfig,
    Head,
    MaskRCNNHeadConfig,
    RetinaHeadConfig,
    SegHeadConfig,
    YoloDetectHeadConfig,
    YOLOXHeadConfig,
)
from fpnscope.config.necks import (
    BiFPNNeck,
    ChannelMapperNeck,
    ExtraLevels,
    FPNNeck,
    IdentityNeck,
    Neck,
    PAFPNNeck,
    SimpleFPNNeck,
    YoloPANNeck,
)

__all__ = [
    "TORCHVISION_RESNETS",
    "BiFPNNeck",
    "ChannelMapperNeck",
    "ClsHeadConfig",
    "DeepLabV3PlusHeadConfig",
    "DenseHeadConfig",
    "ExtraLevels",
    "FCOSHeadConfig",
    "FPNNeck",
    "FasterRCNNHeadConfig",
    "IdentityNeck",
    "InputConfig",
    "MaskRCNNHeadConfig",
    "PAFPNNeck",
    "PresetConfig",
    "PythonBackbone",
    "RetinaHeadConfig",
    "SegHeadConfig",
    "SimpleFPNNeck",
    "SyntheticBackbone",
    "TimmBackbone",
    "TorchvisionBackbone",
    "YOLOXHeadConfig",
    "YOLOv8Backbone",
    "YoloDetectHeadConfig",
    "YoloPANNeck",
]


MAX_SIDE = 65_536  # pixels: 16 times a 4K frame's width; a larger side is a typo, not an image
MAX_BATCH = 65_536
Side = Annotated[int, Field(gt=0, le=MAX_SIDE, description=f"pixels, at most {MAX_SIDE:,}")]


class InputConfig(Strict):
    """The input the model is analysed at (``--input`` and ``--batch`` override it)."""

    height: Side = 800
    width: Side = 1333
    batch: Annotated[int, Field(gt=0, le=MAX_BATCH, description=f"images, at most {MAX_BATCH:,}")] = 1
    channels: Width = 3


class PresetConfig(Strict):
    """A whole model: backbone -> neck -> optional head, analysed at ``input``."""

    name: str | None = None
    description: str = ""
    input: InputConfig = Field(default_factory=InputConfig)
    backbone: Backbone
    neck: Neck
    head: Head | None = None
    model: ModelSection | None = Field(
        default=None, description="a whole model whose stages are parts of it (kind: part, or model.stages)"
    )

    @model_validator(mode="before")
    @classmethod
    def _stages_of_the_model(cls, data: Any) -> Any:
        """``model.stages`` is shorthand for a ``kind: part`` section per stage."""
        model = data.get("model") if isinstance(data, dict) else None
        stages = model.get("stages") if isinstance(model, dict) else None
        if not isinstance(stages, dict):
            return data
        out = dict(data)
        for stage, path in stages.items():
            if stage in ("backbone", "neck", "head") and out.get(stage) is None:
                out[stage] = {"kind": "part", "path": path}
        return out

    @model_validator(mode="after")
    def _parts_need_the_model(self) -> PresetConfig:
        parts = [s for s, part in (("backbone", self.backbone), ("neck", self.neck), ("head", self.head))
                 if part is not None and part.kind == "part"]
        if parts and self.model is None:
            raise ValueError(f"{', '.join(parts)}: kind part names a part of the model: add a model: section "
                             "with its target")
        return self


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a preset file, ``_base_`` included (for editor completion)."""
    data = PresetConfig.model_json_schema()
    for definition in data.get("$defs", {}).values():
        kind = definition.get("properties", {}).get("kind")
        if kind is not None and "default" in kind:
            # the default lets Python build options without naming the kind; a file must name it
            del kind["default"]
            definition["required"] = ["kind", *definition.get("required", [])]
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["title"] = "fpnscope preset"
    data["properties"] = {
        "_base_": {"type": "string", "description": "A preset name or a path relative to this file to inherit from."},
        **data["properties"],
    }
    return data
