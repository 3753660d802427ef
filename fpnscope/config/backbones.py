"""Backbone kinds of the preset format."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, PositiveInt, model_validator

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

    @model_validator(mode="after")
    def _layers_exist(self) -> TorchvisionBackbone:
        bad = [i for i in self.returned_layers if i > 4]
        if bad:
            raise ValueError(f"returned_layers must be among 1, 2, 3, 4 (layer1..layer4); got {bad}")
        if list(self.returned_layers) != sorted(set(self.returned_layers)):
            raise ValueError("returned_layers must be increasing without repeats, like [2, 3, 4]")
        return self


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
    | SyntheticBackbone
    | PythonBackbone
    | PartBackbone,
    Field(discriminator="kind"),
]
BACKBONE_OPTIONS: tuple[type[Strict], ...] = get_args(get_args(Backbone)[0])
