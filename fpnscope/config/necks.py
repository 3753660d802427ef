"""Neck kinds of the preset format."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import AfterValidator, Field, PositiveFloat, PositiveInt, model_validator

from fpnscope.config.base import Act, InChannels, LevelNames, Norm, Repeats, Strict, Width, check_groups
from fpnscope.config.code import AttributePath, CodeStage, Declared, InputForm
from fpnscope.config.kinds import NECKS, SIMPLE_FPN_SCALES
from fpnscope.spec import NeckTraits


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


class NeckBase(Strict):
    """Keys every neck has: which backbone levels it reads and their channels."""

    in_features: LevelNames | None = Field(
        default=None, description="backbone levels to use, finest first, e.g. [C3, C4, C5]; default: all"
    )
    in_channels: InChannels = "auto"
    # how the kind moves maps between levels (see NeckTraits), from the kinds table
    traits: ClassVar[NeckTraits] = NeckTraits()


class FPNNeck(NeckBase):
    """Feature Pyramid Network (Lin et al. 2017): lateral 1x1 convs, top-down fusion, 3x3 output convs."""

    kind: Literal["fpn"] = "fpn"
    traits = NECKS["fpn"].traits
    out_channels: Width = 256
    upsample: Literal["nearest", "bilinear"] = "nearest"
    output_convs: bool = Field(default=True, description="3x3 'smooth' conv on every output level")
    fusion: Literal["sum", "weighted", "concat"] = Field(
        default="sum",
        description="sum; weighted (learned fast normalised weights); concat (then a 1x1 conv)",
    )
    attention: Literal["none", "se", "cbam"] = Field(default="none", description="applied to every output level")
    norm: Norm = "none"
    gn_groups: PositiveInt = 32
    act: Act = "none"
    extra_levels: ExtraLevels | None = None

    @model_validator(mode="after")
    def _groups_divide(self) -> FPNNeck:
        check_groups(self.norm, self.out_channels, self.gn_groups, "out_channels")
        return self


class PAFPNNeck(FPNNeck):
    """PANet (Liu et al. 2018): an FPN, then a bottom-up path of stride-2 convs and sums (mmdetection PAFPN)."""

    kind: Literal["pafpn"] = "pafpn"  # type: ignore[assignment]  # a subclass's own tag, as the union needs
    traits = NECKS["pafpn"].traits
    not_applicable = {"fusion": "pafpn fuses by addition, as PANet does; use kind: fpn for weighted or concat fusion"}


class BiFPNNeck(NeckBase):
    """EfficientDet's BiFPN: ``repeats`` (D) layers of ``width`` (W) channels with weighted fusion."""

    kind: Literal["bifpn"] = "bifpn"
    traits = NECKS["bifpn"].traits
    width: Width = Field(default=64, description="channels of every level (W)")
    repeats: Repeats = Field(default=3, description="stacked BiFPN layers (D)")
    fusion: Literal["fast", "softmax", "sum"] = "fast"
    separable: bool = Field(default=True, description="depthwise-separable 3x3 convs in every node")
    upsample: Literal["nearest", "bilinear"] = "nearest"
    norm: Norm = "bn"
    gn_groups: PositiveInt = 32
    act: Act = "silu"
    extra_levels: ExtraLevels | None = Field(default_factory=lambda: ExtraLevels(count=NECKS["bifpn"].extra_levels))
    not_applicable = {
        "out_channels": "a BiFPN's channels are its width (W); set width",
        "output_convs": "every BiFPN node already ends in its own 3x3 conv",
        "attention": "BiFPN weighs its inputs with fusion weights instead",
    }

    @model_validator(mode="after")
    def _checks(self) -> BiFPNNeck:
        check_groups(self.norm, self.width, self.gn_groups, "width")
        if self.extra_levels is not None and self.extra_levels.mode != "maxpool":
            raise ValueError(
                "extra_levels.mode: a BiFPN makes its extra levels by resampling (1x1 conv to the "
                "width, then max-pool) as EfficientDet; use mode: maxpool"
            )
        return self


class YoloPANNeck(NeckBase):
    """The YOLOv8 neck: upsample + concat + C2f top-down, stride-2 conv + concat + C2f bottom-up."""

    kind: Literal["yolo_pan"] = "yolo_pan"
    traits = NECKS["yolo_pan"].traits
    channels: Annotated[tuple[PositiveInt, ...], Field(min_length=3, max_length=3)] = Field(
        default=(256, 512, 1024), description="yolov8.yaml's widths of P3, P4, P5 before width_multiple"
    )
    width_multiple: PositiveFloat = 0.25
    depth_multiple: PositiveFloat = 0.33
    max_channels: Width = 1024
    repeats: Repeats = Field(default=3, description="C2f bottlenecks before depth_multiple")
    upsample: Literal["nearest", "bilinear"] = "nearest"
    norm: Norm = "bn"
    gn_groups: PositiveInt = 32
    act: Act = "silu"
    bn_eps: Annotated[float, Field(gt=0.0)] = Field(default=1e-3, description="BatchNorm eps, as ultralytics")
    bn_momentum: Annotated[float, Field(gt=0.0, le=1.0)] = 0.03
    not_applicable = {
        "out_channels": "yolo_pan's widths are channels x width_multiple; set those",
        "fusion": "YOLOv8 fuses by concatenation followed by C2f blocks",
        "extra_levels": "the YOLOv8 neck has exactly three outputs, P3-P5",
    }


