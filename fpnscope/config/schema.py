"""The preset format: a model is an input, a backbone, a neck and an optional head.

One pydantic model per kind, discriminated on ``kind``; the kinds live in ``backbones``,
``necks`` and ``heads`` beside this file and are re-exported here.
"""

from __future__ import annotations

from pydantic import Field, PositiveInt

from fpnscope.config.backbones import (
    TORCHVISION_RESNETS,
    Backbone,
    PythonBackbone,
    SyntheticBackbone,
    TimmBackbone,
    TorchvisionBackbone,
)
from fpnscope.config.base import Strict
from fpnscope.config.heads import ClsHeadConfig, Head, RetinaHeadConfig, SegHeadConfig
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
    "ExtraLevels",
    "FPNNeck",
    "IdentityNeck",
    "InputConfig",
    "PAFPNNeck",
    "PresetConfig",
    "PythonBackbone",
    "RetinaHeadConfig",
    "SegHeadConfig",
    "SimpleFPNNeck",
    "SyntheticBackbone",
    "TimmBackbone",
    "TorchvisionBackbone",
    "YoloPANNeck",
]


class InputConfig(Strict):
    """The input the model is analysed at (``--input`` and ``--batch`` override it)."""

    height: PositiveInt = 800
    width: PositiveInt = 1333
    batch: PositiveInt = 1
    channels: PositiveInt = 3


class PresetConfig(Strict):
    """A whole model: backbone -> neck -> optional head, analysed at ``input``."""

    name: str | None = None
    description: str = ""
    input: InputConfig = Field(default_factory=InputConfig)
    backbone: Backbone
    neck: Neck
    head: Head | None = None
