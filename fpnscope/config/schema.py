"""The preset format: one pydantic model per backbone kind and per neck kind.

Pure data, no torch. Every model forbids unknown keys and names the closest valid key, so a
misspelt ``out_chanels`` is caught with its fix rather than silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fpnscope.suggest import did_you_mean


class Strict(BaseModel):
    """Frozen, and any key it does not know is an error that suggests the closest known key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    hint = did_you_mean(str(key), known, n=1) or "valid keys: " + ", ".join(known)
                    raise PydanticCustomError(
                        "unknown_key", "unknown key '{key}' ({hint})", {"key": str(key), "hint": hint}
                    )
        return data


def _positive_int_list(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{what} must be a non-empty list of positive integers, like [256, 512]")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ValueError(f"{what} must hold positive integers; {item!r} is not one")
    return tuple(value)


def _in_channels(value: Any) -> str | tuple[int, ...]:
    if value == "auto" or value is None:
        return "auto"
    if isinstance(value, str):
        raise ValueError(f"in_channels must be 'auto' or a list of positive integers, not {value!r}")
    return _positive_int_list(value, "in_channels")


InChannels = Annotated[
    Union[Literal["auto"], tuple[int, ...]],
    BeforeValidator(_in_channels),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "auto"},
                {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 0}, "minItems": 1},
            ],
            "description": "'auto' takes the channels the backbone produces; a list is checked against them.",
        }
    ),
]
PositiveInts = Annotated[tuple[PositiveInt, ...], Field(min_length=1)]
NonNegativeInts = Annotated[tuple[NonNegativeInt, ...], Field(min_length=1)]
Norm = Literal["none", "bn", "gn"]
Act = Literal["none", "relu", "silu"]


class InputConfig(Strict):
    """The input the model is analysed at (``--input`` and ``--batch`` override it)."""

    height: PositiveInt = 800
    width: PositiveInt = 1333
    batch: PositiveInt = 1
    channels: PositiveInt = 3


# --- backbones ----------------------------------------------------------------------------


class TimmBackbone(Strict):
    """Any timm model with ``features_only=True``; random weights, nothing is downloaded."""

    kind: Literal["timm"]
    name: str = Field(description="timm model name, e.g. resnet50, convnext_tiny, pvt_v2_b2")
    out_indices: NonNegativeInts | None = Field(
        default=None, description="feature stages to return; timm's default when omitted"
    )
    kwargs: dict[str, Any] = Field(default_factory=dict, description="extra timm.create_model arguments")


TORCHVISION_RESNETS = (
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
)


class TorchvisionBackbone(Strict):
    """A torchvision ResNet / ResNeXt / Wide-ResNet returning layer1..layer4 (C2..C5)."""

    kind: Literal["torchvision"]
    name: Literal[TORCHVISION_RESNETS]  # type: ignore[valid-type]
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

    kind: Literal["synthetic"]
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


class PythonBackbone(Strict):
    """A user's own backbone: ``target: "package.module:factory"`` returning an nn.Module whose
    forward gives a list or dict of feature maps. Channels and strides may be declared here, or by
    the module (a timm-style ``feature_info`` or a ``level_specs`` attribute); else they are measured."""

    kind: Literal["python"]
    target: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")]
    kwargs: dict[str, Any] = Field(default_factory=dict)
    channels: PositiveInts | None = None
    strides: PositiveInts | None = None

    @model_validator(mode="after")
    def _paired(self) -> PythonBackbone:
        if (self.channels is None) != (self.strides is None):
            raise ValueError("declare both channels and strides, or neither")
        if self.channels is not None and len(self.channels) != len(self.strides or ()):
            raise ValueError("channels and strides must have the same length")
        return self


Backbone = Annotated[
    Union[TimmBackbone, TorchvisionBackbone, SyntheticBackbone, PythonBackbone],
    Field(discriminator="kind"),
]


# --- necks ----------------------------------------------------------------------------------


class ExtraLevels(Strict):
    """Coarser levels beyond the last input: max-pool (Faster R-CNN P6) or strided convs (RetinaNet)."""

    count: Annotated[int, Field(ge=0, le=4)] = 1
    mode: Literal["maxpool", "conv"] = "maxpool"
    source: Literal["c5", "p5"] = Field(
        default="p5",
        description="conv mode: the first extra conv reads the coarsest backbone input (c5) "
        "or the coarsest pyramid output (p5)",
    )

    @model_validator(mode="after")
    def _source_needs_conv(self) -> ExtraLevels:
        if self.mode == "maxpool" and "source" in self.model_fields_set and self.source == "c5":
            raise ValueError(
                "source: c5 needs mode: conv (max-pooling C5 would not give out_channels); "
                "use mode: conv, or drop source"
            )
        return self


class FPNNeck(Strict):
    """Feature Pyramid Network (Lin et al. 2017): lateral 1x1 convs, top-down sum, 3x3 output convs."""

    kind: Literal["fpn"]
    in_features: Annotated[tuple[str, ...], Field(min_length=1)] | None = Field(
        default=None, description="backbone levels to use, e.g. [C3, C4, C5]; default: all of them"
    )
    in_channels: InChannels = "auto"
    out_channels: PositiveInt = 256
    upsample: Literal["nearest", "bilinear"] = "nearest"
    output_convs: bool = Field(default=True, description="3x3 'smooth' conv on every output level")
    norm: Norm = "none"
    gn_groups: PositiveInt = 32
    act: Act = "none"
    extra_levels: ExtraLevels | None = None

    @model_validator(mode="after")
    def _groups_divide(self) -> FPNNeck:
        if self.norm == "gn" and self.out_channels % self.gn_groups:
            raise ValueError(
                f"norm: gn needs out_channels ({self.out_channels}) divisible by gn_groups "
                f"({self.gn_groups}); change one of them"
            )
        return self


Neck = Annotated[Union[FPNNeck], Field(discriminator="kind")]


class PresetConfig(Strict):
    """A whole model: backbone -> neck, analysed at ``input``."""

    name: str | None = None
    description: str = ""
    input: InputConfig = Field(default_factory=InputConfig)
    backbone: Backbone
    neck: Neck
