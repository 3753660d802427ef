"""Head kinds of the preset format."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, PositiveInt, model_validator

from fpnscope.config.base import LevelNames, Norm, PositiveInts, Repeats, Strict, Width
from fpnscope.config.code import AttributePath, CodeStage, InputForm


class HeadBase(Strict):
    """Keys every head has: which pyramid levels it reads."""

    in_features: LevelNames | None = Field(
        default=None, description="pyramid levels to use, finest first, e.g. [P3, P4, P5]; default: all"
    )


class RetinaHeadConfig(HeadBase):
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


# every head kind's options, in the order the schema and error messages list them
Head = Annotated[
    RetinaHeadConfig
    | SegHeadConfig
    | ClsHeadConfig
    | PythonHead
    | PartHead,
    Field(discriminator="kind"),
]
HEAD_OPTIONS: tuple[type[HeadBase], ...] = get_args(get_args(Head)[0])
