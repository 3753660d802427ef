"""The keys of a stage made of the user's own code: what to call, with which arguments, how its
forward takes and returns levels, and (for a whole model from another library) which part it is.

A ``target`` is ``"package.module:attr"`` in a file; from Python it may be the object itself (a
module instance, a class or a factory). Both run the user's code, which is why
``fpnscope.config.trust`` asks before a file's target is imported.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator

from fpnscope.config.base import PositiveInts, Strict

_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_ATTRIBUTES = re.compile(r"^[A-Za-z_]\w*(\.\w+)*$")


def _target(value: Any) -> Any:
    if isinstance(value, str):
        if not _PATH.match(value):
            raise ValueError(f"{value!r} is not 'package.module:factory' (a module path, a colon, a name in it)")
        return value
    if callable(value):
        return value  # an object given from Python: a module, a class or a factory
    raise ValueError(f"expected 'package.module:factory', or from Python a module or a callable; got {type(value).__name__}")


def target_label(value: Any) -> str:
    """How saved configurations and cache keys name a target: its path, or the object's type and
    identity (two objects of one class are two models)."""
    if isinstance(value, str):
        return value
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"<{name} at {id(value):#x}>"


def target_title(value: Any) -> str:
    """How a report's header names a target: its path, or what the object is (``KeypointRCNN``,
    ``NaiveFPN``, ``make_neck``), without the address that only a cache key needs."""
    if isinstance(value, str):
        return value
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return name.rsplit(".", 1)[-1]  # a qualname's last part: make_neck of test.<locals>.make_neck


Target = Annotated[
    Any,
    BeforeValidator(_target),
    PlainSerializer(target_label, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _PATH.pattern,
                    "description": "package.module:factory, found next to the YAML file, in the current folder or on PYTHONPATH"}),
]
InputForm = Literal["auto", "list", "dict"]


class CodeStage(Strict):
    """Keys shared by every stage of the user's code."""

    target: Target
    kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="arguments of the factory; in_channels: auto is replaced by the measured channels of the "
        "levels the stage receives",
    )


class Declared(Strict):
    """Channels and strides a stage may declare for the levels it returns (else they are measured)."""

    channels: PositiveInts | None = None
    strides: PositiveInts | None = None

    @model_validator(mode="after")
    def _paired(self) -> Declared:
        if (self.channels is None) != (self.strides is None):
            raise ValueError("declare both channels and strides, or neither")
        if self.channels is not None and len(self.channels) != len(self.strides or ()):
            raise ValueError("channels and strides must have the same length")
        return self


def _attributes(value: Any) -> Any:
    if not isinstance(value, str) or not _ATTRIBUTES.match(value):
        raise ValueError(f"{value!r} is not an attribute path of the model, like backbone.body")
    return value


AttributePath = Annotated[str, BeforeValidator(_attributes)]


class ModelSection(Strict):
    """A whole model from a library or the user's code, whose stages are named parts of it:
    ``stages: {backbone: backbone.body, neck: backbone.fpn, head: head}``."""

    target: Target
    kwargs: dict[str, Any] = Field(default_factory=dict)
    stages: dict[Literal["backbone", "neck", "head"], AttributePath] | None = Field(
        default=None, description="shorthand: the attribute path of each stage (written out as kind: part sections)"
    )
