"""Backbone kinds of the preset format."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from fpnscope.config.base import NonNegativeInts, PositiveInts, Strict
from fpnscope.config.code import AttributePath, CodeStage, Declared


class TimmBackbone(Strict):
    """Any timm model with ``features_only=True``; random weights, nothing is downloaded."""

    kind: Literal["timm"] = "timm"
    name: str = Field(description="timm model name, e.g. resnet50, convnext_tiny, pvt_v2_b2")
    out_indices: NonNegativeInts | None = Field(
        default=None, description="feature stages to return; timm's default when omitted"
    )
    kwargs: dict[str, Any] = Field(default_factory=dict, description="extra timm.create_model arguments")
    img_size: Literal["auto"] | Annotated[tuple[PositiveInt, PositiveInt], Field()] | None = Field(
        default=None,
        description="for models built for one input size (ViT, Swin): 'auto' builds them for the "
        "analysed input size, so --input works; [H, W] fixes it",
    )


TorchvisionResNet = Literal[
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    "wide_resnet101_2",
]
TORCHVISION_RESNETS: tuple[str, ...] = get_args(TorchvisionResNet)
# BasicBlock ResNets cannot be dilated (torchvision raises "Dilation > 1 not supported in BasicBlock")
BASIC_BLOCK_RESNETS = ("resnet18", "resnet34")


class TorchvisionBackbone(Strict):
    """A torchvision ResNet / ResNeXt / Wide-ResNet returning layer1..layer4 (C2..C5)."""

    kind: Literal["torchvision"] = "torchvision"
    name: TorchvisionResNet
    returned_layers: PositiveInts = Field(
        default=(1, 2, 3, 4), description="which of layer1..layer4 to return, as in torchvision"
    )
    norm: Literal["bn", "frozen_bn"] = Field(
        default="bn",
        description="frozen_bn keeps BatchNorm statistics and affine terms as buffers (no parameters), "
        "as torchvision's detection models do by default",
    )
    output_stride: Literal[8, 16, 32] = Field(
        default=32,
        description="16 or 8 dilates the last one or two stages instead of striding them (DeepLab; "
        "torchvision's replace_stride_with_dilation)",
    )

    @model_validator(mode="after")
    def _layers_exist(self) -> TorchvisionBackbone:
        bad = [i for i in self.returned_layers if i > 4]
        if bad:
            raise ValueError(f"returned_layers must be among 1, 2, 3, 4 (layer1..layer4); got {bad}")
        if list(self.returned_layers) != sorted(set(self.returned_layers)):
            raise ValueError("returned_layers must be increasing without repeats, like [2, 3, 4]")
        if self.output_stride != 32 and self.name in BASIC_BLOCK_RESNETS:
            raise ValueError(
                f"output_stride: {self.output_stride} dilates Bottleneck stages, and {self.name} has "
                "BasicBlocks; use resnet50 or larger, or output_stride: 32"
            )
        return self


class YOLOv8Backbone(Strict):
    """The YOLOv8 backbone (ultralytics yolov8.yaml layers 0-9): a stride-2 stem, four stages of a
    stride-2 Conv and a C2f, SPPF; C2..C5. Conv = conv + BatchNorm + SiLU."""

    kind: Literal["yolov8"] = "yolov8"
    channels: Annotated[tuple[PositiveInt, ...], Field(min_length=5, max_length=5)] = Field(
        default=(64, 128, 256, 512, 1024), description="yolov8.yaml's widths of the stem and four stages"
    )
    repeats: Annotated[tuple[PositiveInt, ...], Field(min_length=4, max_length=4)] = Field(
        default=(3, 6, 6, 3), description="C2f bottlenecks per stage before depth_multiple"
    )
    width_multiple: PositiveFloat = 0.25
    depth_multiple: PositiveFloat = 0.33
    max_channels: PositiveInt = 1024
    sppf_kernel: PositiveInt = 5
    bn_eps: Annotated[float, Field(gt=0.0)] = 1e-3
    bn_momentum: Annotated[float, Field(gt=0.0, le=1.0)] = 0.03


class SyntheticBackbone(Strict):
    """No weights: random feature maps of the given channels and strides, to study a neck alone."""

    kind: Literal["synthetic"] = "synthetic"
    channels: PositiveInts
    strides: PositiveInts
    rounding: Literal["ceil", "floor"] = Field(
        default="ceil", description="size of a level = ceil(input / stride) as a conv stack gives, or floor"
    )

    @model_validator(mode="after")
    def _same_length(self) -> SyntheticBackbone:
        if len(self.channels) != len(self.strides):
            raise ValueError(
                f"channels has {len(self.channels)} entries but strides has {len(self.strides)}; "
                "give one stride per channel count"
            )
        return self


class PythonBackbone(CodeStage, Declared):
    """A user's own backbone: ``target: "package.module:factory"`` returning an nn.Module whose
    forward gives a list, tuple or dict of feature maps (a dict's keys are kept beside the level
    names). Channels and strides may be declared here, or by the module (a timm-style
    ``feature_info`` or a ``level_specs`` attribute); else they are measured."""

    kind: Literal["python"] = "python"


class PartBackbone(Declared):
    """The backbone of a whole model given in the ``model:`` section: its attribute ``path``."""

    kind: Literal["part"] = "part"
    path: AttributePath


# every backbone kind's options, in the order the schema and error messages list them
Backbone = Annotated[
    TimmBackbone
    | TorchvisionBackbone
    | YOLOv8Backbone
    | SyntheticBackbone
    | PythonBackbone
    | PartBackbone,
    Field(discriminator="kind"),
]
BACKBONE_OPTIONS: tuple[type[Strict], ...] = get_args(get_args(Backbone)[0])
