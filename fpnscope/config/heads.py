"""Head kinds of the preset format."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, PositiveInt, model_validator

from fpnscope.config.base import MAX_REPEATS, LevelNames, Norm, PositiveInts, Repeats, Strict, Width, check_groups
from fpnscope.config.code import AttributePath, CodeStage, InputForm

RoICount = Annotated[int, Field(gt=0, le=100_000, description="RoIs per image, at most 100,000")]
Widths = Annotated[tuple[Width, ...], Field(min_length=1)]


class HeadBase(Strict):
    """Keys every head has: which pyramid levels it reads."""

    in_features: LevelNames | None = Field(
        default=None, description="pyramid levels to use, finest first, e.g. [P3, P4, P5]; default: all"
    )
    object_sizes: tuple[PositiveInt, PositiveInt] | None = Field(
        default=None, description="the sides in pixels of the smallest and largest objects to detect, e.g. [8, 512]: "
        "a size no level receives is a warning"
    )

    @model_validator(mode="after")
    def _sizes_in_order(self) -> HeadBase:
        if self.object_sizes is not None and self.object_sizes[0] > self.object_sizes[1]:
            raise ValueError(f"object_sizes: the smallest side comes first, got {list(self.object_sizes)}")
        return self


class Anchors(Strict):
    """Anchor boxes per level and the IoU at which one takes a box (RetinaNet's, by default)."""

    anchor_scale: Annotated[float, Field(gt=0.0)] = Field(
        default=4.0, description="anchor side at a level = anchor_scale × stride (× the octave scales)"
    )
    scales_per_octave: PositiveInt = Field(default=3, description="anchor sides per level: × 2^(i / scales_per_octave)")
    aspect_ratios: tuple[Annotated[float, Field(gt=0.0)], ...] = Field(default=(0.5, 1.0, 2.0), min_length=1)
    iou_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.5, description="an anchor is positive for a box it overlaps by at least this IoU"
    )


class RetinaHeadConfig(HeadBase, Anchors):
    """RetinaNet-style shared towers and predictors on every level (EfficientDet's with separable
    convs and per-level BatchNorm)."""

    kind: Literal["retina"] = "retina"
    num_classes: PositiveInt = 80
    num_anchors: PositiveInt = 9
    depth: Repeats = Field(default=4, description="convs in each tower")
    norm: Norm = "none"
    gn_groups: PositiveInt = 32
    norm_per_level: bool = Field(default=False, description="a norm per level (EfficientDet); convs stay shared")
    act: Literal["relu", "silu"] = "relu"
    separable: bool = False

    @model_validator(mode="after")
    def _per_level_needs_norm(self) -> RetinaHeadConfig:
        if self.norm_per_level and self.norm == "none":
            raise ValueError("norm_per_level: true needs a norm (bn or gn)")
        return self


class SegHeadConfig(HeadBase):
    """UPerNet decode head: pyramid pooling on the top level, FPN fusion, concat at the finest level."""

    kind: Literal["seg"] = "seg"
    channels: Width = 512
    num_classes: PositiveInt = 150
    pool_scales: PositiveInts = (1, 2, 3, 6)
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    norm: Norm = "bn"
    gn_groups: PositiveInt = 32
    act: Literal["relu", "silu"] = "relu"


class ClsHeadConfig(HeadBase):
    """Global average pooling of the coarsest level and a linear classifier."""

    kind: Literal["cls"] = "cls"
    num_classes: PositiveInt = 1000
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0


class PythonHead(HeadBase, CodeStage):
    """A user's own head: ``target: "package.module:factory"``; its forward takes the pyramid
    levels as a list (or a dict, ``inputs: dict``) and returns a tensor, a list or a dict of them.
    ``in_channels: auto`` in its ``kwargs`` becomes the levels' channels (one number when they
    all agree)."""

    kind: Literal["python"] = "python"
    inputs: InputForm = Field(default="list", description="list (the default); dict; auto: the form the neck returned")


