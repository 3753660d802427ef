"""The one table of stage kinds: for every backbone, neck and head kind, the function that builds
it and the facts other layers need without building it (a neck's traits, its default extra levels).

Pure data, no pydantic and no torch: ``presets list`` reads levels from it without validating, the
schema's defaults come from it, and the model layer finds each builder here by its import path.
Adding a kind: its option model in ``backbones``/``necks``/``heads``, its builder under
``fpnscope/models``, and one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpnscope.spec import NeckTraits


@dataclass(frozen=True)
class Kind:
    """One kind of one stage.

    ``builder`` is ``"module:function"``; a neck or head builder is called as
    ``builder(in_specs, options)`` (and ``context``, for the user's code), a backbone builder as
    ``builder(options, context)``.
    """

    builder: str
    traits: NeckTraits = NeckTraits()
    extra_levels: int = 0  # extra coarser levels a neck makes when its YAML does not say
    code: bool = False  # the user's code: its builder is also given the build context


_MODELS = "fpnscope.models"

BACKBONES: dict[str, Kind] = {
    "timm": Kind(f"{_MODELS}.backbones.from_timm:build_timm"),
    "torchvision": Kind(f"{_MODELS}.backbones.from_torchvision:build_torchvision"),
    "yolov8": Kind(f"{_MODELS}.backbones.yolov8:build_yolov8"),
    "synthetic": Kind(f"{_MODELS}.backbones.synthetic:build_synthetic"),
    "python": Kind(f"{_MODELS}.backbones.python_import:build_python", code=True),
    "part": Kind(f"{_MODELS}.code:build_part_backbone", code=True),
}

NECKS: dict[str, Kind] = {
    "fpn": Kind(f"{_MODELS}.necks.fpn:build_fpn", NeckTraits(fuses="inputs")),
    "pafpn": Kind(f"{_MODELS}.necks.pafpn:build_pafpn", NeckTraits(fuses="inputs", bottom_up=True)),
    "bifpn": Kind(f"{_MODELS}.necks.bifpn:build_bifpn", NeckTraits(fuses="all", bottom_up=True), extra_levels=2),
    "yolo_pan": Kind(f"{_MODELS}.necks.yolo_pan:build_yolo_pan",
                     NeckTraits(fuses="inputs", bottom_up=True, default_levels=3)),
    "simple_fpn": Kind(f"{_MODELS}.necks.simple_fpn:build_simple_fpn", NeckTraits(default_levels=1), extra_levels=1),
    "channel_mapper": Kind(f"{_MODELS}.necks.channel_mapper:build_channel_mapper"),
    "identity": Kind(f"{_MODELS}.necks.identity:build_identity"),
    # a user's neck: no traits are assumed; its forward shows what it does (a crash is reported)
    "python": Kind(f"{_MODELS}.code:build_python_neck", code=True),
    "part": Kind(f"{_MODELS}.code:build_part_neck", code=True),
}

HEADS: dict[str, Kind] = {
    "retina": Kind(f"{_MODELS}.heads.retina:build_retina_head"),
    "seg": Kind(f"{_MODELS}.heads.seg:build_seg_head"),
    "cls": Kind(f"{_MODELS}.heads.cls:build_cls_head"),
    "faster_rcnn": Kind(f"{_MODELS}.heads.rcnn:build_faster_rcnn_head"),
    "mask_rcnn": Kind(f"{_MODELS}.heads.rcnn:build_mask_rcnn_head"),
    "fcos": Kind(f"{_MODELS}.heads.fcos:build_fcos_head"),
    "yolo_detect": Kind(f"{_MODELS}.heads.yolo:build_yolo_detect_head"),
    "yolox": Kind(f"{_MODELS}.heads.yolo:build_yolox_head"),
    "deeplabv3plus": Kind(f"{_MODELS}.heads.deeplab:build_deeplabv3plus_head"),
    "dense": Kind(f"{_MODELS}.heads.dense:build_dense_head"),
    "python": Kind(f"{_MODELS}.code:build_python_head", code=True),
    "part": Kind(f"{_MODELS}.code:build_part_head", code=True),
}

KINDS: dict[str, dict[str, Kind]] = {"backbone": BACKBONES, "neck": NECKS, "head": HEADS}

# ViTDet's scales, shared by the schema's default and the level names ``presets list`` shows
SIMPLE_FPN_SCALES = (4.0, 2.0, 1.0, 0.5)