# a level's size against the one input map; a float Literal would not be a type, hence the check
Scale = Annotated[float, Field(json_schema_extra={"enum": list(SIMPLE_FPN_SCALES)})]


def _known_scales(value: tuple[float, ...]) -> tuple[float, ...]:
    bad = [s for s in value if s not in SIMPLE_FPN_SCALES]
    if bad:
        raise ValueError(f"{', '.join(map(str, bad))}: not a scale ViTDet's pyramid makes; use {list(SIMPLE_FPN_SCALES)}")
    return value


class SimpleFPNNeck(NeckBase):
    """ViTDet's simple feature pyramid from one map: deconvs for x4/x2, identity, max-pool for x0.5."""

    kind: Literal["simple_fpn"] = "simple_fpn"
    traits = NECKS["simple_fpn"].traits
    out_channels: Width = 256
    scale_factors: Annotated[tuple[Scale, ...], Field(min_length=1), AfterValidator(_known_scales)] = SIMPLE_FPN_SCALES
    norm: Literal["ln", "bn", "gn", "none"] = "ln"
    gn_groups: PositiveInt = 32
    extra_levels: ExtraLevels | None = Field(default_factory=lambda: ExtraLevels(count=NECKS["simple_fpn"].extra_levels))
    not_applicable = {
        "upsample": "simple_fpn upsamples with transposed convolutions, as ViTDet",
        "fusion": "simple_fpn fuses nothing: every level comes from the one input map",
        "act": "ViTDet's pyramid convs have no activation (GELU sits only between the x4 deconvs)",
    }

    @model_validator(mode="after")
    def _checks(self) -> SimpleFPNNeck:
        check_groups(self.norm, self.out_channels, self.gn_groups, "out_channels")
        if self.in_features is not None and len(self.in_features) != 1:
            raise ValueError("in_features: simple_fpn reads exactly one level, e.g. [C4]")
        if len(set(self.scale_factors)) != len(self.scale_factors):
            raise ValueError("scale_factors: each scale once, e.g. [4.0, 2.0, 1.0, 0.5]")
        if self.extra_levels is not None and self.extra_levels.mode != "maxpool":
            raise ValueError("extra_levels.mode: simple_fpn makes P6 by max-pool, as ViTDet; use mode: maxpool")
        return self


class ChannelMapperNeck(NeckBase):
    """mmdetection's ChannelMapper (DETR family): one conv per level to a common width, no fusion."""

    kind: Literal["channel_mapper"] = "channel_mapper"
    traits = NECKS["channel_mapper"].traits
    out_channels: Width = 256
    kernel_size: Literal[1, 3] = 1
    norm: Norm = "gn"
    gn_groups: PositiveInt = 32
    act: Act = "none"
    extra_levels: ExtraLevels | None = None
    not_applicable = {
        "upsample": "channel_mapper has no top-down path",
        "fusion": "channel_mapper fuses nothing: each level is mapped on its own",
    }

    @model_validator(mode="after")
    def _groups_divide(self) -> ChannelMapperNeck:
        check_groups(self.norm, self.out_channels, self.gn_groups, "out_channels")
        return self


class IdentityNeck(NeckBase):
    """No neck: the chosen backbone levels go to the head unchanged (a UPerNet head fuses them itself)."""

    kind: Literal["identity"] = "identity"
    traits = NECKS["identity"].traits


class PythonNeck(NeckBase, CodeStage, Declared):
    """A user's own neck: ``target: "package.module:factory"``. Its forward takes the levels as a
    list, or as a dict (``inputs: dict``, keyed as the backbone keyed them, else by level name),
    and returns a list, tuple or dict of maps. ``in_channels: auto`` in its ``kwargs`` becomes the
    measured channels; a factory with an ``in_specs`` parameter is given the LevelSpecs."""

    kind: Literal["python"] = "python"
    traits = NECKS["python"].traits
    inputs: InputForm = Field(default="auto", description="auto: the form the backbone returned; list; dict")


class PartNeck(NeckBase, Declared):
    """The neck of a whole model given in the ``model:`` section: its attribute ``path``."""

    kind: Literal["part"] = "part"
    traits = NECKS["part"].traits
    path: AttributePath
    inputs: InputForm = Field(default="auto", description="auto: the form the backbone returned; list; dict")


# every neck kind's options, in the order the schema and error messages list them
Neck = Annotated[
    FPNNeck
    | PAFPNNeck
    | BiFPNNeck
    | YoloPANNeck
    | SimpleFPNNeck
    | ChannelMapperNeck
    | IdentityNeck
    | PythonNeck
    | PartNeck,
    Field(discriminator="kind"),
]
NECK_OPTIONS: tuple[type[NeckBase], ...] = get_args(get_args(Neck)[0])
