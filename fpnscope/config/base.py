"""Shared pieces of the preset schema: the strict base model and the value types.

Pure data, no torch. Every model forbids unknown keys and names the closest valid key, so a
misspelt ``out_chanels`` is caught with its fix rather than silently ignored; a key that exists
for other kinds but makes no sense for this one is refused with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

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


class Strict(BaseModel):
    """Frozen, and any key it does not know is an error that suggests the closest known key."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # keys other kinds have that make no sense here, with the reason (checked before unknown keys)
    not_applicable: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _applicable_keys_only(cls, data: Any) -> Any:
        # unknown keys are refused by extra="forbid", every one of them in the same error (the
        # message and the closest key come from fpnscope.config.validate); a key another kind has,
        # which this one keeps only for its parent's sake, is refused here with the reason
        if isinstance(data, dict):
            for key in data:
                if key in cls.not_applicable:
                    raise PydanticCustomError(
                        "not_applicable",
                        "'{key}' does not apply here: {reason}",
                        {"key": str(key), "reason": cls.not_applicable[key]},
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
    Literal["auto"] | tuple[int, ...],
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
# Bounds that keep an analysis of absurd input short: no real pyramid comes near them
MAX_WIDTH, MAX_REPEATS = 1 << 16, 64
Width = Annotated[int, Field(gt=0, le=MAX_WIDTH, description=f"channels, at most {MAX_WIDTH}")]
Repeats = Annotated[int, Field(gt=0, le=MAX_REPEATS)]
PositiveInts = Annotated[tuple[PositiveInt, ...], Field(min_length=1)]
NonNegativeInts = Annotated[tuple[NonNegativeInt, ...], Field(min_length=1)]
LevelNames = Annotated[tuple[str, ...], Field(min_length=1)]
Norm = Literal["none", "bn", "gn"]
Act = Literal["none", "relu", "silu"]


def check_groups(norm: str, channels: int, groups: int, what: str) -> None:
    """GroupNorm needs ``channels`` divisible by ``groups``; say which keys to change."""
    if norm == "gn" and channels % groups:
        raise ValueError(
            f"norm: gn needs {what} ({channels}) divisible by gn_groups ({groups}); change one of them"
        )