class PartHead(HeadBase):
    """The head of a whole model given in the ``model:`` section: its attribute ``path``."""

    kind: Literal["part"] = "part"
    path: AttributePath
    inputs: InputForm = Field(default="list", description="list (the default); dict; auto: the form the neck returned")
class FasterRCNNHeadConfig(HeadBase, Anchors):
    """Faster R-CNN + FPN (torchvision ``fasterrcnn_resnet50_fpn``): the RPN head on every level,
    then the RoI box head (multi-scale RoIAlign, two FC layers, class and box predictors) on
    ``proposals`` RoIs per image."""

    kind: Literal["faster_rcnn"] = "faster_rcnn"
    num_classes: PositiveInt = Field(default=91, description="classes with the background, as torchvision (COCO: 91)")
    num_anchors: PositiveInt = Field(default=3, description="anchors per location: one size per level x 3 ratios")
    anchor_scale: Annotated[float, Field(gt=0.0)] = Field(default=8.0, description="RPN anchor side = anchor_scale × stride (32 at P2)")
    scales_per_octave: PositiveInt = 1
    iou_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.7, description="an RPN anchor is positive for a box it overlaps by at least this IoU"
    )
    rpn_convs: Repeats = Field(default=1, description="shared 3x3 conv + ReLU layers of the RPN")
    roi_features: LevelNames | None = Field(
        default=None,
        description="levels the RoI heads pool from; default: those up to stride 32 (P2-P5 beside an RPN-only P6, "
        "as torchvision)",
    )
    proposals: RoICount = Field(
        default=1000, description="RoIs per image the box head runs on (torchvision's test-time count; 512 in training)"
    )
    pool_size: PositiveInt = Field(default=7, description="RoIAlign output size of the box head")
    sampling_ratio: PositiveInt = 2
    aligned: bool = Field(default=False, description="RoIAlign's half-pixel offset (torchvision: off; detectron2: on)")
    canonical_scale: PositiveInt = Field(default=224, description="level rule: a box of this side goes to canonical_level")
    canonical_level: PositiveInt = 4
    representation: Width = Field(default=1024, description="width of the two FC layers")


class MaskRCNNHeadConfig(FasterRCNNHeadConfig):
    """Mask R-CNN + FPN (torchvision ``maskrcnn_resnet50_fpn``): Faster R-CNN and a mask head (RoIAlign
    14x14, 3x3 convs, a 2x deconvolution, a 1x1 predictor) on ``detections`` RoIs per image."""

    kind: Literal["mask_rcnn"] = "mask_rcnn"  # type: ignore[assignment]  # a subclass's own tag, as the union needs
    detections: RoICount = Field(
        default=100, description="RoIs per image the mask head runs on: the detections kept at test time"
    )
    mask_pool_size: PositiveInt = 14
    mask_convs: Widths = Field(default=(256, 256, 256, 256), description="widths of the mask head's 3x3 convs")
    mask_dilation: PositiveInt = 1
    mask_norm: Norm = "none"
    gn_groups: PositiveInt = 32
    deconv_channels: Width = 256

    @model_validator(mode="after")
    def _groups_divide(self) -> MaskRCNNHeadConfig:
        for width in self.mask_convs:
            check_groups(self.mask_norm, width, self.gn_groups, "every mask_convs width")
        return self


class FCOSHeadConfig(HeadBase):
    """FCOS (torchvision ``fcos_resnet50_fpn``): GroupNorm towers shared across levels, class,
    box-distance and centerness predictors."""

    kind: Literal["fcos"] = "fcos"
    num_classes: PositiveInt = 91
    num_anchors: PositiveInt = 1
    depth: Repeats = Field(default=4, description="convs in each tower")
    norm: Norm = "gn"
    gn_groups: PositiveInt = 32
    prior_probability: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01


class YoloDetectHeadConfig(HeadBase):
    """YOLOv8's decoupled Detect head: per level, a box branch to 4 x reg_max DFL bins and a class
    branch, each two 3x3 Conv-BN-SiLU and a 1x1 conv."""

    kind: Literal["yolo_detect"] = "yolo_detect"
    num_classes: PositiveInt = 80
    reg_max: PositiveInt = Field(default=16, description="DFL bins per box side")
    bn_eps: Annotated[float, Field(gt=0.0)] = 1e-3
    bn_momentum: Annotated[float, Field(gt=0.0, le=1.0)] = 0.03


class YOLOXHeadConfig(HeadBase):
    """YOLOX's decoupled head: per level, a 1x1 stem, class and box branches of two 3x3 Conv-BN-SiLU,
    predictors for classes, box offsets and objectness."""

    kind: Literal["yolox"] = "yolox"
    num_classes: PositiveInt = 80
    channels: Width = Field(default=256, description="stem and branch width: 256 x width (YOLOX-s: 128)")
    num_anchors: PositiveInt = 1
    bn_eps: Annotated[float, Field(gt=0.0)] = 1e-3
    bn_momentum: Annotated[float, Field(gt=0.0, le=1.0)] = 0.03
    prior_probability: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01


class DeepLabV3PlusHeadConfig(HeadBase):
    """DeepLabV3+'s decoder: ASPP on the coarsest level, fused with the finest (stride-4) level
    reduced by a 1x1 conv, two 3x3 convs, a 1x1 classifier, upsampled to the input."""

    kind: Literal["deeplabv3plus"] = "deeplabv3plus"
    num_classes: PositiveInt = 21
    aspp_channels: Width = 256
    aspp_rates: PositiveInts = Field(default=(6, 12, 18), description="atrous rates (output stride 16; double at 8)")
    aspp_dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5
    low_channels: Width = Field(default=48, description="width of the stride-4 level's 1x1 reduction")
    decoder_channels: Width = 256
    norm: Norm = "bn"
    gn_groups: PositiveInt = 32

    @model_validator(mode="after")
    def _groups_divide(self) -> DeepLabV3PlusHeadConfig:
        for key in ("aspp_channels", "low_channels", "decoder_channels"):
            check_groups(self.norm, getattr(self, key), self.gn_groups, key)
        return self


class DenseHeadConfig(HeadBase):
    """Dense regression (depth, disparity, flow): every level brought to the finest by 3x3 convs and
    x2 upsamples, summed, a 1x1 conv to out_channels, upsampled to the input, an output activation."""

    kind: Literal["dense"] = "dense"
    channels: Width = 128
    head_convs: Annotated[int, Field(ge=0, le=MAX_REPEATS)] = Field(default=0, description="3x3 convs after the sum")
    out_channels: Width = Field(default=1, description="1 for depth or disparity, 2 for flow")
    output_act: Literal["none", "relu", "sigmoid", "softplus"] = Field(
        default="softplus", description="on the output: softplus keeps depth positive; none for flow"
    )
    output_name: Annotated[str, Field(pattern=r"^[a-z_]+$")] = "depth"
    norm: Norm = "gn"
    gn_groups: PositiveInt = 32

    @model_validator(mode="after")
    def _groups_divide(self) -> DenseHeadConfig:
        check_groups(self.norm, self.channels, self.gn_groups, "channels")
        return self


# every head kind's options, in the order the schema and error messages list them
Head = Annotated[
    RetinaHeadConfig
    | SegHeadConfig
    | ClsHeadConfig
    | FasterRCNNHeadConfig
    | MaskRCNNHeadConfig
    | FCOSHeadConfig
    | YoloDetectHeadConfig
    | YOLOXHeadConfig
    | DeepLabV3PlusHeadConfig
    | DenseHeadConfig
    | PythonHead
    | PartHead,
    Field(discriminator="kind"),
]
HEAD_OPTIONS: tuple[type[HeadBase], ...] = get_args(get_args(Head)[0])
